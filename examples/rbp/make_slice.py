"""Regenerate this folder's PUM2 slice from ../shared/data/pysster_rbp_clip (seeded, deterministic).

Usage: python examples/rbp/make_slice.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {"train": 400, "test": 150}  # per class


def read(path: Path) -> list[tuple[str, str]]:
    recs, head, seq = [], None, []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(">"):
                if head is not None:
                    recs.append((head, "".join(seq)))
                head, seq = line[1:], []
            elif line:
                seq.append(line)
    if head is not None:
        recs.append((head, "".join(seq)))
    return recs


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data" / "pysster_rbp_clip"
    for split, n in SIZES.items():
        for cls in ("positive", "negative"):
            recs = read(src / f"pum2.{split}.{cls}.fasta.gz")
            pick = random.Random(f"pum2-{split}-{cls}-42").sample(recs, n)
            with gzip.GzipFile(HERE / f"pum2.{split}.{cls}.fasta.gz", "wb", mtime=0) as fh:
                fh.write("".join(f">{h}\n{s}\n" for h, s in pick).encode())


if __name__ == "__main__":
    main()
