"""Write the side-chain mutants of NRGTEN's ``test_medium.pdb`` whose contact areas are golden files.

Two steps, two environments::

    # 1. project environment: the mutants, made by components.mutation
    python tests/encom/data/contacts/make_mutant_pdbs.py benchmarks/out/mutants
    # 2. oracle environment (nrgten==1.2.9, pyvcon==1.0.2; never the project venv)
    python tests/encom/data/contacts/make_contacts_golden.py --out tests/encom/data/contacts/mutants benchmarks/out/mutants/*.pdb

Vcontacts (the compiled program inside pyvcon) dies with a segmentation fault on 18 of the 152 single
substitutions of this 8-residue peptide, among them every variant in ``CRASHING`` below. For those, step 1
also writes ``<stem>_spectator.pdb``: the same atoms plus one glycine (chain B) 60 A away. The spectator
touches no atom, but it widens Vcontacts' 7 A grid past 2 boxes, and NRGTEN then runs to the end; its
areas between the peptide's own atoms are the reference for the peptide alone. On the 134 variants where
Vcontacts survives without the spectator, adding it changes no area (checked when these files were
made), which is what makes it a fair reference.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", HERE.parents[3].parent / "shared" / "data"))
SOURCE = SHARED / "nrgten_test_structures" / "test_medium.pdb"
CRASHING = ["L92A", "L92C", "L92N", "L92P", "L92S", "L92T", "L92V", "Y95A", "Y95D", "Y95P", "Y95T", "Y95C"]
SURVIVING = ["L92F", "Y95F", "K97R"]
SPECTATOR = [
    ("N", 0.0, 0.0, 0.0),
    ("CA", 1.458, 0.0, 0.0),
    ("C", 2.009, 1.420, 0.0),
    ("O", 1.251, 2.390, 0.0),
]
SHIFT = (60.0, 40.0, 70.0)


def write_mutant(wt, variant: str, out_dir: Path, spectator: bool) -> Path:
    import biotite.structure.io.pdb as pdb

    from components.mutation import mutate

    mutant = mutate(wt, variant)
    mutant.atom_id = np.arange(1, mutant.array_length() + 1)
    path = out_dir / f"test_medium_{variant}.pdb"
    f = pdb.PDBFile()
    f.set_structure(mutant)
    f.write(path)
    if not spectator:
        return path
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith("ATOM")]
    n = len(lines)
    for k, (name, x, y, z) in enumerate(SPECTATOR):
        lines.append(
            f"ATOM  {n + k + 1:5d}  {name:<3s} GLY B   1    {x + SHIFT[0]:8.3f}{y + SHIFT[1]:8.3f}{z + SHIFT[2]:8.3f}"
            f"  1.00  0.00           {name[0]}  "
        )
    spec = out_dir / f"test_medium_{variant}_spectator.pdb"
    spec.write_text("\n".join(lines) + "\nEND\n")
    path.unlink()
    return spec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--source", type=Path, default=SOURCE)
    args = ap.parse_args(argv)
    from components.mutation.io import load_structure

    args.out_dir.mkdir(parents=True, exist_ok=True)
    wt = load_structure(args.source)
    for variant in CRASHING:
        print(write_mutant(wt, variant, args.out_dir, spectator=True))
    for variant in SURVIVING:
        print(write_mutant(wt, variant, args.out_dir, spectator=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
