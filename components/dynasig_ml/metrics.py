"""Regression and ranking metrics used to score DynaSig-ML models.

EF10 % (enrichment factor of the top 10 %): ``ef_topk`` is the plain definition, the overlap of the
``k = round(0.1 n)`` best-predicted and the ``k`` best-measured variants divided by ``k * 0.1``
(a random ranking scores 1, a perfect one 10). ``ef_dynasigml`` reproduces DynaSig-ML 1.0.9's
``_get_ef`` (Mailhot et al., Bioinformatics 2023) exactly, for comparisons with published numbers:
it uses ``k' = int(0.1 n + 1)``, takes the ``(k'-1)``-th largest measure as threshold, then counts hits
among the predictions at indices ``-0, -1, ..., -(k'-1)`` of the ascending order; index ``-0`` is the
*lowest*-predicted variant (an off-by-one), and it divides by ``k'-1``. For large ``n`` the two agree
within about 0.02; on small test sets (n ~ 100) they can differ by ~1.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy import stats

__all__ = [
    "r2",
    "pearson_r",
    "spearman_rho",
    "rmse",
    "ef_topk",
    "ef_dynasigml",
    "score_all",
    "bootstrap_ci",
    "improvement_ci",
    "CI_METRICS",
]


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yt = np.asarray(y_true, dtype=float).ravel()
    yp = np.asarray(y_pred, dtype=float).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true and y_pred differ in length: {yt.size} vs {yp.size}")
    if yt.size == 0:
        raise ValueError("y_true is empty")
    return yt, yp


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination, ``1 - SS_res / SS_tot`` (sklearn's ``r2_score``)."""
    yt, yp = _pair(y_true, y_pred)
    ss_tot = float(np.sum((yt - yt.mean()) ** 2))
    ss_res = float(np.sum((yt - yp) ** 2))
    if ss_tot == 0.0:
        return 1.0 if ss_res == 0.0 else 0.0
    return 1.0 - ss_res / ss_tot


def pearson_r(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation (NaN when either vector is constant)."""
    yt, yp = _pair(y_true, y_pred)
    if yt.size < 2 or np.ptp(yt) == 0 or np.ptp(yp) == 0:
        return float("nan")
    return float(np.corrcoef(yt, yp)[0, 1])


def spearman_rho(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Spearman rank correlation (NaN when either vector is constant)."""
    yt, yp = _pair(y_true, y_pred)
    if yt.size < 2 or np.ptp(yt) == 0 or np.ptp(yp) == 0:
        return float("nan")
    return float(stats.spearmanr(yt, yp).statistic)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error."""
    yt, yp = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((yt - yp) ** 2)))


def ef_topk(y_true: np.ndarray, y_pred: np.ndarray, fraction: float = 0.1) -> float:
    """Enrichment factor of the top ``fraction``: |top-k predicted ∩ top-k measured| / (k * fraction).

    ``k = max(1, round(fraction * n))``; ties are broken by a stable sort (first occurrence wins).
    Returns a value in ``[0, 1/fraction]``; 1 is random, ``1/fraction`` perfect.
    """
    yt, yp = _pair(y_true, y_pred)
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * yt.size)))
    top_pred = set(np.argsort(-yp, kind="stable")[:k].tolist())
    top_true = set(np.argsort(-yt, kind="stable")[:k].tolist())
    return len(top_pred & top_true) / (k * fraction)


def ef_dynasigml(y_true: np.ndarray, y_pred: np.ndarray, fraction: float = 0.1) -> float:
    """EF10 % exactly as DynaSig-ML 1.0.9 ``DynaSigML_Model._get_ef`` computes it (off-by-one kept).

    Use only to compare with numbers produced by DynaSig-ML; :func:`ef_topk` is the correct metric.
    """
    yt, yp = _pair(y_true, y_pred)
    n = yt.size
    k = int(fraction * n + 1)
    if k < 2:
        return float("nan")
    order = np.argsort(yp)  # ascending by prediction, numpy's default sort as in DynaSig-ML
    measured_sorted = yt[order]
    threshold = np.sort(yt)[-(k - 1)]
    hits = sum(1 for i in range(k) if measured_sorted[-i] >= threshold)
    return hits / (k - 1) / fraction


def score_all(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """All metrics in one dict: r2, pearson_r, spearman_rho, rmse, ef10 (top-k), ef10_dynasigml."""
    return {
        "r2": r2(y_true, y_pred),
        "pearson_r": pearson_r(y_true, y_pred),
        "spearman_rho": spearman_rho(y_true, y_pred),
        "rmse": rmse(y_true, y_pred),
        "ef10": ef_topk(y_true, y_pred),
        "ef10_dynasigml": ef_dynasigml(y_true, y_pred),
    }


def bootstrap_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float],
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y_true, y_pred)`` over resampled (paired) variants.

    Uses :func:`scipy.stats.bootstrap` (Efron & Tibshirani 1993). Returns ``(nan, nan)`` for fewer than
    3 variants or when the metric is undefined on most resamples (e.g. constant predictions).
    """
    yt, yp = _pair(y_true, y_pred)
    if yt.size < 3 or n_resamples < 1:
        return float("nan"), float("nan")

    def stat(a: np.ndarray, b: np.ndarray) -> float:
        return float(metric(a, b))

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = stats.bootstrap(
            (yt, yp),
            stat,
            paired=True,
            vectorized=False,
            n_resamples=n_resamples,
            confidence_level=level,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
    lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
    return lo, hi


def improvement_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_base: np.ndarray,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """How much ``y_pred`` lowers the squared error of ``y_base`` (e.g. a mean predictor), per variant.

    Returns ``(mean gain, low, high)``: the mean of ``(y - base)² - (y - pred)²`` and its percentile
    bootstrap interval (paired resampling of variants). A positive gain means a higher R² on the
    same rows; ``low > 0`` means better beyond the interval. ``n_resamples=0`` gives ``(gain, gain, gain)``.
    """
    yt, yp = _pair(y_true, y_pred)
    _, yb = _pair(y_true, y_base)
    gain = (yt - yb) ** 2 - (yt - yp) ** 2
    mean = float(gain.mean())
    if n_resamples < 1:
        return mean, mean, mean
    if gain.size < 3:
        return mean, float("nan"), float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        res = stats.bootstrap(
            (gain,),
            np.mean,
            n_resamples=n_resamples,
            confidence_level=level,
            method="percentile",
            random_state=np.random.default_rng(seed),
        )
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)


#: metrics reported with bootstrap intervals (validation and test)
CI_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"r2": r2, "pearson_r": pearson_r}
