"""Inputs of the motif stage from files: a local sequence-model bundle and the sequences to interpret."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.common.errors import InputError

__all__ = ["find_bundle_dir", "load_local_bundle", "read_sequences"]


def find_bundle_dir(root: str | Path) -> Path | None:
    """The shallowest folder under ``root`` holding a ``bundle.json`` (None when there is none)."""
    hits = sorted(Path(root).rglob("bundle.json"), key=lambda p: len(p.parts))
    return hits[0].parent if hits else None


def load_local_bundle(folder: str | Path) -> Any:
    """The sequence model in ``folder`` (a bundle, or a folder that holds one: ``sequence --out-dir``)."""
    from components.seqmodels.bundle import load_bundle

    local = Path(folder)
    if not local.is_dir():
        raise InputError("model folder does not exist", file=local)
    found = find_bundle_dir(local)
    if found is None:
        raise InputError("not a sequence model: no bundle.json in the folder", file=local)
    return load_bundle(found)


def read_sequences(files: Sequence[str | Path]) -> tuple[list[str], Any]:
    """Sequences (and labels when the files define classes) for interpretation.

    FASTA files, ``NAME=FILE`` per class or tables; through ``components.seqmodels.data.load_data``
    when it can derive a task, otherwise plain FASTA records without labels.
    """
    from components.common.io import read_fasta
    from components.seqmodels.data import load_data

    try:
        data, _ = load_data([str(f) for f in files])
        return list(data.sequences), data.y
    except InputError:
        if any("=" in str(f) for f in files):
            raise
        seqs: list[str] = []
        for f in files:
            seqs += [s for _, s, _ in read_fasta(f)]
        return seqs, None
