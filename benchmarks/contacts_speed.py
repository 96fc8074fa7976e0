"""Speed of the Vcontacts-equivalent contact areas (components.encom.contacts), one core.

    python benchmarks/contacts_speed.py [--n 30] [--repeat 5]

Reads ``--n`` miR-125a variant structures from ``../shared/data/mir125a/variants_sample`` (heavy atoms
in file order), calls ``contact_areas`` ``--repeat`` times on each after one warm-up call (which also
compiles or loads the numba kernels), and prints one JSON line: median and min wall time per structure
(ms), CPU time per structure (ms), atoms and pairs per structure, and the cold first-call time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO.parent / "shared" / "data" / "mir125a" / "variants_sample"


def read_heavy_atoms(path: Path) -> tuple[np.ndarray, list[str], list[str]]:
    xyz, names, res = [], [], []
    for line in path.read_text().splitlines():
        if line.startswith(("ATOM  ", "HETATM")) and line[13] != "H" and line[16] in " A":
            names.append(line[12:16].strip())
            res.append(line[17:20].strip())
            xyz.append([float(line[30:38]), float(line[38:46]), float(line[46:54])])
    return np.array(xyz), names, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sample-dir", type=Path, default=SAMPLE)
    args = ap.parse_args()
    files = sorted(args.sample_dir.glob("*.pdb"))[: args.n]
    if not files:
        raise SystemExit(f"no PDB files in {args.sample_dir}")
    t0 = time.perf_counter()
    from components.encom.contacts import contact_areas, vcontacts_radii

    xyz, names, res = read_heavy_atoms(files[0])
    contact_areas(xyz, vcontacts_radii(names, None, res))
    cold_s = time.perf_counter() - t0
    wall, cpu, atoms, pairs = [], [], [], []
    for f in files:
        xyz, names, res = read_heavy_atoms(f)
        for _ in range(args.repeat):
            w, c = time.perf_counter(), time.process_time()
            radii = vcontacts_radii(names, None, res)
            i, _j, _a = contact_areas(xyz, radii)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
        atoms.append(len(xyz))
        pairs.append(len(i))
    print(
        json.dumps(
            {
                "benchmark": "encom_contacts",
                "structures": len(files),
                "repeat": args.repeat,
                "atoms_median": int(statistics.median(atoms)),
                "pairs_median": int(statistics.median(pairs)),
                "wall_ms_median": round(1e3 * statistics.median(wall), 2),
                "wall_ms_min": round(1e3 * min(wall), 2),
                "cpu_ms_median": round(1e3 * statistics.median(cpu), 2),
                "first_call_s": round(cold_s, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
