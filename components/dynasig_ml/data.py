"""Signature sets and the aligned design data (signatures + extra features + target) of one study.

A :class:`SignatureSet` holds ENCoM Dynamical Signatures (Mailhot et al., Bioinformatics 2023) of many
structures as one array ``values`` of shape ``(n_beta, n_structures, n_beads)``. It reads

* the long table of ``components.encom.compute_signatures_batch`` (columns ``structure, beta, bead, value``),
* the wide table DynaSig-ML style (one row per structure and beta: an id column, ``beta`` and one column
  per bead label such as ``S|12|A|12``; other columns are ignored),
* its own NPZ file (:func:`save_signatures`; no pickle).

Structure ids are turned into canonical variant keys (:func:`canonical_variant`), so ``mir125a_A12C.pdb``
and ``A12C`` name the same variant.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from components.common.errors import DynamotifWarning, InputError
from components.common.io import atomic_path, read_table
from components.dynasig_ml.predictors import (
    BETA_BLOCKS,
    DerivedPredictors,
    ResidueContext,
    derive_predictors,
    parse_predictors,
)
from components.mutation.variants import canonical_variant

__all__ = [
    "SignatureSet",
    "Dataset",
    "load_signatures",
    "save_signatures",
    "signatures_from_frame",
    "build_dataset",
]

_ID_COLUMNS = ("structure", "variant", "file_id", "id")


@dataclass(frozen=True)
class SignatureSet:
    """Signatures of many structures at several β.

    Attributes
    ----------
    ids : list of str, (n_structures,)
        Canonical variant keys.
    betas : ndarray, (n_beta,)
    labels : list of str, (n_beads,)
        Bead labels, DynaSig-ML style (``B|12|A|12``).
    values : ndarray, (n_beta, n_structures, n_beads)
    """

    ids: list[str]
    betas: np.ndarray
    labels: list[str]
    values: np.ndarray
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.values.shape != (len(self.betas), len(self.ids), len(self.labels)):
            raise ValueError(
                f"values has shape {self.values.shape}, expected "
                f"({len(self.betas)}, {len(self.ids)}, {len(self.labels)})"
            )
        self._index.clear()
        for i, key in enumerate(self.ids):
            if key in self._index:
                raise InputError(f"structure {key!r} appears twice in the signatures")
            self._index[key] = i

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def beta_index(self, beta: float) -> int:
        """Index of ``beta`` in :attr:`betas` (relative tolerance 1e-6)."""
        hits = np.flatnonzero(np.isclose(self.betas, beta, rtol=1e-6, atol=0.0))
        if hits.size == 0:
            raise InputError(
                f"beta {beta} not in the signatures (have {', '.join(f'{b:.4g}' for b in self.betas)})"
            )
        return int(hits[0])

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row indices of ``ids``; raises :class:`InputError` naming the first unknown ones."""
        missing = [k for k in ids if k not in self._index]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InputError(f"{len(missing)} variant(s) have no signature: {shown}")
        return np.fromiter((self._index[k] for k in ids), dtype=np.int64, count=len(ids))

    def matrix(self, beta: float, ids: Sequence[str] | None = None) -> np.ndarray:
        """Signatures at ``beta`` as float64, shape ``(len(ids), n_beads)``."""
        b = self.beta_index(beta)
        block = self.values[b] if ids is None else self.values[b, self.rows(ids)]
        return np.asarray(block, dtype=np.float64)

    def subset(self, ids: Sequence[str]) -> SignatureSet:
        rows = self.rows(ids)
        return SignatureSet(list(ids), self.betas.copy(), list(self.labels), self.values[:, rows])

    @staticmethod
    def concat(parts: Sequence[SignatureSet]) -> SignatureSet:
        """Concatenate sets that share β and bead labels."""
        if not parts:
            raise ValueError("parts is empty")
        first = parts[0]
        for p in parts[1:]:
            if p.labels != first.labels:
                raise InputError("signature parts have different bead labels")
            if p.betas.shape != first.betas.shape or not np.allclose(p.betas, first.betas, rtol=1e-9):
                raise InputError("signature parts have different beta values")
        ids = [k for p in parts for k in p.ids]
        values = np.concatenate([p.values for p in parts], axis=1)
        return SignatureSet(ids, first.betas.copy(), list(first.labels), values)


def _canon_ids(raw: Sequence[object], source: str) -> list[str]:
    return [canonical_variant(str(r), record=f"{source} structure {r!r}") for r in raw]


def signatures_from_frame(df: pd.DataFrame, *, source: str = "signatures") -> SignatureSet:
    """Build a :class:`SignatureSet` from a long or a wide DataFrame (see module doc)."""
    cols = set(df.columns)
    if {"structure", "beta", "bead", "value"} <= cols:
        structures = list(dict.fromkeys(df["structure"].astype(str)))
        beads = list(dict.fromkeys(df["bead"].astype(str)))
        betas = np.array(sorted(set(df["beta"].astype(float))))
        s_idx = pd.Index(structures).get_indexer(pd.Index(df["structure"].astype(str)))
        b_idx = pd.Index(beads).get_indexer(pd.Index(df["bead"].astype(str)))
        k_idx = np.searchsorted(betas, df["beta"].astype(float).to_numpy())
        values = np.full((len(betas), len(structures), len(beads)), np.nan)
        values[k_idx, s_idx, b_idx] = pd.to_numeric(df["value"], errors="coerce").to_numpy(dtype=float)
        if np.isnan(values).any():
            raise InputError(
                "long signature table is incomplete (missing or non-numeric values)", file=source
            )
        return SignatureSet(_canon_ids(structures, source), betas, beads, values)
    id_col = next((c for c in _ID_COLUMNS if c in cols), None)
    if id_col is None or "beta" not in cols:
        raise InputError(
            "signature table needs columns structure/beta/bead/value (long) or an id column "
            f"({'/'.join(_ID_COLUMNS)}) + beta + bead columns (wide)",
            file=source,
        )
    bead_cols = [c for c in df.columns if "|" in str(c)]
    if not bead_cols:
        raise InputError("wide signature table has no bead columns (names like 'S|12|A|12')", file=source)
    structures = list(dict.fromkeys(df[id_col].astype(str)))
    betas = np.array(sorted(set(df["beta"].astype(float))))
    values = np.full((len(betas), len(structures), len(bead_cols)), np.nan)
    s_idx = pd.Index(structures).get_indexer(pd.Index(df[id_col].astype(str)))
    k_idx = np.searchsorted(betas, df["beta"].astype(float).to_numpy())
    values[k_idx, s_idx] = df[bead_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any():
        raise InputError(
            "wide signature table is incomplete (a structure lacks a beta, or non-numeric values)",
            file=source,
        )
    return SignatureSet(_canon_ids(structures, source), betas, [str(c) for c in bead_cols], values)


def load_signatures(path: str | Path) -> SignatureSet:
    """Read signatures from NPZ (:func:`save_signatures`) or a long/wide CSV/TSV/Parquet table."""
    path = Path(path)
    if path.suffix == ".npz":
        if not path.exists():
            raise InputError("file does not exist", file=path)
        try:
            with np.load(path, allow_pickle=False) as z:
                return SignatureSet(
                    [str(x) for x in z["ids"]],
                    z["betas"].astype(float),
                    [str(x) for x in z["labels"]],
                    z["values"],
                )
        except (KeyError, ValueError, OSError) as exc:
            raise InputError(f"not a signature NPZ file: {exc}", file=path) from exc
    return signatures_from_frame(read_table(path), source=str(path))


def save_signatures(sigs: SignatureSet, path: str | Path) -> Path:
    """Write ``sigs`` as an NPZ file (atomic; string arrays, no pickle)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                ids=np.array(sigs.ids, dtype=str),
                betas=np.asarray(sigs.betas, dtype=float),
                labels=np.array(sigs.labels, dtype=str),
                values=sigs.values,
            )
    return path


@dataclass(frozen=True)
class Dataset:
    """Variants aligned with their target, extra features and signatures.

    Attributes
    ----------
    ids : list of str, (n,)
        Canonical variant keys.
    y : ndarray, (n,)
    features : ndarray, (n, n_features)
        Extra per-variant predictors (e.g. ``mcfold_energy``).
    feature_names : list of str
    signatures : SignatureSet or None
        Signatures of exactly ``ids``, in that order.
    table : DataFrame
        The kept rows of the input table (index reset), for column splits.
    n_dropped : int
        Rows dropped because the target or a feature was NaN.
    target : str
    derived : DerivedPredictors or None
        ENCoM-derived and position-invariant blocks (:mod:`components.dynasig_ml.predictors`),
        present when the dataset was built with a WT :class:`ResidueContext`.
    """

    ids: list[str]
    y: np.ndarray
    features: np.ndarray
    feature_names: list[str]
    signatures: SignatureSet | None
    table: pd.DataFrame
    n_dropped: int
    target: str
    derived: DerivedPredictors | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def needs_beta(self, predictors: str) -> bool:
        """Whether ``predictors`` has a β-dependent block (signatures, delta, svib, dynamics)."""
        return bool(BETA_BLOCKS & set(parse_predictors(predictors)))

    def design(self, predictors: str, beta: float | None, rows: np.ndarray | None = None) -> np.ndarray:
        """Predictor matrix of a predictor set (:func:`~components.dynasig_ml.predictors.parse_predictors`:
        ``signatures``, ``features``, ``both``, ``delta``, ``local``, ``local+features``...), blocks in
        :data:`~components.dynasig_ml.predictors.BLOCKS` order (features first, like DynaSig-ML)."""
        idx = np.arange(len(self.ids)) if rows is None else rows
        blocks = []
        for name in parse_predictors(predictors):
            if name == "features":
                if not self.feature_names:
                    raise InputError(
                        f"predictors {predictors!r} need extra feature columns (e.g. --features mcfold_energy)"
                    )
                blocks.append(self.features[idx])
            elif name == "signatures":
                if self.signatures is None or beta is None:
                    raise InputError(f"predictors {predictors!r} need signatures and a beta")
                b = self.signatures.beta_index(beta)
                blocks.append(np.asarray(self.signatures.values[b, idx], dtype=np.float64))
            else:
                if self.derived is None:
                    raise InputError(
                        f"predictors {predictors!r} need the WT structure and its signature "
                        "(ENCoM-derived blocks)"
                    )
                bi = None
                if name in BETA_BLOCKS:
                    if beta is None:
                        raise InputError(f"predictors {predictors!r} need a beta")
                    hits = np.flatnonzero(np.isclose(self.derived.betas, beta, rtol=1e-6, atol=0.0))
                    if hits.size == 0:
                        raise InputError(f"beta {beta} not in the derived predictors")
                    bi = int(hits[0])
                blocks.append(self.derived.block(name, bi, idx))
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    def predictor_names(self, predictors: str) -> list[str]:
        names: list[str] = []
        for name in parse_predictors(predictors):
            if name == "features":
                names += self.feature_names
            elif name == "signatures":
                names += self.signatures.labels if self.signatures is not None else []
            elif self.derived is not None:
                names += self.derived.names(name)
        return names


def build_dataset(
    table: pd.DataFrame,
    target: str,
    *,
    signatures: SignatureSet | None = None,
    features: Sequence[str] = (),
    variant_column: str = "variant",
    strict: bool = False,
    source: str = "variants table",
    context: ResidueContext | None = None,
) -> Dataset:
    """Align a variants table with signatures.

    With ``context`` (the WT structure and signature, :func:`~components.dynasig_ml.predictors.
    residue_context`) the ENCoM-derived blocks (delta, svib, dynamics, structure, aa) are computed
    too; ``signatures`` must then share the context's β and bead labels.

    Rows whose target or features are NaN are dropped (a :class:`DynamotifWarning` gives the count) or,
    with ``strict=True``, raise. Variants must be unique and (when ``signatures`` is given) present
    in the signatures.

    Raises
    ------
    InputError
        Missing column, non-numeric target/feature value, duplicate or unknown variant, NaN with
        ``strict``, or no row left.
    """
    for col, what in [(variant_column, "variant"), (target, "target"), *[(f, "feature") for f in features]]:
        if col not in table.columns:
            raise InputError(
                f"{what} column {col!r} does not exist; columns are {', '.join(map(str, table.columns))}",
                file=source,
            )
    df = table.reset_index(drop=True)
    numeric: dict[str, np.ndarray] = {}
    for col in [target, *features]:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() & df[col].notna() & (df[col].astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"column {col!r} is not numeric: {df[col].iloc[i]!r}", file=source, record=f"row {i + 2}"
            )
        numeric[col] = values.to_numpy(dtype=float)
    nan_rows = np.zeros(len(df), dtype=bool)
    for arr in numeric.values():
        nan_rows |= ~np.isfinite(arr)
    n_dropped = int(nan_rows.sum())
    if n_dropped:
        if strict:
            i = int(np.flatnonzero(nan_rows)[0])
            raise InputError(
                f"{n_dropped} row(s) have a missing target/feature value (strict mode)",
                file=source,
                record=f"row {i + 2}",
            )
        warnings.warn(
            f"{source}: dropped {n_dropped} row(s) with a missing target/feature value",
            DynamotifWarning,
            stacklevel=2,
        )
    keep = ~nan_rows
    if not keep.any():
        raise InputError(f"no row has a numeric {target!r} value", file=source)
    df = df.loc[keep].reset_index(drop=True)
    ids = [
        canonical_variant(
            v if isinstance(v, str) else ("WT" if pd.isna(v) else str(v)), record=f"row {i + 2}"
        )
        for i, v in zip(np.flatnonzero(keep), df[variant_column], strict=True)
    ]
    dup = pd.Index(ids).duplicated()
    if dup.any():
        raise InputError(f"variant {ids[int(np.flatnonzero(dup)[0])]!r} appears twice", file=source)
    sig_subset = None
    if signatures is not None:
        missing = [k for k in ids if k not in signatures]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InputError(f"unknown variant(s) (no signature): {shown}", file=source)
        sig_subset = signatures.subset(ids)
    feats = np.column_stack([numeric[f][keep] for f in features]) if features else np.zeros((len(ids), 0))
    derived = None
    if context is not None:
        if sig_subset is None:
            raise InputError("ENCoM-derived predictors need the variants' signatures")
        if sig_subset.labels != context.labels or not np.allclose(sig_subset.betas, context.betas, rtol=1e-9):
            raise InputError("the signatures and the WT signature have different beads or beta values")
        derived = derive_predictors(ids, sig_subset.values, context)
    return Dataset(
        ids=ids,
        y=numeric[target][keep],
        features=feats,
        feature_names=list(features),
        signatures=sig_subset,
        table=df,
        n_dropped=n_dropped,
        target=target,
        derived=derived,
    )
