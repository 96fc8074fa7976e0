"""Read a WT structure and write variant PDB files."""

from __future__ import annotations

from pathlib import Path

import biotite.structure as struc
import numpy as np

from components.common.errors import InputError

__all__ = ["load_structure", "write_pdb"]


def load_structure(path: str | Path) -> struc.AtomArray:
    """First model of a PDB/mmCIF file as a heavy-atom ``AtomArray`` (ENCoM's reader when present)."""
    import importlib

    try:  # the project's reader (ENCoM component) when present; errors name the file
        reader = getattr(importlib.import_module("components.encom"), "read_structure", _read_structure)
    except ImportError:
        reader = _read_structure
    atoms = reader(path)
    elem = np.char.upper(atoms.element.astype(str))
    return atoms[(elem != "H") & (elem != "D")]


def _read_structure(path: str | Path) -> struc.AtomArray:
    path = Path(path)
    if not path.is_file():
        raise InputError("file does not exist", file=path)
    try:
        if path.suffix.lower() in (".cif", ".mmcif", ".bcif"):
            from biotite.structure.io import pdbx

            atoms = pdbx.get_structure(pdbx.CIFFile.read(str(path)), model=1)
        else:
            from biotite.structure.io import pdb

            atoms = pdb.PDBFile.read(str(path)).get_structure(model=1)
    except Exception as exc:  # biotite raises several types for malformed files
        raise InputError(
            f"cannot parse structure: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}",
            file=path,
        ) from exc
    if atoms.array_length() == 0:
        raise InputError("no atoms in the first model", file=path)
    return atoms


def write_pdb(structure: struc.AtomArray, path: str | Path) -> Path:
    """Write ``structure`` as a PDB file (atoms renumbered from 1)."""
    from biotite.structure.io import pdb

    out = structure.copy()
    if "atom_id" in out.get_annotation_categories():
        out.atom_id = np.arange(1, out.array_length() + 1)
    f = pdb.PDBFile()
    f.set_structure(out)
    f.write(str(path))
    return Path(path)
