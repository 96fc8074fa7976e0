"""Outer cross-validation with honest inner selection: out-of-fold predictions over every variant.

For each outer fold (:func:`~components.dynasig_ml.splits.outer_folds`), :func:`fit_model` chooses β
(and α) on validation folds drawn inside that fold's training variants, refits on them and predicts the
held-out variants once. :func:`select_per_fold` then picks, in every outer fold, the (model, predictor
set) with the best inner validation R², which is how "the best honestly selected model" is scored:
the choice never sees the held-out fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from components.dynasig_ml.data import Dataset
from components.dynasig_ml.fit import ModelResult, fit_model
from components.dynasig_ml.metrics import score_all
from components.dynasig_ml.models import ModelSpec
from components.dynasig_ml.splits import Split

__all__ = ["CVResult", "cross_validate", "select_per_fold", "oof_metrics"]


@dataclass
class CVResult:
    """Out-of-fold predictions of one (model, predictor set), or of a per-fold selection.

    Attributes
    ----------
    label : str
    oof : ndarray, (n,)
        Mean prediction of each variant over the folds that tested it (NaN: never tested).
    y : ndarray, (n,)
    ids : list of str
    folds : list of ModelResult
        One per outer fold (for a selection: the chosen one).
    metrics : dict
        :func:`oof_metrics` over the tested variants.
    """

    label: str
    oof: np.ndarray
    y: np.ndarray
    ids: list[str]
    folds: list[ModelResult]
    metrics: dict[str, float] = field(default_factory=dict)

    def chosen(self) -> list[dict[str, object]]:
        """Per fold: label, β, α and inner validation R² of the model used."""
        return [
            {"model": r.label, "beta": r.fitted.beta, "alpha": r.fitted.alpha, "val_r2": r.val_r2}
            for r in self.folds
        ]

    def predictions(self) -> pd.DataFrame:
        return pd.DataFrame({"variant": self.ids, "predicted": self.oof, "measured": self.y})


def oof_metrics(y: np.ndarray, oof: np.ndarray) -> dict[str, float]:
    """R², Pearson r, Spearman ρ, RMSE and EF10 % over the variants with a prediction."""
    tested = np.isfinite(oof)
    out = score_all(y[tested], oof[tested])
    out["n_tested"] = float(tested.sum())
    return out


def _collect(label: str, data: Dataset, folds: Sequence[Split], results: Sequence[ModelResult]) -> CVResult:
    total = np.zeros(len(data))
    count = np.zeros(len(data))
    for split, res in zip(folds, results, strict=True):
        total[split.test] += res.pred_test
        count[split.test] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        oof = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return CVResult(label, oof, data.y.copy(), list(data.ids), list(results), oof_metrics(data.y, oof))


def cross_validate(
    data: Dataset,
    folds: Sequence[Split],
    spec: ModelSpec,
    *,
    predictors: str = "both",
    betas: Sequence[float] | None = None,
    validation: str = "cv:5",
    seed: int = 0,
    label: str | None = None,
    n_threads: int | None = 1,
) -> CVResult:
    """:func:`fit_model` on every outer fold; out-of-fold predictions and their metrics."""
    label = label or f"{spec.name}-{predictors}"
    results = [
        fit_model(
            data,
            split,
            spec,
            predictors=predictors,
            betas=betas,
            validation=validation,
            seed=seed,
            label=label,
            n_threads=n_threads,
            test_curves=False,
        )
        for split in folds
    ]
    return _collect(label, data, folds, results)


def select_per_fold(
    data: Dataset, folds: Sequence[Split], candidates: Sequence[CVResult], *, label: str = "selected"
) -> CVResult:
    """In every outer fold, the candidate with the best inner validation R² (never the test fold)."""
    if not candidates:
        raise ValueError("candidates is empty")
    chosen = [max((c.folds[i] for c in candidates), key=lambda r: r.val_r2) for i in range(len(folds))]
    return _collect(label, data, folds, chosen)
