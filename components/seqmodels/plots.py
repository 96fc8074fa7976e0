"""Figures of a trained model (matplotlib ``Figure`` objects; the caller saves or logs them)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn import metrics as skm  # noqa: E402

__all__ = ["roc_pr_figure", "scatter_figure", "curves_figure", "evaluation_figures"]


def roc_pr_figure(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> Figure:
    """ROC and precision-recall curves, one line per output column (one-vs-rest)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4.5))
    for j, name in enumerate(names):
        t, p = y_true[:, j], y_pred[:, j]
        if not 0 < t.sum() < len(t):
            continue
        fpr, tpr, _ = skm.roc_curve(t, p)
        prec, rec, _ = skm.precision_recall_curve(t, p)
        a1.plot(fpr, tpr, label=f"{name} (AUC {skm.roc_auc_score(t, p):.3f})")
        a2.plot(rec, prec, label=f"{name} (AP {skm.average_precision_score(t, p):.3f})")
    a1.plot([0, 1], [0, 1], "k--", lw=0.8)
    a1.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    a2.set(xlabel="recall", ylabel="precision", title="precision-recall")
    a1.legend(fontsize=8)
    a2.legend(fontsize=8)
    fig.tight_layout()
    return fig


def scatter_figure(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]) -> Figure:
    """Predicted vs measured, one panel per target."""
    k = len(names)
    fig, axes = plt.subplots(1, k, figsize=(4.5 * k, 4.2), squeeze=False)
    for j, (ax, name) in enumerate(zip(axes[0], names, strict=True)):
        ok = np.isfinite(y_true[:, j])  # NaN: target not measured for that sequence
        t, p = y_true[ok, j], y_pred[ok, j]
        if len(t) < 2:
            ax.set(title=f"{name}: not measured")
            continue
        ax.scatter(t, p, s=4, alpha=0.4)
        lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        r = np.corrcoef(t, p)[0, 1] if np.std(p) > 0 else 0.0
        ax.set(xlabel=f"measured {name}", ylabel="predicted", title=f"{name}: Pearson r = {r:.3f}")
    fig.tight_layout()
    return fig


def curves_figure(history: Sequence[dict[str, float]]) -> Figure:
    """Training and validation loss per epoch (one pair of curves per ensemble member)."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    members = sorted({int(h.get("member", 0)) for h in history})
    for m in members:
        rows = [h for h in history if int(h.get("member", 0)) == m]
        epochs = [h["epoch"] for h in rows]
        for key in ("train_loss", "val_loss"):
            label = key if len(members) == 1 else f"{key} m{m}"
            ax.plot(epochs, [h.get(key, np.nan) for h in rows], marker="o", label=label)
    ax.set(xlabel="epoch", ylabel="loss")
    ax.legend()
    fig.tight_layout()
    return fig


def evaluation_figures(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str]
) -> dict[str, Figure]:
    """``{"roc_pr.png": ...}`` for classification, ``{"scatter.png": ...}`` for regression."""
    if task == "regression":
        return {"scatter.png": scatter_figure(y_true, y_pred, names)}
    return {"roc_pr.png": roc_pr_figure(y_true, y_pred, names)}
