"""Attribution motifs: in-silico mutagenesis (ISM) and Integrated Gradients (captum), then TF-MoDISco.

Both methods return *hypothetical* contributions ``(n, channels, L)``: for every position, what each
letter would contribute, centred over the letters of the position (ISM: prediction with that letter
minus the mean over letters; IG: path-averaged gradient minus its mean over letters, Sundararajan et
al. 2017). The actual contribution is hypothetical x one-hot. TF-MoDISco-lite (Shrikumar et al.)
calls seqlets on the contributions, clusters them and returns patterns (PPMs) that are matched by
Tomtom like the kernel motifs. Sequence x structure channels are summed per base first.
"""

from __future__ import annotations

import numpy as np
import torch

from components.motifs.meme import Motif

__all__ = ["ism_scores", "integrated_gradients_scores", "project_to_bases", "modisco_motifs"]


def _forward(net: torch.nn.Module, X: np.ndarray, output: int, batch_size: int) -> np.ndarray:
    param = next(net.parameters())
    out = []
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            y = net(torch.from_numpy(X[i : i + batch_size]).to(param.device, param.dtype))
            y = y.reshape(len(y), -1)[:, output]
            out.append(y.float().cpu().numpy())
    return np.concatenate(out)


def ism_scores(net: torch.nn.Module, X: np.ndarray, *, output: int = 0, batch_size: int = 1024) -> np.ndarray:
    """Saturation mutagenesis: ``(n, channels, L)`` centred predictions of every single substitution.

    Costs ``n * L * channels`` forward passes of one sequence (batched).
    """
    X = np.asarray(X, dtype=np.float32)
    n, C, L = X.shape
    was = net.training
    net.eval()
    try:
        scores = np.zeros((n, C, L), dtype=np.float32)
        for s in range(n):
            mut = np.repeat(X[s : s + 1], C * L, axis=0)  # (C*L, C, L)
            idx = np.arange(C * L)
            pos, ch = idx % L, idx // L
            mut[idx, :, pos] = 0.0
            mut[idx, ch, pos] = 1.0
            y = _forward(net, mut, output, batch_size).reshape(C, L)
            scores[s] = y - y.mean(axis=0, keepdims=True)
    finally:
        net.train(was)
    return scores


def integrated_gradients_scores(
    net: torch.nn.Module, X: np.ndarray, *, output: int = 0, n_steps: int = 24, batch_size: int = 256
) -> np.ndarray:
    """Hypothetical Integrated-Gradients scores from a uniform (1/channels) baseline, via captum."""
    from captum.attr import IntegratedGradients

    X = np.asarray(X, dtype=np.float32)
    param = next(net.parameters())
    was = net.training
    net.eval()

    def f(x: torch.Tensor) -> torch.Tensor:
        return net(x).reshape(len(x), -1)[:, output]

    ig = IntegratedGradients(f, multiply_by_inputs=False)
    out = []
    try:
        for i in range(0, len(X), batch_size):
            xb = torch.from_numpy(X[i : i + batch_size]).to(param.device, param.dtype)
            base = torch.full_like(xb, 1.0 / xb.shape[1])
            g = ig.attribute(xb, baselines=base, n_steps=n_steps, internal_batch_size=batch_size)
            g = g - g.mean(dim=1, keepdim=True)
            out.append(g.detach().float().cpu().numpy())
    finally:
        net.train(was)
    return np.concatenate(out, axis=0)


def project_to_bases(scores: np.ndarray, channels: list[tuple[str, str | None]]) -> tuple[np.ndarray, str]:
    """Sum channels of the same base (sequence x structure -> sequence). Returns (array, letters)."""
    bases = list(dict.fromkeys(b for b, _ in channels))
    if len(bases) == len(channels):
        return scores, "".join(bases)
    out = np.zeros((scores.shape[0], len(bases), scores.shape[2]), dtype=scores.dtype)
    for c, (b, _) in enumerate(channels):
        out[:, bases.index(b), :] += scores[:, c, :]
    return out, "".join(bases)


def modisco_motifs(
    one_hot: np.ndarray,
    hypothetical: np.ndarray,
    letters: str,
    *,
    max_seqlets: int = 2000,
    window: int = 15,
    flank: int = 5,
    min_metacluster_size: int = 50,
    final_min_cluster_size: int = 20,
    n_leiden_runs: int = 4,
) -> tuple[list[Motif], dict]:
    """Run TF-MoDISco-lite on ``(n, 4, L)`` one-hot + hypothetical contributions.

    Returns
    -------
    (motifs, info)
        Positive patterns as ``modisco_pos_i`` and negative ones as ``modisco_neg_i``, trimmed to
        their informative core; ``info`` has seqlet counts per pattern.
    """
    from modiscolite.tfmodisco import TFMoDISco

    if one_hot.shape[1] != 4:
        raise ValueError("TF-MoDISco needs 4-letter nucleotide input")
    oh = np.ascontiguousarray(np.transpose(one_hot, (0, 2, 1)), dtype=np.float32)
    hyp = np.ascontiguousarray(np.transpose(hypothetical, (0, 2, 1)), dtype=np.float32)
    pos, neg = TFMoDISco(
        one_hot=oh,
        hypothetical_contribs=hyp,
        sliding_window_size=window,
        flank_size=flank,
        min_metacluster_size=min_metacluster_size,
        max_seqlets_per_metacluster=max_seqlets,
        final_min_cluster_size=final_min_cluster_size,
        n_leiden_runs=n_leiden_runs,
        verbose=False,
    )
    motifs: list[Motif] = []
    info: dict = {}
    for tag, patterns in (("pos", pos), ("neg", neg)):
        for i, pat in enumerate(patterns or []):
            ppm = np.asarray(pat.sequence, dtype=float)
            contrib = np.abs(np.asarray(pat.contrib_scores, dtype=float)).sum(axis=1)
            keep = np.flatnonzero(contrib >= 0.3 * contrib.max())
            lo, hi = (int(keep.min()), int(keep.max()) + 1) if len(keep) else (0, len(ppm))
            core = ppm[lo:hi] + 1e-3
            core = core / core.sum(axis=1, keepdims=True)
            mid = f"modisco_{tag}_{i}"
            motifs.append(Motif(mid, core, letters, nsites=len(pat.seqlets)))
            info[mid] = {"n_seqlets": len(pat.seqlets)}
    return motifs, info
