"""The signature cache of variants of one WT structure: chunked, content-keyed, resumable.

Variants are cut into chunks; each chunk's Entropic Signatures (mutation + ENCoM,
:func:`components.dynasig_ml.pipeline.variant_signatures`) are written atomically to
``<cache_dir>/<key>.npz`` where ``key`` (:func:`components.encom.cache.chunk_key`) covers the WT file's
bytes, the variant keys of the chunk, the β list and the ENCoM parameter values. A rerun (after a crash,
or another run on the same data) computes only the chunks whose file is missing. Every caller goes
through here: the Prefect flow (one task per chunk), ``python -m components.dynasig_ml`` and the
benchmarks (a process pool, :func:`compute_signature_chunks`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from components.dynasig_ml.data import SignatureSet, load_signatures, save_signatures
from components.encom.cache import chunk_key, structure_digest
from components.encom.params import DEFAULT_PARAMS

__all__ = [
    "SignatureChunk",
    "ChunkStats",
    "plan_chunks",
    "compute_chunk",
    "compute_signature_chunks",
    "load_chunks",
]


@dataclass(frozen=True)
class SignatureChunk:
    """One unit of signature work: variants of ``wt`` and the cache file they go to."""

    wt: Path
    variants: tuple[str, ...]
    betas: tuple[float, ...]
    params: str
    path: Path


@dataclass(frozen=True)
class ChunkStats:
    """What computing a chunk cost (zeros when it was cached)."""

    path: Path
    n: int
    cached: bool
    mutation_s: float = 0.0
    signatures_s: float = 0.0


def plan_chunks(
    wt: str | Path,
    keys: Sequence[str],
    betas: Sequence[float],
    cache_dir: str | Path,
    *,
    params: str = DEFAULT_PARAMS,
    chunk_size: int = 25,
) -> list[SignatureChunk]:
    """Cut canonical variant ``keys`` into chunks, each with its content-keyed cache file."""
    wt, cache_dir = Path(wt), Path(cache_dir)
    digest = structure_digest(wt)
    chunks = []
    for start in range(0, len(keys), chunk_size):
        part = tuple(keys[start : start + chunk_size])
        key = chunk_key(content=[digest], names=part, betas=betas, params=params)
        chunks.append(
            SignatureChunk(wt, part, tuple(float(b) for b in betas), params, cache_dir / f"{key}.npz")
        )
    return chunks


def compute_chunk(chunk: SignatureChunk) -> ChunkStats:
    """Signatures of one chunk written to ``chunk.path`` (skipped when the file exists)."""
    from components.dynasig_ml.pipeline import variant_signatures

    if chunk.path.exists():
        return ChunkStats(chunk.path, len(chunk.variants), cached=True)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    timings: dict[str, float] = {}
    sigs = variant_signatures(
        chunk.wt, list(chunk.variants), list(chunk.betas), params=chunk.params, timings=timings
    )
    chunk.path.parent.mkdir(parents=True, exist_ok=True)
    save_signatures(sigs, chunk.path)
    return ChunkStats(
        chunk.path,
        len(chunk.variants),
        cached=False,
        mutation_s=timings.get("mutation_s", 0.0),
        signatures_s=timings.get("signatures_s", 0.0),
    )


def load_chunks(paths: Sequence[str | Path]) -> SignatureSet:
    """The signatures of several chunk files, in order."""
    return SignatureSet.concat([load_signatures(p) for p in paths])


def compute_signature_chunks(
    chunks: Sequence[SignatureChunk], *, jobs: int = 1, progress: bool = True
) -> tuple[SignatureSet, dict[str, float]]:
    """Compute the missing chunks on ``jobs`` processes; return all signatures and what it cost.

    Returns
    -------
    signatures, stats
        ``stats``: ``mutation_cpu_s``, ``signatures_cpu_s``, ``n_computed``, ``n_cached``, ``wall_s``.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    todo = [c for c in chunks if not c.path.exists()]
    stats: dict[str, float] = {"mutation_cpu_s": 0.0, "signatures_cpu_s": 0.0, "n_computed": 0}
    bar = tqdm(
        total=sum(len(c.variants) for c in todo),
        unit="variant",
        desc="signatures",
        file=sys.stderr,
        disable=not progress or not todo,
    )

    def account(res: ChunkStats) -> None:
        stats["mutation_cpu_s"] += res.mutation_s
        stats["signatures_cpu_s"] += res.signatures_s
        stats["n_computed"] += res.n
        bar.update(res.n)

    try:
        if jobs <= 1 or len(todo) <= 1:
            for c in todo:
                account(compute_chunk(c))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for res in pool.map(compute_chunk, todo):
                    account(res)
    finally:
        bar.close()
    total = sum(len(c.variants) for c in chunks)
    stats["n_cached"] = total - stats["n_computed"]
    stats["wall_s"] = time.perf_counter() - t0
    sigs = load_chunks([c.path for c in chunks])
    return sigs, stats
