"""The signature cache of variants of one WT structure: chunked, content-keyed, resumable.

Variants are cut into chunks; each chunk's Entropic Signatures (mutation + ENCoM,
:func:`components.dynasig_ml.pipeline.variant_signatures`) are written atomically to
``<cache_dir>/<key>.npz`` where ``key`` (:func:`components.encom.cache.chunk_key`) covers the WT file's
bytes, the variant keys of the chunk, the β list and the ENCoM parameter values. A rerun (after a crash,
or another run on the same data) computes only the chunks whose file is missing. Every caller goes
through here: the Prefect flow (one task per chunk), ``python -m components.dynasig_ml`` and the
benchmarks (a process pool sized to the cores, :func:`compute_signature_chunks`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from components.dynasig_ml.data import SignatureSet, load_signatures, save_signatures
from components.encom.cache import chunk_key, structure_digest
from components.encom.params import DEFAULT_PARAMS
from components.mutation import mutation_model_for

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
    """What computing a chunk cost (zeros when it was cached).

    ``timings`` holds the seconds of each stage summed over the chunk's variants: ``mutation_s``,
    ``signatures_s`` (all of ENCoM), within it ``matrix_s`` (beads, topology, contact areas, Hessian;
    ``contacts_s`` alone) and ``eigh_s`` (eigendecomposition); ``cpu_s`` is the CPU time of the
    process that computed the chunk, from mutation to the written file.
    """

    path: Path
    n: int
    cached: bool
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def mutation_s(self) -> float:
        return self.timings.get("mutation_s", 0.0)

    @property
    def signatures_s(self) -> float:
        return self.timings.get("signatures_s", 0.0)


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
    from components.encom.structure import read_structure

    wt, cache_dir = Path(wt), Path(cache_dir)
    digest = structure_digest(wt)
    # only the mutation models that can move an atom of this structure's mutants
    model = mutation_model_for(read_structure(wt).res_name)
    chunks = []
    for start in range(0, len(keys), chunk_size):
        part = tuple(keys[start : start + chunk_size])
        key = chunk_key(content=[digest], names=part, betas=betas, params=params, extra={"mutation": model})
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
    cpu0 = time.process_time()
    sigs = variant_signatures(
        chunk.wt, list(chunk.variants), list(chunk.betas), params=chunk.params, timings=timings
    )
    chunk.path.parent.mkdir(parents=True, exist_ok=True)
    save_signatures(sigs, chunk.path)  # atomic: a chunk file is complete or absent
    timings["cpu_s"] = time.process_time() - cpu0
    return ChunkStats(chunk.path, len(chunk.variants), cached=False, timings=timings)


def load_chunks(paths: Sequence[str | Path]) -> SignatureSet:
    """The signatures of several chunk files, in order."""
    return SignatureSet.concat([load_signatures(p) for p in paths])


#: what a pool worker imports once, before it forks per worker (mutation + ENCoM + signature I/O)
_PRELOAD = ["components.dynasig_ml.pipeline", "components.encom.engine", "components.mutation"]

_STAGES = ("mutation_s", "signatures_s", "matrix_s", "contacts_s", "eigh_s", "cpu_s")


def _worker_init() -> None:
    """One BLAS thread per worker process (parallelism is over variants), heap kept for Hessians."""
    os.environ["OMP_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    from components.encom.runtime import tune_allocator

    threadpool_limits(limits=1)  # numpy's BLAS was loaded by the server: limit it now, for good
    tune_allocator()


def compute_signature_chunks(
    chunks: Sequence[SignatureChunk], *, jobs: int = 1, progress: bool = True
) -> tuple[SignatureSet, dict[str, float]]:
    """Compute the missing chunks on ``jobs`` processes; return all signatures and what it cost.

    Workers are forked from a server process that imported the mutation and ENCoM code once
    (``forkserver``: safe from a process running threads, such as a Prefect flow), so starting them
    costs a fork, not an interpreter; each keeps one BLAS thread. Chunks go out in order and are
    accounted as they finish. Results are those of :func:`compute_chunk` in this process, bit for bit.

    Returns
    -------
    signatures, stats
        ``stats``: summed worker seconds per stage (``mutation_cpu_s``, ``signatures_cpu_s``,
        ``matrix_cpu_s``, ``contacts_cpu_s``, ``eigh_cpu_s``; see :class:`ChunkStats`), ``n_computed``,
        ``n_cached``, ``jobs``, ``wall_s`` and ``cpu_s`` (CPU time of this process plus that of the
        workers while computing chunks; their start-up is not counted).
    """
    from tqdm.auto import tqdm

    t0, cpu0 = time.perf_counter(), time.process_time()
    todo = [c for c in chunks if not c.path.exists()]
    jobs = max(1, min(jobs, len(todo)))
    stats: dict[str, float] = {f"{k[:-2]}_cpu_s": 0.0 for k in _STAGES}
    stats.update(n_computed=0, jobs=jobs)
    bar = tqdm(
        total=sum(len(c.variants) for c in todo),
        unit="variant",
        desc="signatures",
        file=sys.stderr,
        disable=not progress or not todo,
    )

    def account(res: ChunkStats) -> None:
        for key in _STAGES:
            stats[f"{key[:-2]}_cpu_s"] += res.timings.get(key, 0.0)
        stats["n_computed"] += res.n
        bar.update(res.n)

    try:
        if jobs <= 1:
            for c in todo:
                account(compute_chunk(c))
        else:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init) as pool:
                futures = [pool.submit(compute_chunk, c) for c in todo]
                try:
                    for fut in as_completed(futures):
                        account(fut.result())
                except BaseException:
                    for fut in futures:
                        fut.cancel()
                    raise
    finally:
        bar.close()
    total = sum(len(c.variants) for c in chunks)
    stats["n_cached"] = total - stats["n_computed"]
    stats["wall_s"] = time.perf_counter() - t0
    stats["cpu_s"] = stats.pop("cpu_cpu_s") + time.process_time() - cpu0
    sigs = load_chunks([c.path for c in chunks])
    return sigs, stats
