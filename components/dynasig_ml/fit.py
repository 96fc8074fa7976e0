"""Honest model selection and fitting (DynaSig-ML, Mailhot et al., Bioinformatics 2023, done right).

For every model spec and predictor set, β (and α for LASSO) are chosen by the mean validation R² over
folds drawn **inside the training set**; the scaler is fitted on the fitting part of each fold and, for
the final model, on the whole training set. The test set is touched once, by the selected model, to
report its metrics. Test R² along the α and β grids is also computed for LASSO (reporting only, it
never feeds a choice), so graphs can show both curves.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import lars_path

from components.common.errors import InputError
from components.dynasig_ml.data import Dataset
from components.dynasig_ml.metrics import r2, score_all
from components.dynasig_ml.models import ModelSpec, make_estimator
from components.dynasig_ml.predictors import ALIASES, BLOCKS, parse_predictors
from components.dynasig_ml.splits import Split, validation_folds

__all__ = [
    "FittedModel",
    "ModelResult",
    "fit_model",
    "fit_models",
    "fit_plan",
    "best_result",
    "PREDICTOR_SETS",
]

#: named predictor sets; any ``+`` combination of blocks is accepted too (e.g. ``local+features``)
PREDICTOR_SETS = (*ALIASES, *BLOCKS)


@dataclass
class FittedModel:
    """A fitted model on standardised predictors (features first, then signature beads).

    Attributes
    ----------
    model : str
    predictors : str
        A predictor set (``signatures``, ``features``, ``both``, ``local``, ``delta+features``...).
    beta : float or None
    alpha : float or None
    feature_names : list of str
    signature_labels : list of str
    mean, scale : ndarray, (n_predictors,)
    estimator : a fitted scikit-learn regressor
    target : str
    """

    model: str
    predictors: str
    beta: float | None
    alpha: float | None
    feature_names: list[str]
    signature_labels: list[str]
    mean: np.ndarray
    scale: np.ndarray
    estimator: Any
    target: str = "target"

    def design(self, features: np.ndarray | None, signatures: np.ndarray | None) -> np.ndarray:
        names = parse_predictors(self.predictors)
        if set(names) - {"features", "signatures"}:
            raise InputError(
                f"predictors {self.predictors!r} are derived from the WT: use predict_matrix with "
                "Dataset.design"
            )
        blocks = []
        if "features" in names:
            if features is None or features.shape[1] != len(self.feature_names):
                raise InputError(f"model needs feature columns {self.feature_names}")
            blocks.append(np.asarray(features, dtype=float))
        if "signatures" in names:
            if signatures is None or signatures.shape[1] != len(self.signature_labels):
                raise InputError(f"model needs signatures with {len(self.signature_labels)} beads")
            blocks.append(np.asarray(signatures, dtype=float))
        return np.hstack(blocks) if len(blocks) > 1 else blocks[0]

    def predict(self, features: np.ndarray | None = None, signatures: np.ndarray | None = None) -> np.ndarray:
        """Predict from raw (unstandardised) features ``(n, F)`` and signatures at :attr:`beta` ``(n, N)``."""
        return self.predict_matrix(self.design(features, signatures))

    def predict_matrix(self, x: np.ndarray) -> np.ndarray:
        """Predict from a raw predictor matrix ``(n, n_predictors)`` (e.g. :meth:`Dataset.design`)."""
        x = (np.asarray(x, dtype=float) - self.mean) / self.scale
        return np.asarray(self.estimator.predict(x), dtype=float)

    def signature_coefficients(self) -> np.ndarray | None:
        """Linear coefficients of the signature beads (original bead order), or None."""
        coef = getattr(self.estimator, "coef_", None)
        names = parse_predictors(self.predictors)
        if coef is None or "signatures" not in names or not self.signature_labels:
            return None
        start = len(self.feature_names) if "features" in names else 0
        return np.asarray(coef, dtype=float).ravel()[start : start + len(self.signature_labels)]


@dataclass
class ModelResult:
    """Selection curves, chosen hyper-parameters, test metrics and the fitted model.

    ``y_val`` / ``pred_val`` are the validation targets and the out-of-fold predictions of the selected
    (β, α) over all folds, pooled (for intervals on the validation score); ``base_val`` holds the
    mean predictor's (each fold's fitting-set mean) on the same rows and ``val_baseline_r2`` its mean
    validation R² over folds.
    """

    label: str
    spec: ModelSpec
    predictors: str
    fitted: FittedModel
    curves: pd.DataFrame  # beta, alpha, val_r2, test_r2 (NaN where not computed)
    val_r2: float
    train_metrics: dict[str, float]
    test_metrics: dict[str, float]
    test_ids: list[str]
    y_test: np.ndarray
    pred_test: np.ndarray
    n_train: int
    n_test: int
    seconds: float
    n_not_converged: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    y_val: np.ndarray = field(default_factory=lambda: np.zeros(0))
    pred_val: np.ndarray = field(default_factory=lambda: np.zeros(0))
    base_val: np.ndarray = field(default_factory=lambda: np.zeros(0))
    val_baseline_r2: float = float("nan")

    def params(self) -> dict[str, Any]:
        return {
            "model": self.spec.describe(),
            "predictors": self.predictors,
            "beta": self.fitted.beta,
            "alpha": self.fitted.alpha,
            "n_train": self.n_train,
            "n_test": self.n_test,
        }

    def predictions(self) -> pd.DataFrame:
        """Test predictions sorted by decreasing prediction (DynaSig-ML's ``*_testing_performance.df``)."""
        df = pd.DataFrame({"variant": self.test_ids, "predicted": self.pred_test, "measured": self.y_test})
        return df.sort_values("predicted", ascending=False, kind="stable").reset_index(drop=True)


def _scaler(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def _fit_predict(
    spec: ModelSpec, x_fit: np.ndarray, y_fit: np.ndarray, x_eval: Sequence[np.ndarray], seed: int
) -> tuple[list[list[np.ndarray]], list[Any], int]:
    """Fit on (x_fit, y_fit) standardised on x_fit; predict every array in x_eval.

    Returns predictions indexed [alpha][eval], the fitted estimators per alpha, and the count of
    non-converged LASSO fits. Non-LASSO models have one "alpha" (None).
    """
    mean, scale = _scaler(x_fit)
    xs = (x_fit - mean) / scale
    evals = [(x - mean) / scale for x in x_eval]
    preds: list[list[np.ndarray]] = []
    models: list[Any] = []
    bad = 0
    if spec.is_lasso:
        assert spec.alphas is not None
        coefs, intercepts = lasso_coefficients(xs, y_fit, spec.alphas)
        for a, coef, b in zip(spec.alphas, coefs, intercepts, strict=True):
            est = make_estimator(spec, seed=seed, alpha=a)
            est.coef_, est.intercept_, est.n_features_in_ = coef, float(b), xs.shape[1]
            preds.append([e @ coef + b for e in evals])
            models.append(est)
    else:
        est = make_estimator(spec, seed=seed)
        est.fit(xs, y_fit)
        preds.append([est.predict(e) for e in evals])
        models.append(est)
    return preds, models, bad


def lasso_coefficients(
    xs: np.ndarray, y: np.ndarray, alphas: Sequence[float]
) -> tuple[np.ndarray, np.ndarray]:
    """Exact LASSO solutions at every α from one LARS-LASSO path (Efron et al. 2004).

    Same objective as :class:`sklearn.linear_model.Lasso` (``1/(2n)||y - Xw - b||² + α||w||₁``) on
    centred ``xs``; the path is piecewise linear in α, so interpolation between its knots is exact
    (agrees with coordinate descent to ~1e-8 where the latter converges, and is much faster on the
    strongly correlated bead signatures). Below the path's last knot (saturated fit, n < p) the last
    solution is kept.

    Returns
    -------
    coefs : ndarray, (n_alpha, n_features)
    intercepts : ndarray, (n_alpha,)
    """
    x_mean = xs.mean(axis=0)
    xc = xs - x_mean
    y_mean = float(y.mean())
    gram = xc.T @ xc if xc.shape[0] > xc.shape[1] else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        knots, _, path = lars_path(xc, y - y_mean, Gram=gram, method="lasso", alpha_min=min(alphas))
    out = np.zeros((len(alphas), xs.shape[1]))
    for i, a in enumerate(alphas):
        if a >= knots[0]:
            continue
        if a <= knots[-1]:
            out[i] = path[:, -1]
            continue
        j = int(np.searchsorted(-knots, -a))  # knots[j-1] > a >= knots[j]
        w = (knots[j - 1] - a) / (knots[j - 1] - knots[j])
        out[i] = (1 - w) * path[:, j - 1] + w * path[:, j]
    return out, y_mean - out @ x_mean


def fit_model(
    data: Dataset,
    split: Split,
    spec: ModelSpec,
    *,
    predictors: str = "both",
    betas: Sequence[float] | None = None,
    validation: str = "split:0.2",
    seed: int = 0,
    test_curves: bool | None = None,
    label: str | None = None,
    n_threads: int | None = 1,
) -> ModelResult:
    """Select β (and α) on validation folds inside ``split.train``; refit on train; score on test.

    Parameters
    ----------
    n_threads
        BLAS/OpenMP threads while fitting (``None``: library defaults). One thread is the fast
        layout on small shared machines (one process per core).
    test_curves
        Also compute test R² for every (β, α) for the graphs (reporting only). Default: LASSO only.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        return _fit_model(data, split, spec, predictors, betas, validation, seed, test_curves, label)


def _fit_model(
    data: Dataset,
    split: Split,
    spec: ModelSpec,
    predictors: str,
    betas: Sequence[float] | None,
    validation: str,
    seed: int,
    test_curves: bool | None,
    label: str | None,
) -> ModelResult:
    t0 = time.perf_counter()
    blocks = parse_predictors(predictors)
    if not data.needs_beta(predictors):
        beta_grid: list[float | None] = [None]
    else:
        if data.signatures is None:
            raise InputError(f"predictors {predictors!r} need signatures")
        beta_grid = list(data.signatures.betas if betas is None else betas)
    test_curves = spec.is_lasso if test_curves is None else test_curves
    folds = validation_folds(split.train, validation, seed=seed, ids=data.ids)
    alphas: list[float | None] = list(spec.alphas) if spec.alphas else [None]
    rows = []
    n_bad = 0
    best: tuple[float, int, int] = (-np.inf, 0, 0)
    best_val_pred: list[np.ndarray] = []
    for bi, beta in enumerate(beta_grid):
        x_all = data.design(predictors, beta)
        val = np.zeros((len(folds), len(alphas)))
        fold_preds = []
        for fi, (fit_idx, val_idx) in enumerate(folds):
            preds, _, bad = _fit_predict(spec, x_all[fit_idx], data.y[fit_idx], [x_all[val_idx]], seed)
            n_bad += bad
            fold_preds.append(preds)
            for ai in range(len(alphas)):
                val[fi, ai] = r2(data.y[val_idx], preds[ai][0])
        mean_val = val.mean(axis=0)
        ai_best = int(np.argmax(mean_val))
        if mean_val[ai_best] > best[0]:
            best_val_pred = [np.asarray(fp[ai_best][0], dtype=float) for fp in fold_preds]
        test_r2 = np.full(len(alphas), np.nan)
        if test_curves:
            preds, _, bad = _fit_predict(
                spec, x_all[split.train], data.y[split.train], [x_all[split.test]], seed
            )
            test_r2 = np.array([r2(data.y[split.test], p[0]) for p in preds])
        for ai, a in enumerate(alphas):
            rows.append({"beta": beta, "alpha": a, "val_r2": mean_val[ai], "test_r2": test_r2[ai]})
            if mean_val[ai] > best[0]:
                best = (float(mean_val[ai]), bi, ai)
    val_r2, bi, ai = best
    if not np.isfinite(val_r2):
        raise InputError(f"model {spec.name}: validation R² is not finite for any (beta, alpha)")
    beta, alpha = beta_grid[bi], alphas[ai]
    x_all = data.design(predictors, beta)
    sel_spec = spec if alpha is None else ModelSpec(spec.name, spec.path, spec.params, (alpha,))
    preds, models, bad = _fit_predict(
        sel_spec, x_all[split.train], data.y[split.train], [x_all[split.train], x_all[split.test]], seed
    )
    n_bad += bad
    mean, scale = _scaler(x_all[split.train])
    fitted = FittedModel(
        model=spec.name,
        predictors=predictors,
        beta=None if beta is None else float(beta),
        alpha=alpha,
        feature_names=list(data.feature_names) if "features" in blocks else [],
        signature_labels=list(data.signatures.labels) if "signatures" in blocks and data.signatures else [],
        mean=mean,
        scale=scale,
        estimator=models[0],
        target=data.target,
    )
    pred_train, pred_test = preds[0]
    return ModelResult(
        label=label or f"{spec.name}-{predictors}",
        spec=spec,
        predictors=predictors,
        fitted=fitted,
        curves=pd.DataFrame(rows),
        val_r2=val_r2,
        train_metrics=score_all(data.y[split.train], pred_train),
        test_metrics=score_all(data.y[split.test], pred_test),
        test_ids=[data.ids[i] for i in split.test],
        y_test=data.y[split.test],
        pred_test=np.asarray(pred_test, dtype=float),
        n_train=int(split.train.size),
        n_test=int(split.test.size),
        seconds=time.perf_counter() - t0,
        n_not_converged=n_bad,
        y_val=np.concatenate([data.y[v] for _, v in folds]),
        pred_val=np.concatenate(best_val_pred),
        base_val=np.concatenate([np.full(v.size, data.y[f].mean()) for f, v in folds]),
        val_baseline_r2=float(np.mean([r2(data.y[v], np.full(v.size, data.y[f].mean())) for f, v in folds])),
    )


def fit_models(
    data: Dataset,
    split: Split,
    specs: Sequence[ModelSpec],
    *,
    predictor_sets: Sequence[str] = ("both",),
    betas: Sequence[float] | None = None,
    validation: str = "split:0.2",
    seed: int = 0,
    n_threads: int | None = 1,
) -> list[ModelResult]:
    """:func:`fit_model` for every (spec, predictor set) of :func:`fit_plan` (unique labels)."""
    return [
        fit_model(
            data,
            split,
            spec,
            predictors=preds,
            betas=betas,
            validation=validation,
            seed=seed,
            label=label,
            n_threads=n_threads,
        )
        for label, spec, preds in fit_plan(specs, predictor_sets)
    ]


def fit_plan(
    specs: Sequence[ModelSpec], predictor_sets: Sequence[str] = ("both",)
) -> list[tuple[str, ModelSpec, str]]:
    """``(label, spec, predictor set)`` for every combination; labels are unique.

    The label is ``<model>-<predictors>``; a repeated one (``--model hgb --model hgb:max_iter=100``)
    gets ``-2``, ``-3``... so runs and plot files never collide.
    """
    plan = []
    seen: dict[str, int] = {}
    for spec in specs:
        for preds in predictor_sets:
            label = f"{spec.name}-{preds}"
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label}-{seen[label]}"
            plan.append((label, spec, preds))
    return plan


def best_result(results: Sequence[ModelResult]) -> ModelResult:
    """The result with the highest validation R² (never the test R²)."""
    if not results:
        raise ValueError("results is empty")
    return max(results, key=lambda r: r.val_r2)
