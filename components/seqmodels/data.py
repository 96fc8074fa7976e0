"""Training inputs: FASTA per class, multi-label FASTA, or tables; validation and splits.

Every user-facing problem raises :class:`InputError` naming the file, the record and what is
wrong (invalid letter with its 1-based position, empty file, a single class, labels that do not
fit the task, NaN targets, ...).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from components.common.dedup import duplicate_groups
from components.common.errors import InputError
from components.common.io import TABLE_SUFFIXES, open_text, read_table
from components.seqmodels.alphabet import DNA, PROTEIN, RNA, Alphabet, get_alphabet, validate_sequences
from components.seqmodels.structure import validate_dotbracket

__all__ = [
    "TASKS",
    "SequenceData",
    "load_data",
    "parse_data_spec",
    "read_fasta_records",
    "split_data",
    "detect_alphabet",
]

TASKS = ("binary", "multiclass", "multilabel", "regression")
_SEQ_COLUMNS = ("sequence", "seq", "sequences", "Sequence", "SEQ")
_STRUCT_COLUMNS = ("structure", "dotbracket", "dot_bracket", "struct")
_LABEL_INDICES = re.compile(r"\d+(,\d+)*")


@dataclass
class SequenceData:
    """Sequences with targets.

    Attributes
    ----------
    sequences
        Upper-case sequences.
    names
        A record label per sequence for messages (``file:line`` or ``file:row``).
    y
        Targets, float32, shape (n, n_outputs): binary (n, 1) 0/1 (1 = positive class),
        multiclass one-hot (n, n_classes), multilabel 0/1 (n, n_labels), regression values.
    task
        One of :data:`TASKS`.
    output_names
        One name per column of ``y``.
    class_names
        Classification: the classes (binary: ``[positive, negative]``); regression: None.
    structures
        Dot-brackets given with the input (3-line FASTA or a structure column), or None.
    contexts
        Loop-context strings (``SHIME``) once folded/annotated, or None.
    """

    sequences: list[str]
    names: list[str]
    y: np.ndarray
    task: str
    output_names: list[str]
    class_names: list[str] | None = None
    structures: list[str] | None = None
    sources: list[str] = field(default_factory=list)
    contexts: list[str] | None = None

    def __len__(self) -> int:
        return len(self.sequences)

    def subset(self, idx: np.ndarray) -> SequenceData:
        idx = np.asarray(idx)
        return replace(
            self,
            sequences=[self.sequences[i] for i in idx],
            names=[self.names[i] for i in idx],
            y=self.y[idx],
            structures=None if self.structures is None else [self.structures[i] for i in idx],
            contexts=None if self.contexts is None else [self.contexts[i] for i in idx],
        )

    def class_counts(self) -> dict[str, int]:
        if self.task == "regression":
            return {}
        if self.task == "binary":
            pos = int(self.y[:, 0].sum())
            assert self.class_names is not None
            return {self.class_names[0]: pos, self.class_names[1]: len(self) - pos}
        return {n: int(c) for n, c in zip(self.output_names, self.y.sum(0), strict=True)}


def parse_data_spec(spec: str | Path) -> tuple[str, Path]:
    """``NAME=FILE`` or ``FILE`` -> (class name, path); the name defaults to the file's stem."""
    text = str(spec)
    name, sep, path = text.partition("=")
    if sep and name and "/" not in name and not Path(text).exists():
        return name, Path(path)
    p = Path(text)
    stem = p.name
    for suf in (".gz", ".fasta", ".fa", ".fna", ".txt"):
        stem = stem.removesuffix(suf)
    return stem, p


def _is_table(path: Path) -> bool:
    return path.name.lower().endswith(TABLE_SUFFIXES + (".pq", ".tab")) and not path.name.lower().endswith(
        ".txt"
    )


def read_fasta_records(path: str | Path) -> list[tuple[str, str, str | None, int]]:
    """Read a (gzip) FASTA file whose records may carry a structure line (pysster's 3-line FASTA).

    Returns
    -------
    list of (header, sequence, dot-bracket or None, header line number)
        A line made only of ``.()`` (optionally followed by a space and an energy such as
        ``(-3.30)``) after the sequence lines is the record's structure.
    """
    records: list[tuple[str, str, str | None, int]] = []
    header: str | None = None
    seq_parts: list[str] = []
    struct_parts: list[str] = []
    line0 = 0

    def flush() -> None:
        if header is None:
            return
        if not seq_parts:
            raise InputError(f"record {header!r} has no sequence", file=path, record=f"line {line0}")
        records.append((header, "".join(seq_parts).upper(), "".join(struct_parts) or None, line0))

    with open_text(path) as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith(">"):
                flush()
                header, seq_parts, struct_parts, line0 = line[1:].strip(), [], [], lineno
                continue
            if header is None:
                raise InputError(
                    "text before the first '>' header: not a FASTA file", file=path, record=f"line {lineno}"
                )
            token = line.split()[0]
            if seq_parts and set(token) <= set(".()"):
                struct_parts.append(token)
            else:
                seq_parts.append(line.replace(" ", ""))
    flush()
    if not records:
        raise InputError("no FASTA records (empty file?)", file=path)
    return records


def detect_alphabet(seqs: Sequence[str]) -> Alphabet:
    """RNA if the letters are mostly ACGU, DNA if mostly ACGT, else protein."""
    sample = "".join(seqs[:2000])
    if not sample:
        raise InputError("no sequence letters to detect the alphabet from")
    counts = pd.Series(list(sample)).value_counts()
    nuc = counts.reindex(list("ACGTU"), fill_value=0)
    if nuc.sum() >= 0.9 * counts.sum():
        return RNA if nuc["U"] > nuc["T"] else DNA
    return PROTEIN


def _fasta_by_class(specs: list[tuple[str, Path]]) -> SequenceData:
    seqs, names, structs, labels = [], [], [], []
    classes = [name for name, _ in specs]
    if len(set(classes)) != len(classes):
        raise InputError(f"class names must be unique, got {', '.join(classes)} (use NAME=FILE)")
    for ci, (_, path) in enumerate(specs):
        for header, s, st, line in read_fasta_records(path):
            seqs.append(s)
            names.append(
                f"{path}: record {header.split()[0]!r} (line {line})" if header else f"{path}: line {line}"
            )
            structs.append(st)
            labels.append(ci)
    k = len(classes)
    if k == 2:
        y = (np.asarray(labels) == 0).astype(np.float32)[:, None]  # the first file is the positive class
        task, outputs = "binary", [classes[0]]
    else:
        y = np.eye(k, dtype=np.float32)[labels]
        task, outputs = "multiclass", classes
    st_all = _structures_or_none(structs, names)
    return SequenceData(seqs, names, y, task, outputs, classes, st_all, [str(p) for _, p in specs])


def _structures_or_none(structs: list[str | None], names: list[str]) -> list[str] | None:
    have = [s is not None for s in structs]
    if not any(have):
        return None
    if not all(have):
        i = have.index(False)
        raise InputError("some records have a structure line and this one has none", record=names[i])
    return [s for s in structs if s is not None]


def _fasta_multilabel(path: Path) -> SequenceData:
    seqs, names, structs, label_sets = [], [], [], []
    for header, s, st, line in read_fasta_records(path):
        tokens = header.split()
        field_ = next((t.split("=", 1)[1] for t in tokens if t.startswith("labels=")), None)
        if field_ is None and len(tokens) == 1 and _LABEL_INDICES.fullmatch(tokens[0]):
            field_ = tokens[0]  # the bare form '>0,2': label indices
        labels = [lab for lab in (field_ or "").split(",") if lab]
        if not labels:
            raise InputError(
                "one FASTA file is read as a multi-label FASTA, but this header has no labels "
                "(expected '>ID labels=A,B' or '>0,2'); for one class per file give one FASTA per class "
                "(--data pos=a.fa neg=b.fa)",
                file=path,
                record=f"record {header.split()[0]!r} (line {line})" if header else f"line {line}",
            )
        seqs.append(s)
        names.append(f"{path}: line {line}")
        structs.append(st)
        label_sets.append(labels)
    classes = sorted({lab for ls in label_sets for lab in ls}, key=lambda c: (len(c), c))
    if len(classes) < 2:
        raise InputError(f"multi-label FASTA has a single label ({classes[0]!r}); need at least 2", file=path)
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(seqs), len(classes)), dtype=np.float32)
    for i, ls in enumerate(label_sets):
        y[i, [index[c] for c in ls]] = 1.0
    return SequenceData(
        seqs, names, y, "multilabel", classes, classes, _structures_or_none(structs, names), [str(path)]
    )


def _table(
    paths: list[Path], targets: list[str], task: str, seq_col: str | None, missing_targets: str = "error"
) -> SequenceData:
    frames = []
    for p in paths:
        df = read_table(p)
        df["__file"] = str(p)
        df["__row"] = np.arange(1, len(df) + 1)
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    col = seq_col or next((c for c in _SEQ_COLUMNS if c in df.columns), None)
    if col is None or col not in df.columns:
        raise InputError(
            f"no sequence column (tried {seq_col or ', '.join(_SEQ_COLUMNS)}); columns: "
            f"{', '.join(map(str, df.columns[:-2]))}",
            file=paths[0],
        )
    if not targets:
        raise InputError("a table needs --target COL (the column(s) to learn)", file=paths[0])
    missing = [t for t in targets if t not in df.columns]
    if missing:
        raise InputError(
            f"target column(s) {', '.join(map(repr, missing))} not found; columns: "
            f"{', '.join(map(str, df.columns[:-2]))}",
            file=paths[0],
        )
    names = [f"{f}: row {r}" for f, r in zip(df["__file"], df["__row"], strict=True)]
    seq_series = df[col]
    if seq_series.isna().any():
        i = int(np.argmax(seq_series.isna().to_numpy()))
        raise InputError(f"missing sequence in column {col!r}", record=names[i])
    seqs = [str(s).strip().upper() for s in seq_series]
    if missing_targets == "mask":
        # multi-target regression with unmeasured entries: NaN is masked out of loss and metrics;
        # a row needs one measured target at least
        none = df[targets].isna().all(axis=1).to_numpy()
        if none.any():
            i = int(np.argmax(none))
            raise InputError(
                f"no target measured ({int(none.sum())} rows with all of {', '.join(map(repr, targets))} "
                "NaN/empty; drop them)",
                record=names[i],
            )
    for t in targets if missing_targets == "error" else ():
        na = df[t].isna().to_numpy()
        if na.any():
            i = int(np.argmax(na))
            raise InputError(
                f"target {t!r} is NaN/empty ({int(na.sum())} rows; drop or fill them)", record=names[i]
            )
    st_col = next((c for c in _STRUCT_COLUMNS if c in df.columns), None)
    structures = [str(s) for s in df[st_col]] if st_col else None
    tv = df[targets]
    numeric = all(
        pd.api.types.is_numeric_dtype(tv[t]) and not pd.api.types.is_bool_dtype(tv[t]) for t in targets
    )
    binary01 = all(set(pd.unique(tv[t])) <= {0, 1} for t in targets)
    if task == "auto":
        if len(targets) > 1:
            task = "multilabel" if binary01 else "regression"
        else:
            n_unique = tv[targets[0]].nunique()
            if n_unique <= 2:
                task = "binary"
            elif numeric and (n_unique > 20 or not np.allclose(tv[targets[0]], np.round(tv[targets[0]]))):
                task = "regression"
            else:
                task = "multiclass"
    src = [str(p) for p in paths]
    if task != "regression" and bool(tv.isna().to_numpy().any()):
        raise InputError(
            f"missing (NaN) targets can be masked for regression only, not {task}", file=paths[0]
        )
    if task == "regression":
        if not numeric:
            bad = next(t for t in targets if not pd.api.types.is_numeric_dtype(tv[t]))
            raise InputError(
                f"labels do not match the task: regression needs numeric targets, column {bad!r} is not",
                file=paths[0],
            )
        return SequenceData(seqs, names, tv.to_numpy(np.float32), task, list(targets), None, structures, src)
    if task == "multilabel":
        if len(targets) < 2 or not binary01:
            raise InputError(
                "labels do not match the task: multilabel needs >= 2 target columns of 0/1", file=paths[0]
            )
        return SequenceData(
            seqs, names, tv.to_numpy(np.float32), task, list(targets), list(targets), structures, src
        )
    if len(targets) != 1:
        raise InputError(
            f"labels do not match the task: {task} takes one --target column, got {len(targets)}",
            file=paths[0],
        )
    values = tv[targets[0]]
    classes = sorted(pd.unique(values).tolist(), key=lambda v: (str(type(v)), v))
    if len(classes) < 2:
        raise InputError(
            f"only one class ({classes[0]!r}) in column {targets[0]!r}; need at least 2", file=paths[0]
        )
    if task == "binary":
        if len(classes) != 2:
            raise InputError(
                f"labels do not match the task: binary needs 2 classes, column {targets[0]!r} has "
                f"{len(classes)}",
                file=paths[0],
            )
        pos = classes[1]
        y = (values == pos).to_numpy(np.float32)[:, None]
        cls = [str(pos), str(classes[0])]
        return SequenceData(seqs, names, y, task, [str(pos)], cls, structures, src)
    if task == "multiclass":
        index = {c: i for i, c in enumerate(classes)}
        y = np.eye(len(classes), dtype=np.float32)[[index[v] for v in values]]
        return SequenceData(
            seqs, names, y, task, [str(c) for c in classes], [str(c) for c in classes], structures, src
        )
    raise InputError(f"unknown task {task!r}; choose one of auto, {', '.join(TASKS)}")


def load_data(
    specs: Sequence[str | Path],
    *,
    targets: Sequence[str] = (),
    task: str = "auto",
    alphabet: str | Alphabet = "auto",
    seq_column: str | None = None,
    missing_targets: str = "error",
) -> tuple[SequenceData, Alphabet]:
    """Load and validate training data.

    Parameters
    ----------
    specs
        FASTA files (``NAME=FILE`` or ``FILE``; one per class, or ONE multi-label FASTA), or
        tables (CSV/TSV/Parquet) with a sequence column and the ``targets`` columns.
    targets
        Target column(s) for tables.
    task
        ``auto`` or one of :data:`TASKS`.
    alphabet
        ``auto``, ``DNA``, ``RNA``, ``protein``, custom letters, or an :class:`Alphabet`.
    missing_targets
        ``error`` (default): a NaN/empty target is an input error. ``mask``: regression tables
        may leave targets unmeasured (NaN) in a row that has another one (e.g. one assay per
        cell line); the loss and the metrics then use the measured entries only.

    Returns
    -------
    (SequenceData, Alphabet)
    """
    if task != "auto" and task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of auto, {', '.join(TASKS)}")
    if missing_targets not in ("error", "mask"):
        raise InputError(f"missing_targets must be error or mask, got {missing_targets!r}")
    if not specs:
        raise InputError("no input files (give --data FILE...)")
    parsed = [parse_data_spec(s) for s in specs]
    for _, p in parsed:
        if not p.exists():
            raise InputError("file does not exist", file=p)
        if p.is_file() and p.stat().st_size == 0:
            raise InputError("file is empty", file=p)
    tables = [_is_table(p) for _, p in parsed]
    if any(tables) and not all(tables):
        raise InputError("mix of tables and FASTA files; give either tables or FASTA files")
    if all(tables):
        data = _table([p for _, p in parsed], list(targets), task, seq_column, missing_targets)

    else:
        if targets:
            raise InputError("--target applies to tables; FASTA classes come from the files")
        if len(parsed) == 1:
            if task not in ("auto", "multilabel"):
                raise InputError(
                    f"a single FASTA file is a single class; give one file per class for a {task} task "
                    "(or a multi-label FASTA with --task multilabel)",
                    file=parsed[0][1],
                )
            data = _fasta_multilabel(parsed[0][1])
        else:
            data = _fasta_by_class(parsed)
            if task == "regression" or task == "multilabel":
                raise InputError(
                    f"labels do not match the task: FASTA files per class give a classification task, "
                    f"not {task}"
                )
            if task == "binary" and data.task != "binary":
                raise InputError(
                    f"labels do not match the task: binary needs 2 FASTA files, got {len(parsed)}"
                )
            if task == "multiclass" and data.task == "binary":
                data = replace(
                    data,
                    task="multiclass",
                    output_names=list(data.class_names or []),
                    y=np.concatenate([data.y, 1 - data.y], axis=1),
                )
    alph = (
        detect_alphabet(data.sequences)
        if isinstance(alphabet, str) and alphabet == "auto"
        else (alphabet if isinstance(alphabet, Alphabet) else get_alphabet(alphabet))
    )
    _validate_letters(data, alph)
    if data.task != "regression":
        counts = data.class_counts()
        empty = [c for c, n in counts.items() if n == 0]
        if empty:
            raise InputError(f"class(es) {', '.join(map(repr, empty))} have no examples")
    if data.structures is not None:
        for s, st, name in zip(data.sequences, data.structures, data.names, strict=True):
            validate_dotbracket(st, record=name)
            if len(st) != len(s):
                raise InputError(
                    f"structure length {len(st)} differs from sequence length {len(s)}", record=name
                )
    return data, alph


def _validate_letters(data: SequenceData, alph: Alphabet) -> None:
    validate_sequences(data.sequences, alph.accepted, names=data.names)


def split_data(data: SequenceData, fractions: tuple[float, ...], seed: int) -> list[SequenceData]:
    """Seeded random split (stratified by class for single-label classification).

    ``fractions`` are the sizes of all parts but the last, e.g. ``(0.8, 0.1)`` -> 80/10/10. Identical
    sequences are one group that goes to one part, so no sequence is on both sides of a cut (a group is
    stratified by the class of its first copy). Without duplicates the split is the plain per-row one.
    """
    rng = np.random.default_rng(seed)
    n = len(data)
    group_of = duplicate_groups(data.sequences)
    _, first = np.unique(group_of, return_index=True)  # row of each group's first copy, by group id
    if data.task in ("binary", "multiclass"):
        classes = data.y.argmax(1) if data.task == "multiclass" else data.y[:, 0].astype(int)
        strata = classes[first]
    else:
        strata = np.zeros(first.size, dtype=int)
    rows_of = np.split(np.argsort(group_of, kind="stable"), np.cumsum(np.bincount(group_of))[:-1])
    parts: list[list[int]] = [[] for _ in range(len(fractions) + 1)]
    for g in np.unique(strata):
        idx = np.flatnonzero(strata == g)
        rng.shuffle(idx)
        cuts = np.round(np.cumsum(fractions) * len(idx)).astype(int)
        for k, chunk in enumerate(np.split(idx, cuts)):
            parts[k].extend(r for grp in chunk for r in rows_of[grp].tolist())
    out = []
    for k, p in enumerate(parts):
        if not p:
            raise InputError(
                f"split part {k + 1} is empty: too few sequences ({n}) for the split {fractions}"
            )
        out.append(data.subset(np.sort(np.asarray(p))))
    return out
