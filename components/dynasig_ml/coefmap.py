"""LASSO coefficients mapped onto the wild-type structure (DynaSig-ML's ``map_coefficients``).

Each signature coefficient belongs to one ENCoM bead; it is written on **every atom of that bead**
(bead definitions from :mod:`components.encom.beads`, the same ones the signatures were computed with):
B-factor = |c| / max|c| and occupancy = c / max|c| (signed), in a PDB of the bead atoms. A PyMOL script
colours by occupancy (``spectrum q, blue_white_red, minimum=-1, maximum=1``) and widens the cartoon by
B-factor (``cartoon putty``). A CSV lists one row per bead.

Differences from DynaSig-ML's file (``reference_outputs/coefficients_*.pdb``): the same atoms (bead
atoms; the 5' O5' and the 3' O3' are in no bead) and the same 2-decimal values, but atoms are written
in their input order (DynaSig-ML groups them bead by bead, so each O3' appears after the next
residue's base), with ``TER``/``END`` records, and ``-0.00`` is written ``0.00``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.errors import InputError
from components.common.io import atomic_path, write_table
from components.encom.params import DEFAULT_PARAMS

__all__ = ["CoefficientMap", "map_coefficients", "pdb_atom_line", "PML_TEMPLATE", "bead_key"]

PML_TEMPLATE = """# DynaSig-ML LASSO coefficients: occupancy = signed c/max|c|, B-factor = |c|/max|c|
load {pdb}, coefficients
hide everything, coefficients
show cartoon, coefficients
set cartoon_ring_mode, 3
cartoon putty, coefficients
spectrum q, blue_white_red, coefficients, minimum=-1, maximum=1
orient coefficients
"""


@dataclass(frozen=True)
class CoefficientMap:
    """Paths written by :func:`map_coefficients` and the per-bead table."""

    pdb: Path
    pml: Path
    csv: Path
    table: pd.DataFrame
    n_atoms: int


def bead_key(label: str) -> tuple[str, str, str]:
    """``(bead, resnum, chain)`` of a label in NRGTEN (``U.S|12|A|12``) or DynaSig-ML (``S|12|A|12``) form."""
    parts = label.split("|")
    if len(parts) < 3:
        raise InputError(f"bad bead label {label!r} (expected like 'S|12|A|12')")
    return parts[0].split(".")[-1], parts[1], parts[2]


def _atom_name_field(name: str, element: str) -> str:
    if len(name) >= 4 or len(element.strip()) == 2:
        return f"{name:<4s}"[:4]
    return f" {name:<3s}"


def pdb_atom_line(
    serial: int,
    name: str,
    res_name: str,
    chain: str,
    res_id: int,
    ins_code: str,
    xyz: Sequence[float],
    occupancy: float,
    b_factor: float,
    element: str,
    hetero: bool = False,
) -> str:
    """One fixed-column PDB ``ATOM``/``HETATM`` record (80 columns)."""
    rec = "HETATM" if hetero else "ATOM  "
    occ = 0.0 if round(occupancy, 2) == 0 else occupancy
    bf = 0.0 if round(b_factor, 2) == 0 else b_factor
    line = (
        f"{rec}{serial % 100000:5d} {_atom_name_field(name, element)} {res_name:>3s} {chain[:1]:1s}"
        f"{res_id:4d}{(ins_code or ' ')[:1]:1s}   {xyz[0]:8.3f}{xyz[1]:8.3f}{xyz[2]:8.3f}"
        f"{occ:6.2f}{bf:6.2f}          {element.strip().upper():>2s}  "
    )
    return line


def map_coefficients(
    structure: str | Path | Any,
    labels: Sequence[str],
    coefs: np.ndarray,
    out_dir: str | Path,
    *,
    prefix: str = "coefficients",
    params: str = DEFAULT_PARAMS,
) -> CoefficientMap:
    """Write ``<prefix>.pdb``, ``<prefix>.pml`` and ``<prefix>_by_bead.csv`` into ``out_dir``.

    Parameters
    ----------
    structure
        WT structure: a path or a biotite ``AtomArray``.
    labels : sequence of str, (N,)
        Bead label of each coefficient (signature column order).
    coefs : ndarray, (N,)
        Raw coefficients; normalised here by max|c| (all zero stays zero).
    params
        ENCoM parameter set whose bead definitions apply.

    Raises
    ------
    InputError
        When a label has no bead in ``structure`` or the lengths differ.
    """
    from biotite.structure import AtomArray

    from components.encom.beads import build_beads
    from components.encom.params import resolve_params
    from components.encom.structure import drop_hydrogens, read_structure

    coefs = np.asarray(coefs, dtype=float).ravel()
    if coefs.size != len(labels):
        raise InputError(f"{coefs.size} coefficients for {len(labels)} bead labels")
    atoms = read_structure(structure) if not isinstance(structure, AtomArray) else drop_hydrogens(structure)
    if "atom_id" not in atoms.get_annotation_categories():
        atoms = atoms.copy()
        atoms.set_annotation("atom_id", np.arange(1, atoms.array_length() + 1))
    beads = build_beads(atoms, resolve_params(params))
    index = {bead_key(lab): i for i, lab in enumerate(beads.labels)}
    top = float(np.max(np.abs(coefs))) if coefs.size else 0.0
    norm = coefs / top if top > 0 else np.zeros_like(coefs)
    per_bead = np.full(beads.n_beads, np.nan)
    rows = []
    for i, (lab, c, cn) in enumerate(zip(labels, coefs, norm, strict=True)):
        key = bead_key(lab)
        if key not in index:
            raise InputError(f"bead {lab!r} of the model is not in the structure")
        per_bead[index[key]] = cn
        rows.append(
            {
                "bead_index": i,
                "label": lab,
                "bead": key[0],
                "position": int(key[1].rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ") or 0),
                "chain": key[2],
                "coefficient": c,
                "coef_norm": cn,
                "abs_coef_norm": abs(cn),
            }
        )
    serial_value = dict(zip(beads.atom_serial.tolist(), per_bead[beads.atom_bead].tolist(), strict=True))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdb_path = out_dir / f"{prefix}.pdb"
    lines = []
    prev_chain = None
    ids = np.asarray(atoms.atom_id)
    for k in range(atoms.array_length()):
        value = serial_value.get(int(ids[k]))
        if value is None:
            continue
        value = 0.0 if np.isnan(value) else value
        chain = str(atoms.chain_id[k])
        if prev_chain is not None and chain != prev_chain:
            lines.append("TER")
        prev_chain = chain
        lines.append(
            pdb_atom_line(
                int(ids[k]),
                str(atoms.atom_name[k]),
                str(atoms.res_name[k]),
                chain,
                int(atoms.res_id[k]),
                str(atoms.ins_code[k]),
                atoms.coord[k],
                value,
                abs(value),
                str(atoms.element[k]),
                bool(atoms.hetero[k]),
            )
        )
    lines += ["TER", "END"]
    with atomic_path(pdb_path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    pml_path = out_dir / f"{prefix}.pml"
    with atomic_path(pml_path) as tmp:
        tmp.write_text(PML_TEMPLATE.format(pdb=pdb_path.name))
    table = pd.DataFrame(rows)
    csv_path = write_table(table, out_dir / f"{prefix}_by_bead.csv")
    n_atoms = sum(1 for x in lines if x.startswith(("ATOM", "HETATM")))
    return CoefficientMap(pdb=pdb_path, pml=pml_path, csv=csv_path, table=table, n_atoms=n_atoms)
