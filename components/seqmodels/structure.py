"""RNA secondary structure: ViennaRNA MFE folding (process pool, disk cache) and loop contexts.

A dot-bracket string is annotated per position with its loop context:

``S`` paired (stem), ``H`` hairpin loop, ``I`` bulge or internal loop, ``M`` multiloop,
``E`` exterior loop, which includes the unpaired 5'/3' ends (pysster, through forgi, emits F/T
there and then replaces them with random letters; we keep them as exterior).

Folding results are cached in a small SQLite file keyed by the SHA-1 of the sequence and the
folding options, so a second run (or another protein sharing sequences) folds nothing.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from components.common.errors import InputError

__all__ = [
    "FoldOptions",
    "annotate",
    "fold",
    "default_cache_dir",
    "validate_dotbracket",
]


@dataclass(frozen=True)
class FoldOptions:
    """ViennaRNA model options that change the predicted structure (part of the cache key).

    ``no_lonely_pairs`` is RNAfold's ``--noLP`` (about twice as fast, and lonely pairs are
    rarely real); ``max_bp_span`` limits base-pair span (local folding), None = global.
    """

    temperature: float = 37.0
    no_lonely_pairs: bool = True
    max_bp_span: int | None = None

    def key(self) -> str:
        return f"T={self.temperature};noLP={int(self.no_lonely_pairs)};span={self.max_bp_span or 0}"


def default_cache_dir() -> Path:
    """``$DYNAMOTIF_CACHE/fold`` or ``~/.cache/dynamotif/fold``."""
    root = os.environ.get("DYNAMOTIF_CACHE")
    return Path(root) / "fold" if root else Path.home() / ".cache" / "dynamotif" / "fold"


def validate_dotbracket(db: str, *, record: str | None = None, file: str | None = None) -> None:
    """Raise :class:`InputError` for characters other than ``.()`` or unbalanced brackets."""
    depth = 0
    for j, c in enumerate(db):
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth < 0:
                raise InputError(
                    f"unbalanced ')' at position {j + 1} in dot-bracket", file=file, record=record
                )
        elif c != ".":
            raise InputError(
                f"invalid dot-bracket character {c!r} at position {j + 1}", file=file, record=record
            )
    if depth:
        raise InputError(f"dot-bracket has {depth} unclosed '('", file=file, record=record)


def annotate(db: str) -> str:
    """Dot-bracket -> loop-context string over ``SHIME`` (same length).

    Each unpaired position belongs to the loop closed by its innermost enclosing pair: no inner
    pair -> hairpin ``H``; one -> bulge/internal ``I``; two or more -> multiloop ``M``; no
    enclosing pair -> exterior ``E``. Paired positions are ``S``. O(n).
    """
    n = len(db)
    pt = [-1] * n
    stack: list[int] = []
    for j, c in enumerate(db):
        if c == "(":
            stack.append(j)
        elif c == ")":
            if not stack:
                raise ValueError(f"unbalanced ')' at position {j + 1}")
            i = stack.pop()
            pt[i], pt[j] = j, i
    if stack:
        raise ValueError(f"unbalanced '(' at position {stack[-1] + 1}")
    out = ["S" if p >= 0 else "E" for p in pt]
    # loops: closing pair (i, j), exterior = (-1, n)
    todo = [(-1, n)]
    while todo:
        i, j = todo.pop()
        unpaired: list[int] = []
        branches = 0
        k = i + 1
        while k < j:
            if pt[k] > k:
                branches += 1
                todo.append((k, pt[k]))
                k = pt[k] + 1
            else:
                unpaired.append(k)
                k += 1
        if i < 0:
            continue  # exterior positions are already 'E'
        letter = "H" if branches == 0 else "I" if branches == 1 else "M"
        for k in unpaired:
            out[k] = letter
    return "".join(out)


def _cache_key(seq: str, opts: FoldOptions) -> str:
    return hashlib.sha1(f"{opts.key()}|{seq}".encode()).hexdigest()


def _fold_chunk(args: tuple[list[str], FoldOptions]) -> list[tuple[str, float]]:
    import RNA  # ViennaRNA, imported in the worker

    seqs, opts = args
    md = RNA.md()
    md.temperature = opts.temperature
    md.noLP = int(opts.no_lonely_pairs)
    if opts.max_bp_span:
        md.max_bp_span = int(opts.max_bp_span)
    out = []
    for s in seqs:
        fc = RNA.fold_compound(s.upper().replace("T", "U"), md, RNA.OPTION_MFE)
        db, mfe = fc.mfe()
        out.append((db, float(mfe)))
    return out


class _Cache:
    def __init__(self, cache_dir: Path | None):
        self.conn: sqlite3.Connection | None = None
        if cache_dir is None:
            return
        cache_dir.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(cache_dir / "fold.sqlite", timeout=60)
        self.conn.execute("CREATE TABLE IF NOT EXISTS fold (key TEXT PRIMARY KEY, db TEXT, mfe REAL)")

    def get(self, keys: list[str]) -> dict[str, tuple[str, float]]:
        if self.conn is None:
            return {}
        found: dict[str, tuple[str, float]] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            q = f"SELECT key, db, mfe FROM fold WHERE key IN ({','.join('?' * len(part))})"
            for k, db, mfe in self.conn.execute(q, part):
                found[k] = (db, mfe)
        return found

    def put(self, rows: list[tuple[str, str, float]]) -> None:
        if self.conn is not None and rows:
            with self.conn:
                self.conn.executemany("INSERT OR REPLACE INTO fold VALUES (?, ?, ?)", rows)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def fold(
    seqs: Sequence[str],
    *,
    processes: int | None = None,
    cache_dir: str | Path | None = "default",
    options: FoldOptions | None = None,
    stats: dict | None = None,
) -> list[str]:
    """MFE dot-brackets of ``seqs`` (ViennaRNA), folded in a process pool, cached on disk.

    Parameters
    ----------
    seqs
        RNA or DNA sequences (``T`` is read as ``U``).
    processes
        Worker processes (default: the CPUs available to this process); 1 folds in-process.
    cache_dir
        Folder of the SQLite cache; ``"default"`` = :func:`default_cache_dir`, None = no cache.
    options
        :class:`FoldOptions`.
    stats
        If given, filled with ``n``, ``cached``, ``folded``, ``seconds``.

    Returns
    -------
    list of str
        One dot-bracket per sequence.
    """
    opts = options or FoldOptions()
    t0 = time.perf_counter()
    cdir = default_cache_dir() if cache_dir == "default" else (None if cache_dir is None else Path(cache_dir))
    cache = _Cache(cdir)
    try:
        keys = [_cache_key(s, opts) for s in seqs]
        known = cache.get(sorted(set(keys)))
        todo_keys: dict[str, str] = {}
        for k, s in zip(keys, seqs, strict=True):
            if k not in known:
                todo_keys.setdefault(k, s)
        todo = list(todo_keys.items())
        if todo:
            n_proc = processes or len(os.sched_getaffinity(0))
            # a spawned worker costs seconds of imports; a 200-nt fold ~25 ms: pool only for big batches
            n_proc = max(1, min(n_proc, len(todo) // 400 or 1))
            seq_list = [s for _, s in todo]
            if n_proc == 1:
                results = _fold_chunk((seq_list, opts))
            else:
                size = max(16, min(512, len(seq_list) // (n_proc * 8) or 1))
                chunks = [(seq_list[i : i + size], opts) for i in range(0, len(seq_list), size)]
                with ProcessPoolExecutor(n_proc, mp_context=get_context("spawn")) as pool:
                    results = [r for part in pool.map(_fold_chunk, chunks) for r in part]
            rows = [(k, db, mfe) for (k, _), (db, mfe) in zip(todo, results, strict=True)]
            cache.put(rows)
            known.update({k: (db, mfe) for k, db, mfe in rows})
    finally:
        cache.close()
    if stats is not None:
        stats.update(
            n=len(seqs),
            folded=len(todo),
            cached=len(seqs) - sum(1 for k in keys if k in todo_keys),
            seconds=time.perf_counter() - t0,
        )
    return [known[k][0] for k in keys]
