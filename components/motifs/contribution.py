"""Neuron (kernel) contribution, after CombMotif (Zeng et al.): does a firing neuron raise or lower the output?

For each neuron, sequences whose maximum activation exceeds ``t * max`` (max over all sequences)
"fire"; the model's predictions (or labels) of firing sequences are compared with the rest:
Welch's t-test and Mann-Whitney U, Cohen's d as effect size, Benjamini-Hochberg FDR over all
neurons x outputs, and a sign (enhancing when firing raises the value, repressing when it lowers it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from components.motifs.tomtom import bh_fdr

__all__ = ["neuron_contribution"]


def neuron_contribution(
    max_activations: np.ndarray,
    values: np.ndarray,
    *,
    threshold: float = 0.7,
    output_names: list[str] | None = None,
    neuron_names: list[str] | None = None,
    alpha: float = 0.05,
    min_group: int = 5,
) -> pd.DataFrame:
    """Compare ``values`` between sequences where each neuron fires and the rest.

    Parameters
    ----------
    max_activations
        ``(n, neurons)`` maximum activation of each neuron per sequence.
    values
        ``(n,)`` or ``(n, outputs)`` predictions (or labels) to compare.
    threshold
        A sequence fires when its activation is ``>= threshold * max`` of the neuron.

    Returns
    -------
    pandas.DataFrame
        One row per neuron x output: ``neuron, output, n_firing, n_rest, mean_firing, mean_rest,
        cohens_d, t_stat, p_value (Welch), mw_p_value, q_value, sign`` with sign one of
        ``enhancing``, ``repressing``, ``not significant`` (q >= alpha) or ``untestable``.
    """
    A = np.asarray(max_activations, dtype=float)
    V = np.asarray(values, dtype=float)
    if V.ndim == 1:
        V = V[:, None]
    if A.ndim != 2 or len(A) != len(V):
        raise ValueError(
            f"max_activations (n, neurons) and values (n, outputs) must agree: {A.shape} vs {V.shape}"
        )
    out_names = output_names or [f"output_{j}" for j in range(V.shape[1])]
    names = neuron_names or [str(k) for k in range(A.shape[1])]
    rows = []
    for k in range(A.shape[1]):
        mx = A[:, k].max()
        fire = A[:, k] >= threshold * mx if mx > 0 else np.zeros(len(A), bool)
        for j in range(V.shape[1]):
            a, b = V[fire, j], V[~fire, j]
            row = {
                "neuron": names[k],
                "output": out_names[j],
                "n_firing": int(fire.sum()),
                "n_rest": int((~fire).sum()),
                "mean_firing": float(a.mean()) if len(a) else np.nan,
                "mean_rest": float(b.mean()) if len(b) else np.nan,
                "cohens_d": np.nan,
                "t_stat": np.nan,
                "p_value": np.nan,
                "mw_p_value": np.nan,
            }
            if len(a) >= min_group and len(b) >= min_group:
                sd = np.sqrt(
                    ((len(a) - 1) * a.var(ddof=1) + (len(b) - 1) * b.var(ddof=1)) / (len(a) + len(b) - 2)
                )
                row["cohens_d"] = float((a.mean() - b.mean()) / sd) if sd > 0 else 0.0
                t = stats.ttest_ind(a, b, equal_var=False)
                row["t_stat"], row["p_value"] = float(t.statistic), float(t.pvalue)
                row["mw_p_value"] = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
            rows.append(row)
    df = pd.DataFrame(rows)
    df["q_value"] = bh_fdr(df["p_value"].to_numpy())
    sign = np.where(df["mean_firing"] > df["mean_rest"], "enhancing", "repressing")
    df["sign"] = np.where(
        df["q_value"].isna(), "untestable", np.where(df["q_value"] < alpha, sign, "not significant")
    )
    return df
