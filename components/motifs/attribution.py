"""Attribution motifs: DeepLIFT-SHAP, in-silico mutagenesis (ISM), Integrated Gradients, then TF-MoDISco.

Every method returns *hypothetical* contributions ``(n, channels, L)``: for every position, what each
letter would contribute. The actual contribution is hypothetical x one-hot.

* DeepLIFT-SHAP (default; Shrikumar et al. 2017, Lundberg & Lee 2017): captum's ``DeepLift``
  (rescale rule, max-pool rule) against ``n_refs`` dinucleotide-shuffled copies of each sequence
  (the genomics standard reference: same composition and dinucleotide content, motifs destroyed),
  averaged over the references. Hypothetical scores project the multipliers onto every letter:
  ``hyp[c, l] = m[c, l] - sum_c' m[c', l] r[c', l]`` (the DeepLIFT/TF-MoDISco convention), so the
  actual contributions of a sequence sum to ``f(x) - mean_r f(r)``. captum hooks nonlinearities
  that are *modules*; the seqmodels CNN calls ``F.relu`` / ``F.max_pool1d``, so it is attributed
  through :class:`ModularCNN`, the same computation with ``nn.ReLU`` / ``nn.MaxPool1d`` modules
  (checked equal to the network's output before use). Networks with a GRU (``cnn_gru``) have
  fused gates that no hook can reach: they fall back to *expected gradients* (integrated
  gradients from the same shuffled references, Erion et al. 2021), which is also a SHAP estimate.
* ISM: prediction with each letter minus the mean over letters of the position.
* IG: path-averaged gradient from a uniform (1/channels) baseline minus its mean over letters
  (Sundararajan et al. 2017). TF-MoDISco-lite (Shrikumar et al.)
calls seqlets on the contributions, clusters them and returns patterns (PPMs) that are matched by
Tomtom like the kernel motifs. Sequence x structure channels are summed per base first.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from components.motifs.interaction import dinucleotide_shuffle
from components.motifs.meme import Motif

__all__ = [
    "ATTRIBUTIONS",
    "ModularCNN",
    "attribution_scores",
    "deeplift_shap_scores",
    "shuffled_references",
    "ism_scores",
    "integrated_gradients_scores",
    "project_to_bases",
    "modisco_motifs",
]

#: attribution method names accepted by :func:`attribution_scores` (and ``interpret_model``)
ATTRIBUTIONS = ("deeplift_shap", "ism", "ig")


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


def shuffled_references(X: np.ndarray, n_refs: int, *, seed: int = 0) -> np.ndarray:
    """``(n, n_refs, channels, L)`` dinucleotide-shuffled copies of one-hot ``X``.

    Only exactly one-hot columns are shuffled (as one token string over the channel alphabet, so
    sequence x structure letters keep their pair counts); padding / N / soft columns stay in place.
    """
    X = np.asarray(X, dtype=np.float32)
    n, C, L = X.shape
    rng = np.random.default_rng(seed)
    out = np.repeat(X[:, None], n_refs, axis=1)
    hot = (X.max(axis=1) == 1.0) & (X.sum(axis=1) == 1.0)  # (n, L)
    tokens = X.argmax(axis=1)
    for i in range(n):
        cols = np.flatnonzero(hot[i])
        if len(cols) < 3:
            continue
        s = "".join(chr(65 + t) for t in tokens[i, cols])
        for r in range(n_refs):
            sh = np.frombuffer(dinucleotide_shuffle(s, rng).encode(), dtype=np.uint8) - 65
            out[i, r][:, cols] = 0.0
            out[i, r, sh, cols] = 1.0
    return out


class ModularCNN(nn.Module):
    """A seqmodels :class:`~components.seqmodels.networks.CNN` forward with module nonlinearities.

    Same parameters, same output (eval mode: dropout is the identity); ``F.relu`` and
    ``F.max_pool1d`` (per layer and the global max) become ``nn.ReLU`` / ``nn.MaxPool1d``
    instances so captum's DeepLIFT applies its rescale and max-pool rules to them.
    """

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        n_conv = len(net.convs)  # type: ignore[arg-type]
        size = int(net.pool_size)  # type: ignore[arg-type]
        self.relus = nn.ModuleList(nn.ReLU() for _ in range(n_conv))
        self.pools = nn.ModuleList(nn.MaxPool1d(size, size, ceil_mode=True) for _ in range(n_conv))
        self.global_max = nn.MaxPool1d(1)  # window set to the full length in forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from components.seqmodels.networks import input_mask, valid_conv_mask

        net = self.net
        size = int(net.pool_size)  # type: ignore[arg-type]
        m = input_mask(x)
        h = x
        for conv, relu, pool in zip(net.convs, self.relus, self.pools, strict=True):  # type: ignore[arg-type]
            m = valid_conv_mask(m, int(conv.kernel_size[0]))
            h = pool(relu(conv(h)) * m.unsqueeze(1))
            m = F.max_pool1d(m.unsqueeze(1), size, size, ceil_mode=True).squeeze(1)
        if net.global_pool == "flatten":
            h = h.flatten(1)
        else:
            self.global_max.kernel_size = self.global_max.stride = h.shape[-1]
            hmax = self.global_max(h).squeeze(-1)
            if net.global_pool == "max":
                h = hmax
            else:  # maxavg
                h = torch.cat([hmax, h.sum(-1) / m.sum(-1, keepdim=True).clamp_min(1.0)], dim=1)
        return net.head(net.dense(h))  # type: ignore[operator]


def _deeplift_model(net: nn.Module, probe: torch.Tensor) -> nn.Module | None:
    """The module DeepLIFT can attribute for ``net``, or None (no supported modular form)."""
    from components.seqmodels.networks import CNN

    if not isinstance(net, CNN):
        return None
    model = ModularCNN(net).eval()
    with torch.no_grad():
        a, b = model(probe), net(probe)
    if not torch.allclose(a, b, rtol=1e-4, atol=1e-4):  # the CNN's forward changed: do not trust it
        return None
    return model


def deeplift_shap_scores(
    net: torch.nn.Module,
    X: np.ndarray,
    *,
    output: int = 0,
    n_refs: int = 20,
    seed: int = 0,
    batch_size: int = 32,
    info: dict[str, Any] | None = None,
) -> np.ndarray:
    """Hypothetical DeepLIFT-SHAP scores ``(n, channels, L)`` against dinucleotide-shuffled references.

    ``info`` (when given) receives ``method`` (``"deeplift_shap"`` or the GRU fallback
    ``"expected_gradients"``), ``n_refs``, ``max_abs_delta`` and ``rel_delta``: the largest and the
    mean summation-to-delta error ``|sum contributions - (f(x) - f(r))|`` over sequence/reference
    pairs, the mean relative to ``mean |f(x) - f(r)|``. Through ReLU and dense layers DeepLIFT is
    exact (0 up to rounding); captum's max-pool rule (the one tangermeme uses too) is not, so
    networks with pooling give a few-percent error.
    """
    from captum.attr import DeepLift, IntegratedGradients

    X = np.asarray(X, dtype=np.float32)
    n, C, L = X.shape
    param = next(net.parameters())
    was = net.training
    net.eval()
    refs = shuffled_references(X, n_refs, seed=seed)
    model = _deeplift_model(net, torch.from_numpy(X[: min(n, 8)]).to(param.device, param.dtype))
    method = "deeplift_shap" if model is not None else "expected_gradients"
    if model is not None:
        explainer: Any = DeepLift(model, multiply_by_inputs=False)
    else:
        explainer = IntegratedGradients(net, multiply_by_inputs=False)
    hyp = np.zeros((n, C, L), dtype=np.float32)
    max_delta, sum_delta, sum_dy = 0.0, 0.0, 0.0
    with warnings.catch_warnings():
        # captum announces its temporary hooks and that the inputs did not require gradients
        warnings.filterwarnings("ignore", message=r"(?s).*(hooks and attributes|did not already require)")
        try:
            for i in range(0, n, batch_size):
                b = min(batch_size, n - i)
                xb = torch.from_numpy(np.repeat(X[i : i + b], n_refs, axis=0)).to(param.device, param.dtype)
                rb = torch.from_numpy(refs[i : i + b].reshape(b * n_refs, C, L)).to(param.device, param.dtype)
                if model is not None:
                    mult = explainer.attribute(xb, baselines=rb, target=output)
                else:
                    mult = explainer.attribute(
                        xb, baselines=rb, target=output, n_steps=16, internal_batch_size=512
                    )
                mult = mult.detach()
                h = mult - (mult * rb).sum(dim=1, keepdim=True)  # (b*R, C, L): every letter vs the reference
                with torch.no_grad():
                    dy = net(xb).reshape(len(xb), -1)[:, output] - net(rb).reshape(len(rb), -1)[:, output]
                err = ((h * xb).sum(dim=(1, 2)) - dy).abs()
                max_delta = max(max_delta, float(err.max()))
                sum_delta, sum_dy = sum_delta + float(err.sum()), sum_dy + float(dy.abs().sum())
                hyp[i : i + b] = h.reshape(b, n_refs, C, L).mean(dim=1).float().cpu().numpy()
        finally:
            net.train(was)
    if info is not None:
        info.update(
            method=method,
            n_refs=n_refs,
            max_abs_delta=max_delta,
            rel_delta=sum_delta / max(sum_dy, 1e-12),
        )
    return hyp


def attribution_scores(
    method: str, net: torch.nn.Module, X: np.ndarray, *, output: int = 0, seed: int = 0
) -> tuple[np.ndarray, dict[str, Any]]:
    """Hypothetical scores by ``method`` (one of :data:`ATTRIBUTIONS`) and a small info dict."""
    info: dict[str, Any] = {"method": method}
    if method == "deeplift_shap":
        return deeplift_shap_scores(net, X, output=output, seed=seed, info=info), info
    if method == "ism":
        return ism_scores(net, X, output=output), info
    if method == "ig":
        return integrated_gradients_scores(net, X, output=output), info
    raise ValueError(f"attribution must be one of {', '.join(ATTRIBUTIONS)}, got {method!r}")


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
