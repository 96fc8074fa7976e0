"""Motif-pair interaction by mutagenesis (after CombMotif's scramble test).

For sequences holding both motif sites A and B, the model predicts the original ``o``, A scrambled
``a``, B scrambled ``b`` and both scrambled ``n``. The joint effect ``o - n`` is compared with the
sum of the single effects ``(b - n) + (a - n)`` (effect of A alone plus effect of B alone) by a
Wilcoxon signed-rank test; Benjamini-Hochberg over pairs. A pair is synergistic when the joint
effect is larger in magnitude than the sum (q < alpha and the median relative difference is at
least ``min_relative``), antagonistic when smaller, otherwise additive.

Scrambling uses the Altschul-Erickson dinucleotide-preserving shuffle (Altschul & Erickson 1985,
Mol Biol Evol 2:526), which keeps the first and last letter and every dinucleotide count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from components.motifs.tomtom import bh_fdr

__all__ = [
    "dinucleotide_shuffle",
    "scramble_site",
    "pair_interaction",
    "scrambled_batch",
    "score_interaction",
    "interaction_table",
]


def dinucleotide_shuffle(seq: str, rng: np.random.Generator) -> str:
    """A random sequence with exactly the dinucleotide counts (and first/last letter) of ``seq``.

    Altschul-Erickson: choose a random last exit edge for every vertex but the final letter so that
    the last edges form a tree rooted at the final letter, shuffle the remaining edges of each
    vertex, and walk the Eulerian path from the first letter.
    """
    n = len(seq)
    if n <= 2:
        return seq
    last = seq[-1]
    edges: dict[str, list[str]] = {}
    for x, y in zip(seq[:-1], seq[1:], strict=True):
        edges.setdefault(x, []).append(y)
    vertices = list(edges)
    # random last-exit edges forming a tree rooted at `last`, by Wilson's loop-erased random walk: the
    # same distribution as drawing every vertex's edge at random until they form a tree, but without the
    # rejection loop, which never ends in practice for large alphabets (sequence x structure letters)
    last_edge: dict[str, str] = {}
    in_tree = {last}
    for v in vertices:
        u = v
        while u not in in_tree:
            last_edge[u] = edges[u][rng.integers(len(edges[u]))]
            u = last_edge[u]
        u = v
        while u not in in_tree:
            in_tree.add(u)
            u = last_edge[u]
    order: dict[str, list[str]] = {}
    for v in vertices:
        rest = list(edges[v])
        if v in last_edge:
            rest.remove(last_edge[v])
        rng.shuffle(rest)
        if v in last_edge:
            rest.append(last_edge[v])
        order[v] = rest
    out = [seq[0]]
    pos = dict.fromkeys(vertices, 0)
    for _ in range(n - 1):
        v = out[-1]
        out.append(order[v][pos[v]])
        pos[v] += 1
    return "".join(out)


def scramble_site(
    seq: str, start: int, end: int, rng: np.random.Generator, *, method: str = "dinucleotide", tries: int = 10
) -> str:
    """Scramble ``seq[start:end]`` (dinucleotide shuffle, or uniform ``random`` letters).

    The dinucleotide shuffle is retried up to ``tries`` times until at least half of the window's
    positions change; short motifs often have a single Eulerian path (``UACGGUA`` has no other
    arrangement of its dinucleotides), and then the window gets uniformly random letters instead,
    so that the site is always destroyed.
    """
    window = seq[start:end]
    need = max(1, len(window) // 2)

    def changed(w: str) -> int:
        return sum(a != b for a, b in zip(w, window, strict=True))

    letters = sorted(set(seq))
    new = None
    if method == "dinucleotide":
        for _ in range(tries):
            cand = dinucleotide_shuffle(window, rng)
            if changed(cand) >= need:
                new = cand
                break
    elif method != "random":
        raise ValueError(f"method must be 'dinucleotide' or 'random', got {method!r}")
    if new is None:
        for _ in range(tries):
            new = "".join(letters[i] for i in rng.integers(len(letters), size=len(window)))
            if changed(new) >= need:
                break
    return seq[:start] + str(new) + seq[end:]


def pair_interaction(
    predict: Callable[[list[str]], np.ndarray],
    sequences: Sequence[str],
    sites_a: Sequence[tuple[int, int]],
    sites_b: Sequence[tuple[int, int]],
    *,
    output: int = 0,
    **scramble: Any,
) -> dict:
    """Scramble test for one motif pair over sequences that contain both sites.

    Parameters
    ----------
    predict
        Strings -> ``(n, outputs)`` predictions.
    sequences, sites_a, sites_b
        One ``(start, end)`` site of A and of B per sequence (non-overlapping).
    **scramble
        ``n_shuffles`` (scrambled versions averaged per sequence, default 2), ``method``, ``seed``:
        see :func:`scrambled_batch`.

    Returns
    -------
    dict
        ``n, joint_median, additive_median, interaction_median, relative, wilcoxon_stat, p_value``
        and the per-sequence arrays ``o, a, b, both``.
    """
    batch = scrambled_batch(sequences, sites_a, sites_b, **scramble)
    n_shuffles = int(scramble.get("n_shuffles", 2))
    return score_interaction(
        np.asarray(predict(batch), dtype=float), len(sequences), n_shuffles=n_shuffles, output=output
    )


def scrambled_batch(
    sequences: Sequence[str],
    sites_a: Sequence[tuple[int, int]],
    sites_b: Sequence[tuple[int, int]],
    *,
    n_shuffles: int = 2,
    method: str = "dinucleotide",
    seed: int = 0,
) -> list[str]:
    """The sequences to predict for one pair: originals, then per shuffle A-, B- and both-scrambled."""
    rng = np.random.default_rng(seed)
    seqs = list(sequences)
    batch: list[str] = list(seqs)
    for _ in range(n_shuffles):
        sa = [scramble_site(s, a0, a1, rng, method=method) for s, (a0, a1) in zip(seqs, sites_a, strict=True)]
        sb = [scramble_site(s, b0, b1, rng, method=method) for s, (b0, b1) in zip(seqs, sites_b, strict=True)]
        sab = [scramble_site(x, b0, b1, rng, method=method) for x, (b0, b1) in zip(sa, sites_b, strict=True)]
        batch += sa + sb + sab
    return batch


def score_interaction(pred: np.ndarray, m: int, *, n_shuffles: int = 2, output: int = 0) -> dict:
    """Statistics of one pair from the predictions of its :func:`scrambled_batch` (``m`` sequences)."""
    pred = pred[:, output] if pred.ndim == 2 else pred
    o = pred[:m]
    a, b, both = pred[m:].reshape(n_shuffles, 3, m).mean(axis=0)
    joint = o - both
    additive = (b - both) + (a - both)
    diff = joint - additive
    res = {
        "n": m,
        "joint_median": float(np.median(joint)) if m else np.nan,
        "additive_median": float(np.median(additive)) if m else np.nan,
        "interaction_median": float(np.median(diff)) if m else np.nan,
        "wilcoxon_stat": np.nan,
        "p_value": np.nan,
        "o": o,
        "a": a,
        "b": b,
        "both": both,
    }
    scale = np.median(np.abs(additive)) if m else 0.0
    res["relative"] = float(res["interaction_median"] / scale) if scale > 0 else np.nan
    if m >= 6 and np.any(diff != 0):
        w = stats.wilcoxon(joint, additive)
        res["wilcoxon_stat"], res["p_value"] = float(w.statistic), float(w.pvalue)
    elif m >= 6:  # joint effect exactly the sum of the single effects
        res["wilcoxon_stat"], res["p_value"] = 0.0, 1.0
    return res


def interaction_table(results: list[dict], *, alpha: float = 0.05, min_relative: float = 0.1) -> pd.DataFrame:
    """Collect :func:`pair_interaction` results (each with ``motif_a``, ``motif_b`` keys) and call them.

    The call compares magnitudes, so it holds for repressive motifs too: synergistic when
    ``|joint| > |a + b|``, antagonistic when ``|joint| < |a + b|``, additive when the Wilcoxon q
    value is >= ``alpha`` or the median difference is below ``min_relative`` of ``|a + b|``.
    """
    keep = [
        "motif_a",
        "motif_b",
        "n",
        "joint_median",
        "additive_median",
        "interaction_median",
        "relative",
        "wilcoxon_stat",
        "p_value",
    ]
    df = pd.DataFrame([{k: r.get(k) for k in keep} for r in results], columns=keep)
    df["q_value"] = bh_fdr(df["p_value"].to_numpy(dtype=float)) if len(df) else []
    calls = []
    for _, r in df.iterrows():
        if not np.isfinite(r["q_value"]) or r["q_value"] >= alpha or not np.isfinite(r["relative"]):
            calls.append("additive" if np.isfinite(r["q_value"]) else "untestable")
            continue
        stronger = abs(r["joint_median"]) > abs(r["additive_median"])
        if abs(r["relative"]) < min_relative:
            calls.append("additive")
        else:
            calls.append("synergistic" if stronger else "antagonistic")
    df["call"] = calls
    return df
