"""Speed of ``components.mutation.mutate_many``: every miR-125a variant built in memory.

Reads ``../shared/data/mir125a/variants.csv`` (column ``mutations``; the WT row is left out), builds
all 29,477 variants from ``mir125a_WT.pdb`` on ONE core (no files written) and prints one JSON line:
validation time, build time, ms per variant. Usage::

    python benchmarks/mutation_speed.py [--limit N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "data"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=None)
    args = p.parse_args()
    import pandas as pd

    from components.mutation import Mutator
    from components.mutation.io import load_structure

    df = pd.read_csv(SHARED / "mir125a" / "variants.csv")
    texts = [t for t in df["mutations"].fillna("").tolist() if t][: args.limit]
    t0 = time.perf_counter()
    mutator = Mutator(load_structure(SHARED / "mir125a" / "mir125a_WT.pdb"))
    good, bad = mutator.validate(texts)
    t1 = time.perf_counter()
    n_atoms = 0
    for v in good:
        n_atoms += mutator.build(v.mutations).array_length()
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "variants": len(texts),
                "built": len(good),
                "rejected": len(bad),
                "cores": 1,
                "load_validate_seconds": round(t1 - t0, 2),
                "build_seconds": round(t2 - t1, 2),
                "total_seconds": round(t2 - t0, 2),
                "ms_per_variant": round(1000 * (t2 - t0) / max(len(texts), 1), 3),
                "mean_atoms": round(n_atoms / max(len(good), 1), 1),
            }
        )
    )


if __name__ == "__main__":
    main()
