"""Figures: logos (logomaker), positional and class enrichment, and the co-occurrence heatmap.

Every function writes a PNG and returns its path; matplotlib runs headless (Agg).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.cluster.hierarchy import dendrogram, linkage  # noqa: E402

from components.common.io import atomic_path  # noqa: E402
from components.motifs.meme import Motif, information_content  # noqa: E402

__all__ = ["plot_logo", "plot_kernel_logo", "plot_positions", "plot_class_enrichment", "plot_cooccurrence"]

_NUC_COLORS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839", "U": "#D62839"}
_STRUCT_COLORS = {"S": "#444444", "H": "#E4572E", "I": "#29335C", "M": "#A8C686", "E": "#669BBC"}


def _save(fig: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=72, bbox_inches="tight")
    plt.close(fig)
    return path


def _draw_logo(ax: plt.Axes, motif: Motif, colors: dict[str, str]) -> None:
    import logomaker

    ic = information_content(motif.pwm)
    df = pd.DataFrame(motif.pwm * ic[:, None], columns=list(motif.alphabet))
    scheme = {c: colors.get(c, "#777777") for c in motif.alphabet}
    logomaker.Logo(df, ax=ax, color_scheme=scheme, show_spines=False)
    ax.set_ylim(0, max(np.log2(len(motif.alphabet)), 1e-6))
    ax.set_ylabel("bits")
    ax.set_xticks([])


def plot_logo(motif: Motif, path: str | Path, *, title: str | None = None) -> Path:
    """Information-content sequence logo of one motif."""
    fig, ax = plt.subplots(figsize=(max(2.5, 0.35 * motif.width), 1.6))
    _draw_logo(ax, motif, {**_NUC_COLORS, **_STRUCT_COLORS})
    ax.set_title(title or motif.id, fontsize=9)
    return _save(fig, Path(path))


def plot_kernel_logo(
    sequence_motif: Motif, structure_motif: Motif | None, path: str | Path, *, title: str
) -> Path:
    """Kernel logo: the sequence logo, plus the structure logo below it for sequence x structure models."""
    rows = 1 if structure_motif is None else 2
    fig, axes = plt.subplots(
        rows, 1, figsize=(max(2.5, 0.35 * sequence_motif.width), 1.6 * rows), squeeze=False
    )
    _draw_logo(axes[0, 0], sequence_motif, _NUC_COLORS)
    axes[0, 0].set_title(title, fontsize=9)
    if structure_motif is not None:
        _draw_logo(axes[1, 0], structure_motif, _STRUCT_COLORS)
        axes[1, 0].set_ylabel("bits (structure)")
    return _save(fig, Path(path))


def plot_positions(
    positions_by_class: dict[str, np.ndarray], mean_activation: np.ndarray, path: str | Path, *, title: str
) -> Path:
    """Positional enrichment: histogram of argmax window starts per class + mean activation profile."""
    l_out = len(mean_activation)
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(5, 3.2), sharex=True)
    bins = np.linspace(0, max(l_out, 1), min(50, max(l_out, 1)) + 1)
    for g, pos in positions_by_class.items():
        if len(pos):
            a1.hist(pos, bins=bins, histtype="step", label=f"{g} (n={len(pos)})")
    a1.set_ylabel("windows")
    a1.legend(fontsize=6, frameon=False)
    a1.set_title(title, fontsize=9)
    a2.plot(np.arange(l_out), mean_activation, color="k", lw=1)
    a2.set_xlabel("window start")
    a2.set_ylabel("mean act.")
    return _save(fig, Path(path))


def plot_class_enrichment(max_by_class: dict[str, np.ndarray], path: str | Path, *, title: str) -> Path:
    """Class enrichment: violin + box plot of the per-sequence maximum activation per class."""
    names = [g for g, v in max_by_class.items() if len(v)]
    data = [max_by_class[g] for g in names]
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(names), 2.6))
    if data:
        if all(np.ptp(d) > 0 for d in data):
            ax.violinplot(data, showextrema=False)
        ax.boxplot(data, widths=0.15, showfliers=False)
        ax.set_xticks(np.arange(1, len(names) + 1), names, rotation=30, fontsize=7)
    ax.set_ylabel("max activation")
    ax.set_title(title, fontsize=9)
    return _save(fig, Path(path))


def cluster_order(M: np.ndarray) -> np.ndarray:
    """Leaf order of Ward clustering (Euclidean) of the rows of ``M``."""
    if len(M) < 3:
        return np.arange(len(M))
    return np.asarray(dendrogram(linkage(M, method="ward"), no_plot=True)["leaves"])


def plot_cooccurrence(
    max_activations: np.ndarray,
    path: str | Path,
    *,
    group_of: np.ndarray | None = None,
    kernel_names: list[str] | None = None,
    max_sequences: int = 2000,
    seed: int = 0,
) -> tuple[Path, np.ndarray, np.ndarray]:
    """Kernel x sequence heatmap of z-scored max activations, Ward-clustered on both axes.

    More than ``max_sequences`` sequences are subsampled (seeded) to keep the clustering cheap.

    Returns
    -------
    (path, kernel_order, sequence_indices_in_plot_order)
    """
    A = np.asarray(max_activations, dtype=float)
    idx = np.arange(len(A))
    if len(A) > max_sequences:
        idx = np.sort(np.random.default_rng(seed).choice(len(A), max_sequences, replace=False))
    sub = A[idx]
    sd = sub.std(axis=0)
    Z = (sub - sub.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    k_order = cluster_order(Z.T)
    s_order = cluster_order(Z)
    names = kernel_names or [str(k) for k in range(A.shape[1])]
    fig = plt.figure(figsize=(8, 0.18 * A.shape[1] + 1.8))
    top = 0.9 if group_of is not None else 0.95
    ax = fig.add_axes((0.12, 0.08, 0.8, top - 0.1))
    im = ax.imshow(
        Z[s_order][:, k_order].T, aspect="auto", cmap="RdBu_r", vmin=-3, vmax=3, interpolation="nearest"
    )
    ax.set_yticks(np.arange(len(k_order)), [names[k] for k in k_order], fontsize=6)
    ax.set_xticks([])
    ax.set_xlabel(f"sequences (n={len(idx)}, Ward clustered)")
    if group_of is not None:
        gax = fig.add_axes((0.12, top - 0.01, 0.8, 0.03))
        groups = np.asarray(group_of)[idx][s_order]
        uniq = list(dict.fromkeys(groups.tolist()))
        gax.imshow(np.array([[uniq.index(g) for g in groups]]), aspect="auto", cmap="tab10", vmin=0, vmax=9)
        gax.set_axis_off()
        gax.set_title("  ".join(f"{i}:{g}" for i, g in enumerate(uniq)), fontsize=7)
    fig.colorbar(im, ax=ax, fraction=0.03, label="z-scored max activation")
    return _save(fig, Path(path)), k_order, idx[s_order]
