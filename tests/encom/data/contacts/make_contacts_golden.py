"""Generate golden Vcontacts contact areas with the reference implementation (oracle).

Run in an environment with ``nrgten==1.2.9`` and ``pyvcon==1.0.2`` installed (never the project venv)::

    python make_contacts_golden.py [--out DIR] [PDB ...]

Without PDB arguments it uses the default set below, found under ``../shared/data`` beside the repository.
For each structure it builds ``nrgten.encom.ENCoM(pdb)`` with all defaults and intercepts the two calls that
NRGTEN makes for the contact term:

* ``pyvcon.vcontacts_wrapper.get_surface_dict(tmp_pdb, ...)``: a copy of the temporary PDB of the bead atoms
  that NRGTEN writes and hands to the compiled Vcontacts program (so the golden atom table is exactly
  Vcontacts' input, in file order);
* ``Macromol.get_surface_dict()``: the surface dict NRGTEN then uses, ``sd[serial_a][serial_b] = area``.

Output ``<stem>.npz`` (compressed) holds the atom table as Vcontacts reads it (its ``read_PDB`` keeps ATOM/
HETATM lines, drops altloc other than ' '/'A', HOH and names whose column 14 is 'H') and every directed pair
of the surface dict as indices into that table. Areas are stored as float32: Vcontacts keeps each area in a
C ``float`` and prints it with ``%.9g``, so the dict value is exactly ``float(f"{area_f32:.9g}")``; this script
asserts that for every pair.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
SHARED = REPO.parent / "shared" / "data"
DEFAULT_PDBS = [
    SHARED / "nrgten_test_structures" / "test_medium.pdb",
    SHARED / "mir125a" / "mir125a_WT.pdb",
    SHARED / "mir125a" / "variants_sample" / "mir125a_U15A_C16G_A71G_C73G.pdb",
    SHARED / "mir125a" / "variants_sample" / "mir125a_A12G.pdb",
]


def read_vcontacts_atoms(text: str) -> dict[str, np.ndarray]:
    """Parse a PDB text the way Vcontacts' ``read_PDB`` does (fixed columns, same skip rules)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("END"):
            break
        if not (line.startswith("ATOM  ") or line.startswith("HETATM")):
            continue
        line = line.ljust(80)
        if line[16] not in (" ", "A") or line[17:20] == "HOH" or line[13] == "H":
            continue
        rows.append(
            (
                int(line[6:11]),
                line[12:16],
                line[17:20],
                line[21],
                int(line[22:26]),
                line[76:78].strip(),
                # atof() -> double, then stored in a C float
                [np.float32(float(line[c : c + 8])) for c in (30, 38, 46)],
            )
        )
    return {
        "serial": np.array([r[0] for r in rows], dtype=np.int32),
        "name_field": np.array([r[1] for r in rows], dtype="<U4"),
        "atom_name": np.array([r[1].strip() for r in rows], dtype="<U4"),
        "res_field": np.array([r[2] for r in rows], dtype="<U3"),
        "res_name": np.array([r[2].strip() for r in rows], dtype="<U3"),
        "chain_id": np.array([r[3] for r in rows], dtype="<U1"),
        "res_id": np.array([r[4] for r in rows], dtype=np.int32),
        "element": np.array([r[5] for r in rows], dtype="<U2"),
        "coords": np.array([r[6] for r in rows], dtype=np.float32),
    }


def run_oracle(pdb: Path) -> tuple[str, dict[int, dict[int, float]]]:
    import nrgten.macromol as macromol
    import pyvcon.vcontacts_wrapper as vw
    from nrgten.encom import ENCoM

    captured: dict[str, object] = {}
    orig_wrapper = vw.get_surface_dict
    orig_method = macromol.Macromol.get_surface_dict

    def wrapper(pdb_filename, n_atoms, use_precomputed=False):
        captured["tmp_pdb"] = Path(pdb_filename).read_text()
        return orig_wrapper(pdb_filename, n_atoms, use_precomputed=use_precomputed)

    def method(self):
        sd = orig_method(self)
        captured["sd"] = sd
        return sd

    vw.get_surface_dict = wrapper
    macromol.Macromol.get_surface_dict = method
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # NRGTEN writes its temp PDB beside the input; work on a copy so the input folder stays clean
            local = Path(tmp) / pdb.name
            shutil.copyfile(pdb, local)
            ENCoM(str(local))
    finally:
        vw.get_surface_dict = orig_wrapper
        macromol.Macromol.get_surface_dict = orig_method
    return captured["tmp_pdb"], captured["sd"]  # type: ignore[return-value]


def make_golden(pdb: Path, out_dir: Path) -> dict[str, object]:
    tmp_text, sd = run_oracle(pdb)
    atoms = read_vcontacts_atoms(tmp_text)
    index = {int(s): k for k, s in enumerate(atoms["serial"])}
    if len(index) != len(atoms["serial"]):
        raise SystemExit(f"{pdb}: duplicate atom serials in the Vcontacts input")
    ii, jj, aa = [], [], []
    for a, row in sd.items():
        for b, area in row.items():
            ii.append(index[a])
            jj.append(index[b])
            aa.append(area)
    i = np.array(ii, dtype=np.int64)
    j = np.array(jj, dtype=np.int64)
    area64 = np.array(aa, dtype=np.float64)
    area32 = area64.astype(np.float32)
    back = np.array([float(f"{x:.9g}") for x in area32.tolist()])
    if not np.array_equal(back, area64):
        raise SystemExit(f"{pdb}: surface dict values are not %.9g renderings of float32 areas")
    order = np.lexsort((j, i))
    stem = pdb.stem
    np.savez_compressed(
        out_dir / f"{stem}.npz",
        **atoms,
        pair_i=i[order].astype(np.uint16),
        pair_j=j[order].astype(np.uint16),
        area_f32=area32[order],
    )
    return {"structure": pdb.name, "atoms": int(len(atoms["serial"])), "pairs": int(len(i))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdbs", nargs="*", type=Path, help="PDB files (default: the standard golden set)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: beside this script)")
    args = ap.parse_args(argv)
    import nrgten
    import pyvcon  # noqa: F401

    pdbs = args.pdbs or DEFAULT_PDBS
    info = []
    for pdb in pdbs:
        info.append(make_golden(pdb, args.out))
        print(json.dumps(info[-1]), flush=True)
    meta = {
        "nrgten": getattr(nrgten, "__version__", "1.2.9"),
        "pyvcon": "1.0.2",
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "structures": info,
    }
    (args.out / "golden_info.json").write_text(json.dumps(meta, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
