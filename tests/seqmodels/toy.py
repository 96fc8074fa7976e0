"""Tiny synthetic sequence data for the seqmodels tests (planted motif = positive class)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

MOTIF = "UGUAAAUA"


def random_seqs(n: int, length: int, seed: int, motif: str | None = None, letters: str = "ACGU") -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        s = "".join(rng.choice(list(letters), size=length))
        if motif:
            p = int(rng.integers(0, length - len(motif)))
            s = s[:p] + motif + s[p + len(motif) :]
        out.append(s)
    return out


def write_fasta(path: Path, seqs: list[str], structures: list[str] | None = None) -> Path:
    lines = []
    for i, s in enumerate(seqs):
        lines += [f">seq{i}", s] + ([structures[i]] if structures else [])
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def binary_fastas(tmp: Path, n: int = 120, length: int = 40, seed: int = 0) -> tuple[Path, Path]:
    pos = write_fasta(tmp / "bound.fa.gz", random_seqs(n, length, seed, MOTIF))
    neg = write_fasta(tmp / "unbound.fa", random_seqs(n, length, seed + 1))
    return pos, neg
