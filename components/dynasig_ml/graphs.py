"""Performance graphs (matplotlib, Agg backend): each function returns a ``Figure``.

* :func:`plot_pred_vs_measured`: test predictions against measures, annotated with R² and EF10 %;
* :func:`plot_out_of_fold`: out-of-fold predictions of an outer cross-validation against measures;
* :func:`plot_r2_vs_alpha`: validation (and test, reporting only) R² along the LASSO α grid at the chosen β;
* :func:`plot_r2_vs_beta`: best validation R² per β (and the test R² of that choice);
* :func:`plot_coefficients`: LASSO signature coefficients along the sequence, one marker style per bead type.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from components.dynasig_ml.fit import ModelResult  # noqa: E402

__all__ = [
    "plot_pred_vs_measured",
    "plot_out_of_fold",
    "plot_r2_vs_alpha",
    "plot_r2_vs_beta",
    "plot_coefficients",
    "save_figure",
]


def plot_pred_vs_measured(result: ModelResult) -> Figure:
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(result.pred_test, result.y_test, s=8, alpha=0.5, edgecolors="none")
    lo = float(min(result.pred_test.min(), result.y_test.min()))
    hi = float(max(result.pred_test.max(), result.y_test.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
    m = result.test_metrics
    ax.text(
        0.04,
        0.96,
        f"R² = {m['r2']:.3f}\nr = {m['pearson_r']:.3f}\nEF10% = {m['ef10']:.2f}\nn = {result.n_test}",
        transform=ax.transAxes,
        va="top",
        fontsize=10,
    )
    ax.set_xlabel(f"predicted {result.fitted.target}")
    ax.set_ylabel(f"measured {result.fitted.target}")
    ax.set_title(f"{result.label} (test)")
    fig.tight_layout()
    return fig


def plot_out_of_fold(label: str, y: np.ndarray, oof: np.ndarray, metrics: dict[str, float]) -> Figure:
    """Out-of-fold predictions ``oof`` (NaN: never tested) against the measures ``y``."""
    tested = np.isfinite(oof)
    p, m = oof[tested], y[tested]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(p, m, s=8, alpha=0.5, edgecolors="none")
    lo, hi = float(min(p.min(), m.min())), float(max(p.max(), m.max()))
    ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
    text = f"R² = {metrics['r2']:.3f}\nr = {metrics['pearson_r']:.3f}\nρ = {metrics['spearman_rho']:.3f}"
    ax.text(0.04, 0.96, f"{text}\nn = {int(tested.sum())}", transform=ax.transAxes, va="top", fontsize=10)
    ax.set_xlabel("predicted (out of fold)")
    ax.set_ylabel("measured")
    ax.set_title(f"{label} (out-of-fold)")
    fig.tight_layout()
    return fig


def plot_r2_vs_alpha(result: ModelResult) -> Figure:
    curves = result.curves
    beta = result.fitted.beta
    sel = curves if beta is None else curves[np.isclose(curves["beta"].astype(float), beta)]
    sel = sel.sort_values("alpha")
    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = np.log2(sel["alpha"].astype(float))
    ax.plot(x, sel["val_r2"], marker="o", label="validation (selects α)")
    if sel["test_r2"].notna().any():
        ax.plot(x, sel["test_r2"], marker="s", ls="--", label="test (reporting only)")
    if result.fitted.alpha is not None:
        ax.axvline(np.log2(result.fitted.alpha), color="grey", lw=0.8)
    ax.set_xlabel("log₂ α")
    ax.set_ylabel("R²")
    ax.set_ylim(bottom=max(-0.2, float(np.nanmin(sel[["val_r2", "test_r2"]].to_numpy(dtype=float))) - 0.05))
    ax.set_title(f"{result.label}: R² vs α (β = {beta:.3g})" if beta else f"{result.label}: R² vs α")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_r2_vs_beta(result: ModelResult) -> Figure:
    curves = result.curves.dropna(subset=["beta"])
    fig, ax = plt.subplots(figsize=(5.5, 4))
    if not curves.empty:
        best = curves.loc[curves.groupby("beta")["val_r2"].idxmax()].sort_values("beta")
        x = np.log(best["beta"].astype(float))
        ax.plot(x, best["val_r2"], marker="o", label="validation (selects β)")
        if best["test_r2"].notna().any():
            ax.plot(x, best["test_r2"], marker="s", ls="--", label="test (reporting only)")
        if result.fitted.beta is not None:
            ax.axvline(np.log(result.fitted.beta), color="grey", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_xlabel("ln β")
    ax.set_ylabel("R² (best α per β)")
    ax.set_title(f"{result.label}: R² vs β")
    fig.tight_layout()
    return fig


def plot_coefficients(
    labels: Sequence[str], coefs: np.ndarray, *, title: str = "LASSO coefficients"
) -> Figure:
    """Coefficients per bead against the residue number (``B|12|A|12`` -> 12)."""
    fig, ax = plt.subplots(figsize=(10, 3.5))
    kinds: dict[str, tuple[list[float], list[float]]] = {}
    for lab, c in zip(labels, coefs, strict=True):
        parts = lab.split("|")
        kind = parts[0].split(".")[-1]
        try:
            pos = float(parts[1])
        except (IndexError, ValueError):
            pos = float(len(kinds.get(kind, ([], []))[0]))
        kinds.setdefault(kind, ([], []))
        kinds[kind][0].append(pos)
        kinds[kind][1].append(float(c))
    offsets = {k: (i - (len(kinds) - 1) / 2) * 0.25 for i, k in enumerate(sorted(kinds))}
    for kind, (xs, ys) in sorted(kinds.items()):
        x = np.asarray(xs) + offsets[kind]
        ax.vlines(x, 0, ys, lw=1.2, alpha=0.8)
        ax.scatter(x, ys, s=12, label=f"{kind} bead")
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("residue number")
    ax.set_ylabel("coefficient")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=len(kinds))
    fig.tight_layout()
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save as PNG and close."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
