"""File I/O shared by components: atomic writes, tables, FASTA, hashing.

Every writer goes through :func:`atomic_path` (write to a temporary file in the same folder, then
``os.replace``), so a crash never leaves a half-written output behind.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.errors import InputError

__all__ = [
    "atomic_path",
    "atomic_dir",
    "open_text",
    "read_table",
    "write_table",
    "write_json",
    "json_safe",
    "read_fasta",
    "file_sha256",
    "frame_sha256",
    "TABLE_SUFFIXES",
    "table_kind",
]

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".csv.gz", ".tsv.gz")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it replaces ``path``.

    Used for outputs made of several files (e.g. one PDB per variant): either all of them appear
    or none does.
    """
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            # merge: move new files over old ones, keep unrelated files
            for item in tmp.iterdir():
                target = path / item.name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                os.replace(item, target)
            tmp.rmdir()
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def open_text(path: str | Path) -> io.TextIOBase:
    """Open a text file for reading, transparently decompressing ``.gz``."""
    path = Path(path)
    if not path.exists():
        raise InputError("file does not exist", file=path)
    if path.is_dir():
        raise InputError("is a directory, expected a file", file=path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115


def _table_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".tsv", ".tsv.gz", ".tab", ".txt", ".txt.gz", ".df")):
        return "tsv"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise InputError(f"unknown table format (expected one of {', '.join(TABLE_SUFFIXES)})", file=path)


def table_kind(path: str | Path) -> str:
    """``"parquet"``, ``"tsv"`` or ``"csv"`` from the file name; :class:`InputError` otherwise."""
    return _table_kind(Path(path))


def read_table(path: str | Path, *, required: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet table and check required columns.

    Raises
    ------
    InputError
        If the file is missing, empty, unparsable, or lacks a required column.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file does not exist", file=path)
    if path.stat().st_size == 0:
        raise InputError("file is empty", file=path)
    kind = _table_kind(path)
    try:
        if kind == "parquet":
            df = pd.read_parquet(path)
        elif kind == "tsv":
            df = pd.read_csv(path, sep=None if path.name.lower().endswith(".txt") else "\t", engine="python")
        else:
            df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InputError(f"cannot parse {kind} table: {str(exc).splitlines()[0]}", file=path) from exc
    if len(df) == 0:
        raise InputError("table has no rows", file=path)
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(map(repr, missing))}; columns are {', '.join(map(str, df.columns))}",
            file=path,
        )
    return df


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` atomically as Parquet or CSV/TSV, chosen by the extension of ``path``."""
    path = Path(path)
    kind = _table_kind(path)
    with atomic_path(path) as tmp:
        if kind == "parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False, sep="\t" if kind == "tsv" else ",")
    return path


def json_safe(obj: Any) -> Any:
    """``obj`` with every NaN or infinite float (also NumPy scalars) replaced by None, recursively.

    ``json.dumps`` writes such floats as ``NaN``/``Infinity``, which is not JSON: strict parsers
    (browsers, ``jq``, most languages) reject the whole file. None is written as ``null``.
    """
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.ndarray):
        return json_safe(obj.tolist())
    return obj


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as pretty, valid JSON atomically (NaN and infinities become ``null``)."""
    path = Path(path)
    text = json.dumps(json_safe(obj), indent=2, sort_keys=True, default=str, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n")
    return path


def read_fasta(path: str | Path) -> list[tuple[str, str, int]]:
    """Read a (gzip) FASTA file.

    Returns
    -------
    list of (header, sequence, line_number)
        ``line_number`` is the 1-based line of the header, for error messages. Sequence lines are
        concatenated and upper-cased; whitespace is removed.

    Raises
    ------
    InputError
        If the file is empty, has sequence text before the first header, or a record with no sequence.
    """
    records: list[tuple[str, str, int]] = []
    header: str | None = None
    chunks: list[str] = []
    header_line = 0
    with open_text(path) as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.strip()
            if not line:
                continue
            if line.startswith(">"):
                if header is not None:
                    if not chunks:
                        raise InputError(
                            f"record {header!r} has no sequence", file=path, record=f"line {header_line}"
                        )
                    records.append((header, "".join(chunks).upper(), header_line))
                header, chunks, header_line = line[1:].strip(), [], lineno
            elif header is None:
                raise InputError(
                    "sequence text before the first '>' header: not a FASTA file",
                    file=path,
                    record=f"line {lineno}",
                )
            else:
                chunks.append(line.replace(" ", ""))
    if header is not None:
        if not chunks:
            raise InputError(f"record {header!r} has no sequence", file=path, record=f"line {header_line}")
        records.append((header, "".join(chunks).upper(), header_line))
    if not records:
        raise InputError("no FASTA records (empty file?)", file=path)
    return records


def file_sha256(*paths: str | Path) -> str:
    """SHA-256 over the bytes of one or more files (in the order given)."""
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def frame_sha256(df: pd.DataFrame) -> str:
    """A stable hash of a DataFrame's content (for dataset tags)."""
    h = hashlib.sha256()
    h.update(",".join(map(str, df.columns)).encode())
    h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return h.hexdigest()
