"""Reading PDB / mmCIF files into a biotite ``AtomArray`` with NRGTEN's rules.

Rules (NRGTEN 1.2.9, ``parser.py`` / ``residue_list.py``): ``ATOM`` and ``HETATM`` records of the first
model are read; hydrogens are dropped (atom name starting with ``H`` or with a digit followed by ``H``, or
element ``H``); for alternate locations, the first altloc letter seen for a residue wins and the other
letters of that residue are ignored, and an alternate atom whose name is already present is ignored.
Residue names are checked later, when beads are defined (:mod:`components.encom.beads`).
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import numpy as np
from biotite.structure import AtomArray

from components.common.errors import InputError

__all__ = ["read_structure", "drop_hydrogens", "find_pdb_line"]

_PDB_SUFFIXES = {".pdb", ".ent", ".pdb1"}
_CIF_SUFFIXES = {".cif", ".mmcif", ".pdbx"}


def _open_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError("file does not exist", file=path)
    if path.is_dir():
        raise InputError("is a directory, expected a structure file", file=path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except OSError as exc:
            raise InputError(f"cannot decompress: {exc}", file=path) from exc
    if not data.strip():
        raise InputError("file is empty", file=path)
    return data


def _sniff_format(path: Path, text: str) -> str:
    suffixes = [s.lower() for s in path.suffixes if s.lower() != ".gz"]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _PDB_SUFFIXES:
        return "pdb"
    if suffix in _CIF_SUFFIXES:
        return "cif"
    head = text[:20000]
    if head.lstrip().startswith("data_"):
        return "cif"
    if any(line[:6] in ("ATOM  ", "HETATM") or line.startswith("ATOM") for line in head.splitlines()):
        return "pdb"
    raise InputError(
        "not a structure file (expected PDB .pdb/.ent or mmCIF .cif, optionally gzipped)", file=path
    )


def _nrgten_altloc_filter(atoms: AtomArray, altloc: np.ndarray) -> np.ndarray:
    """Keep mask implementing NRGTEN's per-residue 'first altloc seen wins' rule."""
    blank = np.isin(altloc, ["", " ", ".", "?"])
    if blank.all():
        return np.ones(len(altloc), dtype=bool)
    keep = np.ones(len(altloc), dtype=bool)
    first_alt: dict[tuple, str] = {}
    seen_names: dict[tuple, set[str]] = {}
    for k in range(len(altloc)):  # only runs for files that do have altlocs
        key = (atoms.res_name[k], int(atoms.res_id[k]), atoms.ins_code[k], atoms.chain_id[k])
        if not blank[k]:
            first = first_alt.setdefault(key, altloc[k])
            if altloc[k] != first:
                keep[k] = False
                continue
        names = seen_names.setdefault(key, set())
        if atoms.atom_name[k] in names and not blank[k]:
            keep[k] = False
            continue
        names.add(atoms.atom_name[k])
    return keep


def drop_hydrogens(atoms: AtomArray) -> AtomArray:
    """Remove hydrogens as NRGTEN does (name ``H*``, digit + ``H*``, or element ``H``)."""
    two = np.asarray(atoms.atom_name, dtype=str).astype("U2")  # first two characters
    first = two.astype("U1")
    second = np.array([s[1:2] for s in two.tolist()]) if len(two) else two
    is_h = (first == "H") | (np.char.isdigit(first) & (second == "H"))
    is_h |= np.char.upper(np.asarray(atoms.element, dtype=str)) == "H"
    return atoms[~is_h] if is_h.any() else atoms


def _first_model_atom_lines(text: str) -> list[str]:
    """ATOM/HETATM lines of the first model (all of them when the file has no MODEL record first)."""
    lines = text.splitlines()
    out: list[str] = []
    in_model = False
    seen_model = False
    for line in lines:
        if line.startswith(("ATOM", "HETATM")):
            out.append(line)
        elif line.startswith("MODEL"):
            if seen_model and out:
                break
            seen_model, in_model = True, True
        elif line.startswith("ENDMDL") and in_model and out:
            break
    return out


def _read_pdb_columns(text: str) -> tuple[AtomArray, np.ndarray] | None:
    """Fast fixed-column PDB reader (numpy), or None when the file needs biotite's general reader.

    Gives the same ``AtomArray`` as ``PDBFile.get_structure(model=1, altloc="all", extra_fields=["atom_id"])``
    for ordinary files (no hybrid-36 numbers, element column filled); the tests compare both readers.
    """
    atom_lines = _first_model_atom_lines(text)
    if not atom_lines:
        return None
    n = len(atom_lines)
    try:
        raw = "".join(line[:80].ljust(80) for line in atom_lines).encode("ascii")
    except UnicodeEncodeError:
        return None
    cols = np.frombuffer(raw, dtype=np.uint8).reshape(n, 80)

    def field(a: int, b: int) -> np.ndarray:
        return np.ascontiguousarray(cols[:, a:b]).view(f"S{b - a}").ravel()

    try:
        coord = np.stack([field(30, 38), field(38, 46), field(46, 54)], axis=1).astype(np.float64)
        res_id = field(22, 26).astype(np.int64)
        atom_id = field(6, 11).astype(np.int64)
    except ValueError:
        return None
    element = np.char.strip(field(76, 78).astype(str))
    if np.any(element == ""):
        return None
    atoms = AtomArray(n)
    atoms.coord = coord
    atoms.chain_id = np.char.strip(field(21, 22).astype(str))
    atoms.res_id = res_id
    atoms.ins_code = np.char.strip(field(26, 27).astype(str))
    atoms.res_name = np.char.strip(field(17, 20).astype(str))
    atoms.hetero = field(0, 6) == b"HETATM"
    atoms.atom_name = np.char.strip(field(12, 16).astype(str))
    atoms.element = np.char.upper(element)
    atoms.set_annotation("atom_id", atom_id)
    altloc = np.char.strip(field(16, 17).astype(str))
    return atoms, altloc


def read_structure(path: str | Path, *, fast: bool = True) -> AtomArray:
    """Read the first model of a PDB or mmCIF file (optionally gzipped) as an ``AtomArray``.

    Hydrogens are removed and alternate locations resolved as NRGTEN does; ``HETATM`` records are kept.
    The array carries the annotations ``chain_id, res_id, ins_code, res_name, atom_name, element,
    hetero`` and ``atom_id`` (the serial number). With ``fast`` (default), ordinary PDB files are read
    by a vectorized fixed-column reader that gives the same array as biotite's reader (which handles
    every other case: mmCIF, hybrid-36 serials, missing element columns).

    Raises
    ------
    InputError
        Missing/empty file, unknown format, unparsable content, or no atom records.
    """
    path = Path(path)
    data = _open_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("not a structure file (binary content)", file=path) from None
    kind = _sniff_format(path, text)
    try:
        columns = _read_pdb_columns(text) if (fast and kind == "pdb") else None
        if columns is not None:
            atoms, altloc = columns
        elif kind == "pdb":
            from biotite.structure.io import pdb

            pdb_file = pdb.PDBFile.read(io.StringIO(text))
            if not any(line.startswith(("ATOM", "HETATM")) for line in pdb_file.lines):
                raise InputError("no ATOM/HETATM records: no atoms to model", file=path)
            atoms = pdb_file.get_structure(model=1, altloc="all", extra_fields=["atom_id"])
            altloc = np.asarray(atoms.altloc_id, dtype=str)
            atoms.del_annotation("altloc_id")
        else:
            from biotite.structure.io import pdbx

            cif_file = pdbx.CIFFile.read(io.StringIO(text))
            if not any("atom_site" in block for block in cif_file.values()):
                raise InputError("no atom_site category: no atoms to model", file=path)
            atoms = pdbx.get_structure(cif_file, model=1, altloc="all", extra_fields=["atom_id"])
            altloc = np.asarray(atoms.altloc_id, dtype=str)
            atoms.del_annotation("altloc_id")
    except InputError:
        raise
    except Exception as exc:  # biotite raises several types for malformed files
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot parse as {kind.upper()}: {msg}", file=path) from exc
    if atoms.array_length() == 0:
        raise InputError("no atoms in the first model", file=path)
    atoms = atoms[_nrgten_altloc_filter(atoms, altloc)]
    atoms = drop_hydrogens(atoms)
    if atoms.array_length() == 0:
        raise InputError("no heavy atoms (only hydrogens)", file=path)
    return atoms


def find_pdb_line(
    path: str | Path, res_name: str, chain_id: str, res_id: int, ins_code: str = ""
) -> int | None:
    """1-based line number of the first ATOM/HETATM record of a residue in a PDB file, or None."""
    try:
        text = _open_bytes(Path(path)).decode("utf-8", errors="replace")
    except InputError:
        return None
    chain = chain_id if chain_id else " "
    ins = ins_code if ins_code else " "
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.startswith(("ATOM", "HETATM")) and len(line) >= 27:
            try:
                rid = int(line[22:26])
            except ValueError:
                continue
            if line[17:20].strip() == res_name and line[21] == chain and rid == res_id and line[26] == ins:
                return lineno
    return None
