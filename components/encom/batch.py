"""Signatures of many structures: process pool, chunked Parquet outputs, resumable, bounded memory.

Layout of a chunk directory::

    chunk_dir/
        manifest.json           # parameter set, betas, msf flag, chunk size, bead labels
        chunk_000000.parquet    # long table (structure, beta, bead, value) for structures 0..chunk_size-1
        chunk_000001.parquet
        ...

A chunk file is written atomically when all its structures are done, with the structure names and its
content key (:func:`components.encom.cache.chunk_key`: the structures' bytes or coordinates, their
names, the betas and the parameter values) in its Parquet metadata; a rerun skips every chunk whose file
exists and carries the same key. Memory stays bounded: at most ``2 * jobs`` chunks are in flight, and
:func:`concatenate_chunks` streams chunk files into one output.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from biotite.structure import AtomArray

from components.common.errors import DynamotifError, DynamotifWarning, InputError
from components.common.io import atomic_path, write_json
from components.encom.cache import chunk_key, structure_digest
from components.encom.engine import SignatureResult, check_betas, compute_signatures
from components.encom.params import DEFAULT_BETAS, DEFAULT_PARAMS, EncomParams, resolve_params

__all__ = [
    "compute_signatures_batch",
    "signatures_frame",
    "concatenate_chunks",
    "normalize_items",
    "METADATA_KEY",
]

log = logging.getLogger(__name__)

METADATA_KEY = b"dynamotif.encom"
COLUMNS = ["structure", "beta", "bead", "value"]
Item = tuple[str, "str | Path | AtomArray"]


def normalize_items(items: Iterable[Any]) -> Iterator[Item]:
    """Yield ``(name, structure)`` pairs; a bare path is named by its file name (as DynaSig-ML does)."""
    for item in items:
        if isinstance(item, (str, Path)):
            yield Path(item).name, item
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            if not isinstance(item[1], (str, Path, AtomArray)):
                raise TypeError(
                    f"structure {item[0]!r}: expected a path or an AtomArray, got {type(item[1]).__name__}"
                )
            yield item[0], item[1]
        else:
            raise TypeError(f"batch items must be paths or (name, path | AtomArray) pairs, got {item!r}")


def signatures_frame(
    names: Sequence[str], results: Sequence[SignatureResult], labels: Sequence[str]
) -> pd.DataFrame:
    """Long table of several results: one row per (structure, beta, bead); MSF rows have beta NaN."""
    n_beads = len(labels)
    blocks, betas, structs = [], [], []
    for s, r in enumerate(results):
        blocks.append(r.entropic.ravel())
        betas.append(np.repeat(r.betas, n_beads))
        structs.append(np.full(r.entropic.size, s, dtype=np.int32))
        if r.msf is not None:
            blocks.append(r.msf)
            betas.append(np.full(n_beads, np.nan))
            structs.append(np.full(n_beads, s, dtype=np.int32))
    values = np.concatenate(blocks) if blocks else np.zeros(0)
    struct_codes = np.concatenate(structs) if structs else np.zeros(0, dtype=np.int32)
    n_rows = len(values)
    bead_codes = np.tile(np.arange(n_beads, dtype=np.int32), n_rows // max(n_beads, 1))
    return pd.DataFrame(
        {
            "structure": pd.Categorical.from_codes(struct_codes, categories=pd.Index(list(names))),
            "beta": np.concatenate(betas) if betas else np.zeros(0),
            "bead": pd.Categorical.from_codes(bead_codes, categories=pd.Index(list(labels))),
            "value": values,
        }
    )


_WORKER_LIMITS: list[Any] = []


def _worker_init() -> None:
    """One BLAS thread per worker process, for the life of the worker (parallelism is over structures)."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from components.encom.modes import _blas_controller
    from components.encom.runtime import tune_allocator

    tune_allocator()
    _WORKER_LIMITS.append(_blas_controller().limit(limits=1, user_api="blas"))


def _run_chunk(
    index: int,
    chunk: list[Item],
    betas: np.ndarray,
    msf: bool,
    params: EncomParams,
    skip_unknown: bool,
    chunk_path: str | None,
    meta: dict[str, Any],
    skip_failed: bool = False,
) -> tuple[int, list[str], list[str] | None, pd.DataFrame | None, dict[str, str]]:
    """Compute one chunk; write it to ``chunk_path`` (if given).

    Returns (index, names, labels, frame, failed): ``failed`` maps the structures skipped with
    ``skip_failed`` to the error that stopped them (``labels`` is None when every structure failed).
    """
    names = [name for name, _ in chunk]
    results = []
    done: list[str] = []
    failed: dict[str, str] = {}
    labels: list[str] | None = None
    for name, structure in chunk:
        label = name if not isinstance(structure, (str, Path)) else None
        try:
            res = compute_signatures(
                structure, betas, msf=msf, params=params, skip_unknown=skip_unknown, name=label
            )
        except DynamotifError as exc:
            if exc.file is None:
                exc = InputError(exc.reason, file=name, record=exc.record)
            if not skip_failed:
                raise exc from None
            failed[name] = exc.one_line()
            continue
        if labels is None:
            labels = res.labels
        else:
            _check_labels(labels, res.labels, done[0], name)
        results.append(res)
        done.append(name)
    frame = signatures_frame(done, results, labels) if labels is not None else None
    if chunk_path is not None:
        chunk_meta = {**meta, "chunk": index, "structures": names, "labels": labels, "failed": failed}
        if frame is not None:  # a chunk where everything failed is computed again on a rerun
            _write_chunk(frame, Path(chunk_path), chunk_meta)
        return index, names, labels, None, failed
    return index, names, labels, frame, failed


def _check_labels(reference: Sequence[str], labels: Sequence[str], ref_name: str, name: str) -> None:
    if list(labels) == list(reference):
        return
    if len(labels) != len(reference):
        detail = f"{len(labels)} beads instead of {len(reference)}"
    else:
        k = next(i for i, (a, b) in enumerate(zip(labels, reference, strict=True)) if a != b)
        detail = f"bead {k + 1} is {labels[k]!r} instead of {reference[k]!r}"
    raise InputError(
        f"bead labels differ from those of {ref_name!r} ({detail}); all structures of one batch must have "
        "the same beads (same residues, numbering and chains)",
        file=name,
    )


def _write_chunk(frame: pd.DataFrame, path: Path, meta: dict[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(
        {**(table.schema.metadata or {}), METADATA_KEY: json.dumps(meta).encode()}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def _chunk_meta(path: Path) -> dict[str, Any] | None:
    import pyarrow.parquet as pq

    try:
        md = pq.read_schema(path).metadata or {}
        return json.loads(md[METADATA_KEY])
    except (OSError, KeyError, ValueError):
        return None


def _settings(
    betas: np.ndarray, msf: bool, params: EncomParams, skip_unknown: bool, chunk_size: int
) -> dict[str, Any]:
    return {
        "params": params.to_dict(),
        "betas": betas.tolist(),
        "msf": msf,
        "skip_unknown": skip_unknown,
        "chunk_size": chunk_size,
        "engine": "dynamotif.encom (NRGTEN 1.2.9 equivalent)",
    }


def _chunks(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk:
            return
        yield chunk


def compute_signatures_batch(
    items: Iterable[Any],
    betas: Sequence[float] | np.ndarray = DEFAULT_BETAS,
    *,
    msf: bool = False,
    params: str | EncomParams = DEFAULT_PARAMS,
    jobs: int = 1,
    out: str | Path | None = None,
    chunk_size: int = 64,
    progress: bool = True,
    skip_unknown: bool = False,
    collect: bool = True,
    skip_failed: bool = False,
) -> pd.DataFrame:
    """Signatures of many structures as one long table ``(structure, beta, bead, value)``.

    Parameters
    ----------
    items
        Paths, or ``(name, path | AtomArray)`` pairs (e.g. variants made in memory). May be a generator;
        it is consumed lazily. Names must be unique.
    betas, msf, params, skip_unknown
        As in :func:`compute_signatures`. The parameter set is recorded in every chunk's metadata and in
        ``manifest.json``.
    jobs
        Worker processes (each with one BLAS thread). ``1`` computes in this process.
    out
        Chunk directory. When given, each chunk is written there as it completes and finished chunks are
        skipped on a rerun (resume after a crash). When None, nothing is written.
    chunk_size
        Structures per chunk (also the unit of work sent to a process).
    progress
        Show a tqdm progress bar (structures).
    collect
        Return the concatenated table (set False for very large runs with ``out``; an empty frame is
        returned and :func:`concatenate_chunks` streams the chunks to a file).
    skip_failed
        Go on when a structure fails (bad residue, degenerate geometry): it is left out of the table, a
        :class:`DynamotifWarning` names it with the reason, and ``frame.attrs["failed"]`` maps each
        skipped name to its error. Default: the first failure raises.

    Raises
    ------
    InputError
        Bad structure (file and reason), duplicate names, bead labels that differ between structures, or a
        chunk directory written with other settings.
    """
    p = resolve_params(params)
    beta_arr = check_betas(betas)
    if jobs < 1:
        raise InputError(f"jobs must be >= 1, got {jobs}")
    if chunk_size < 1:
        raise InputError(f"chunk_size must be >= 1, got {chunk_size}")
    settings = _settings(beta_arr, msf, p, skip_unknown, chunk_size)
    chunk_dir = Path(out) if out is not None else None
    if chunk_dir is not None:
        _prepare_chunk_dir(chunk_dir, settings)

    total = len(items) if hasattr(items, "__len__") else None  # type: ignore[arg-type]
    seen: set[str] = set()

    def unique(it: Iterator[Item]) -> Iterator[Item]:
        for name, obj in it:
            if name in seen:
                raise InputError(f"structure name {name!r} appears twice in the batch (names must be unique)")
            seen.add(name)
            yield name, obj

    from tqdm.auto import tqdm

    bar = tqdm(total=total, unit="structure", disable=not progress, file=sys.stderr, desc="signatures")
    frames: dict[int, pd.DataFrame] = {}
    reference: tuple[str, list[str]] | None = None
    failures: dict[str, str] = {}

    def accept(
        index: int,
        names: list[str],
        labels: list[str] | None,
        frame: pd.DataFrame | None,
        failed: dict[str, str],
    ) -> None:
        nonlocal reference
        for reason in failed.values():
            warnings.warn(f"skipped {reason}", DynamotifWarning, stacklevel=2)
        failures.update(failed)
        bar.update(len(names))
        if labels is None:
            return
        first = next(n for n in names if n not in failed)
        if reference is None:
            reference = (first, labels)
        else:
            _check_labels(reference[1], labels, reference[0], first)
        if collect:
            frames[index] = frame if frame is not None else _read_chunk(chunk_dir, index)  # type: ignore[arg-type]

    def chunk_path(index: int) -> Path | None:
        return None if chunk_dir is None else chunk_dir / f"chunk_{index:06d}.parquet"

    def done_already(index: int, key: str) -> tuple[list[str], dict[str, str]] | None:
        path = chunk_path(index)
        if path is None or not path.exists():
            return None
        meta = _chunk_meta(path)
        if meta is None or meta.get("key") != key:
            return None
        return list(meta["labels"]), dict(meta.get("failed", {}))

    skipped = [0]

    def todo() -> Iterator[tuple]:
        """Arguments of _run_chunk for every chunk still to compute (finished ones are accepted here)."""
        for index, chunk in enumerate(_chunks(unique(normalize_items(items)), chunk_size)):
            key = ""
            if chunk_dir is not None:
                key = chunk_key(
                    content=[structure_digest(obj) for _, obj in chunk],
                    names=[n for n, _ in chunk],
                    betas=beta_arr,
                    params=p,
                    extra={"msf": msf, "skip_unknown": skip_unknown, "skip_failed": skip_failed},
                )
                finished = done_already(index, key)
                if finished is not None:
                    skipped[0] += 1
                    accept(index, [n for n, _ in chunk], finished[0], None, finished[1])
                    continue
            path = chunk_path(index)
            meta = {**settings, "key": key}
            where = str(path) if path else None
            yield (index, chunk, beta_arr, msf, p, skip_unknown, where, meta, skip_failed)

    try:
        if jobs == 1:
            for args in todo():
                accept(*_run_chunk(*args))
        else:
            _run_pool(todo(), jobs, accept)
    finally:
        bar.close()
    if skipped[0]:
        log.info("resumed: %d finished chunk(s) skipped", skipped[0])
    if not collect:
        result = pd.DataFrame({c: [] for c in COLUMNS})
    elif not frames:
        if failures:
            raise DynamotifError(f"every structure failed; first: {next(iter(failures.values()))}")
        raise InputError("no structures given")
    else:
        result = _concat_frames([frames[k] for k in sorted(frames)])
    result.attrs["failed"] = failures
    return result


def _run_pool(tasks: Iterator[tuple], jobs: int, accept: Any) -> None:
    """Run ``_run_chunk(*task)`` in ``jobs`` processes, at most ``2 * jobs`` chunks in flight."""
    import multiprocessing as mp

    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else mp.get_context("spawn")
    pending: dict[Future, int] = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init) as pool:
        try:
            for task in tasks:
                pending[pool.submit(_run_chunk, *task)] = task[0]
                while len(pending) >= 2 * jobs:
                    _drain(pending, accept, FIRST_COMPLETED)
            while pending:
                _drain(pending, accept, FIRST_COMPLETED)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def _drain(pending: dict[Future, int], accept, mode: str) -> None:
    done, _ = wait(list(pending), return_when=mode)
    for fut in done:
        pending.pop(fut)
        accept(*fut.result())


def _concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    names: list[str] = []
    for f in frames:
        names.extend(f["structure"].cat.categories.tolist())
    labels = frames[0]["bead"].cat.categories.tolist()
    out = pd.concat(
        [f.assign(structure=f["structure"].astype(str), bead=f["bead"].astype(str)) for f in frames],
        ignore_index=True,
    )
    out["structure"] = pd.Categorical(out["structure"], categories=names)
    out["bead"] = pd.Categorical(out["bead"], categories=labels)
    return out


def _read_chunk(chunk_dir: Path, index: int) -> pd.DataFrame:
    return pd.read_parquet(chunk_dir / f"chunk_{index:06d}.parquet")


def _prepare_chunk_dir(chunk_dir: Path, settings: dict[str, Any]) -> None:
    if chunk_dir.exists() and not chunk_dir.is_dir():
        raise InputError("chunk directory path exists and is not a directory", file=chunk_dir)
    chunk_dir.mkdir(parents=True, exist_ok=True)
    manifest = chunk_dir / "manifest.json"
    if manifest.exists():
        old = json.loads(manifest.read_text())
        if old != json.loads(json.dumps(settings)):
            raise InputError(
                "chunk directory was written with other settings (parameters, betas, msf or chunk size); "
                "use a new directory or delete it",
                file=chunk_dir,
            )
    else:
        write_json(settings, manifest)


def concatenate_chunks(chunk_dir: str | Path, out: str | Path) -> Path:
    """Stream all chunk files of ``chunk_dir`` (in order) into ``out`` (Parquet or CSV/TSV by extension).

    Memory holds one chunk at a time; the write is atomic. The Parquet output keeps the settings in its
    schema metadata.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from components.common.io import table_kind

    chunk_dir, out = Path(chunk_dir), Path(out)
    files = sorted(chunk_dir.glob("chunk_*.parquet"))
    if not files:
        raise InputError("no chunk files to concatenate", file=chunk_dir)
    settings = json.loads((chunk_dir / "manifest.json").read_text())
    kind = table_kind(out)
    schema = pa.schema(
        [("structure", pa.string()), ("beta", pa.float64()), ("bead", pa.string()), ("value", pa.float64())],
        metadata={METADATA_KEY: json.dumps(settings).encode()},
    )
    with atomic_path(out) as tmp:
        if kind == "parquet":
            with pq.ParquetWriter(tmp, schema) as writer:
                for f in files:
                    writer.write_table(pq.read_table(f).cast(schema))
        else:
            opts = pacsv.WriteOptions(delimiter="\t" if kind == "tsv" else ",")
            import gzip

            opener = gzip.open if out.name.endswith(".gz") else open
            with opener(tmp, "wb") as fh, pacsv.CSVWriter(fh, schema, write_options=opts) as writer:
                for f in files:
                    writer.write_table(pq.read_table(f).cast(schema))
    return out
