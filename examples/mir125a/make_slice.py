"""Regenerate this folder's slice from the full miR-125a data (``../shared/data/mir125a`` beside the repo).

Run from the repository root: ``python examples/mir125a/make_slice.py``. Deterministic (``random.Random(125)``).
"""

from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[2] / "shared" / "data" / "mir125a"
PLAN = [(3, 120), (4, 60), (5, 60), (6, 60)]  # (mutation count, variants sampled)


def main() -> int:
    if not SRC.exists():
        print(f"error: {SRC} not found", file=sys.stderr)
        return 2
    df = pd.read_csv(SRC / "variants.csv")
    labelled = df[df.eff.notna() & (df.region == "basal")]
    rng = random.Random(125)
    picked: list[str] = []
    for n_mut, k in PLAN:
        picked += rng.sample(sorted(labelled[labelled.n_mut == n_mut].file_id), k)
    sub = labelled.set_index("file_id").loc[sorted(picked)].reset_index()
    out = pd.DataFrame(
        {
            "variant": sub.mutations,
            "n_mut": sub.n_mut,
            "eff": sub.eff,
            "mcfold_energy": sub.mcfold_energy,
            "file_id": sub.file_id,
        }
    )
    out.to_csv(HERE / "variants.csv", index=False)
    shutil.copyfile(SRC / "mir125a_WT.pdb", HERE / "mir125a_WT.pdb")
    print(f"wrote {len(out)} variants: {out.n_mut.value_counts().sort_index().to_dict()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
