"""Base substitution for RNA and DNA on the existing sugar-phosphate backbone.

The new base comes from the ideal coordinates of the wwPDB Chemical Component Dictionary (as
shipped offline by biotite, ``biotite.structure.info.residue``). It is superposed onto the old base's
glycosidic frame, the way ModeRNA exchanges bases (Rother et al., Nucleic Acids Res 2011): the
purine atoms (N9, C4, C8) and the pyrimidine atoms (N1, C2, C6) correspond, so N9/N1 stays on the
glycosidic bond, the ring keeps the old base plane and the glycosidic torsion χ is kept. The fit
uses these three ring atoms, as ModeRNA does; then the base slides along the C1'->N direction so
that the glycosidic bond has its CCD length (ModeRNA skips this and leaves C1'-N bonds of up to
~1.6 Å after purine <-> pyrimidine swaps). Adding C1' to the fit (``anchor_c1=True``) moves the
base further from ModeRNA's models.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from components.mutation.geometry import apply_transform, superpose_transform
from components.mutation.ideal import ideal_residue

__all__ = ["BASE_ATOMS", "FRAME_ATOMS", "ideal_base", "place_base", "NucleotideBase"]

#: heavy base atoms per nucleotide residue name, in the CCD (= PDB) order
BASE_ATOMS: dict[str, tuple[str, ...]] = {
    "A": ("N9", "C8", "N7", "C5", "C6", "N6", "N1", "C2", "N3", "C4"),
    "G": ("N9", "C8", "N7", "C5", "C6", "O6", "N1", "C2", "N2", "N3", "C4"),
    "C": ("N1", "C2", "O2", "N3", "C4", "N4", "C5", "C6"),
    "U": ("N1", "C2", "O2", "N3", "C4", "O4", "C5", "C6"),
    "DA": ("N9", "C8", "N7", "C5", "C6", "N6", "N1", "C2", "N3", "C4"),
    "DG": ("N9", "C8", "N7", "C5", "C6", "O6", "N1", "C2", "N2", "N3", "C4"),
    "DC": ("N1", "C2", "O2", "N3", "C4", "N4", "C5", "C6"),
    "DT": ("N1", "C2", "O2", "N3", "C4", "O4", "C5", "C7", "C6"),
}
#: every atom name that belongs to some base (removed from the mutated residue)
ALL_BASE_ATOMS = frozenset(a for names in BASE_ATOMS.values() for a in names)
#: glycosidic frame: (C1', glycosidic N, ring atom next to it, other ring atom next to it)
FRAME_ATOMS = {"purine": ("C1'", "N9", "C4", "C8"), "pyrimidine": ("C1'", "N1", "C2", "C6")}


def _frame(res_name: str) -> tuple[str, ...]:
    return FRAME_ATOMS["purine" if res_name.lstrip("D") in ("A", "G") else "pyrimidine"]


@dataclass(frozen=True)
class NucleotideBase:
    """Ideal base of one residue type: atom names, elements, coordinates and the frame atoms."""

    res_name: str
    atom_names: tuple[str, ...]
    elements: tuple[str, ...]
    coords: np.ndarray  # (n, 3) base atoms, CCD ideal
    frame: np.ndarray  # (4, 3) C1', N9|N1, C4|C2, C8|C6 in the same ideal frame


@cache
def ideal_base(res_name: str) -> NucleotideBase:
    """Ideal heavy-atom base of ``res_name`` (A C G U DA DC DG DT) from the CCD."""
    if res_name not in BASE_ATOMS:
        raise ValueError(f"res_name must be one of {', '.join(BASE_ATOMS)}, got {res_name!r}")
    comp = ideal_residue(res_name)
    names = BASE_ATOMS[res_name]
    coords = np.array([comp.coords[comp.index(n)] for n in names], dtype=np.float64)
    elements = tuple(comp.elements[comp.index(n)] for n in names)
    frame = np.array([comp.coords[comp.index(n)] for n in _frame(res_name)], dtype=np.float64)
    return NucleotideBase(res_name, names, elements, coords, frame)


def place_base(
    old_frame: np.ndarray, old_res_name: str, new_res_name: str, *, anchor_c1: bool = False
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
    """Coordinates of the new base superposed on the old base's glycosidic frame.

    Parameters
    ----------
    old_frame
        ``(4, 3)``: the old residue's C1', N9|N1, C4|C2, C8|C6 (order of :data:`FRAME_ATOMS`).
    old_res_name, new_res_name
        Residue names (``"A"``, ``"DG"``...); ``old_res_name`` is only checked.
    anchor_c1
        Fit C1' too (4 points); ``False`` fits the three ring atoms only, exactly like ModeRNA.

    Returns
    -------
    atom_names, elements, coords
        The new base atoms in CCD order and their ``(n, 3)`` coordinates.
    """
    if old_res_name not in BASE_ATOMS:
        raise ValueError(f"old_res_name must be a nucleotide, got {old_res_name!r}")
    base = ideal_base(new_res_name)
    old_frame = np.asarray(old_frame, dtype=np.float64)
    sel = slice(0, 4) if anchor_c1 else slice(1, 4)
    rot, trans = superpose_transform(base.frame[sel], old_frame[sel])
    coords = apply_transform(base.coords, rot, trans)
    # the ring fit leaves N9/N1 up to ~0.1 A off the ideal glycosidic bond length when a purine
    # replaces a pyrimidine (or back; ModeRNA's models have C1'-N bonds up to ~1.6 A): slide the
    # base along the C1'->N direction to the CCD C1'-N length (orientation and chi unchanged)
    c1 = old_frame[0]
    n_glyco = coords[0]  # BASE_ATOMS lists the glycosidic N9|N1 first
    direction = (n_glyco - c1) / np.linalg.norm(n_glyco - c1)
    ideal_len = float(np.linalg.norm(base.frame[1] - base.frame[0]))
    coords = coords + (c1 + ideal_len * direction - n_glyco)
    return base.atom_names, base.elements, coords
