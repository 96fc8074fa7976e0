"""First-layer kernel motifs, the pysster way (Budach & Marsico 2018, Bioinformatics 34:3035).

For kernel ``k`` the per-sequence maximum activation is compared between classes: the threshold is
the largest class mean; sequences of that "top" class whose maximum passes the threshold give up to
``max(min(750, n/3), 1)`` windows (kernel length) cut at the argmax position (ties broken at
random); the letters are counted into a position frequency matrix and turned into probabilities
with pysster's pseudocount ``p = 0.999 * count / n + 0.001 / |alphabet|``. The importance score is
the largest minus the smallest class mean of the maximum activation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from components.motifs.meme import Motif

__all__ = [
    "KernelMotif",
    "first_layer_activations",
    "class_groups",
    "kernel_motifs",
    "randargmax",
]


def first_layer_activations(net: torch.nn.Module, X: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """Post-ReLU output of ``net.first_conv`` on one-hot input.

    Parameters
    ----------
    net
        A network with an ``nn.Conv1d`` reachable as ``net.first_conv``.
    X
        ``(n, channels, L)`` float one-hot, channels first.

    Returns
    -------
    np.ndarray
        ``(n, kernels, L_out)`` float32.
    """
    conv = getattr(net, "first_conv", None)
    if not isinstance(conv, torch.nn.Conv1d):
        raise TypeError("net must expose its first layer as an nn.Conv1d 'net.first_conv'")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 3 or X.shape[1] != conv.in_channels:
        raise ValueError(f"X must have shape (n, {conv.in_channels}, L), got {X.shape}")
    param = next(conv.parameters())
    out = []
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            for i in range(0, len(X), batch_size):
                xb = torch.from_numpy(X[i : i + batch_size]).to(param.device, param.dtype)
                out.append(torch.relu(conv(xb)).float().cpu().numpy())
    finally:
        net.train(was_training)
    return np.concatenate(out, axis=0) if out else np.zeros((0, conv.out_channels, 0), np.float32)


def randargmax(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Argmax over the last axis with ties broken uniformly at random."""
    a = np.asarray(a)
    noise = rng.random(a.shape)
    is_max = a == a.max(axis=-1, keepdims=True)
    return np.argmax(np.where(is_max, noise + 1.0, 0.0), axis=-1)


def class_groups(
    labels: np.ndarray | None, task: str, n: int, class_names: list[str] | None = None
) -> dict[str, np.ndarray]:
    """Sequence index groups used as "classes" for thresholds, enrichment and importance.

    binary: label 0/1; multiclass: integer label or one-hot; multilabel: one group per positive label;
    regression: bottom / middle / top tercile of the (first) target. ``labels=None``: one group "all"
    of the ``n`` sequences.
    """
    if labels is None:
        return {"all": np.arange(n)}
    y = np.asarray(labels)
    if task == "regression":
        v = y.reshape(len(y), -1)[:, 0].astype(float)
        lo, hi = np.nanquantile(v, [1 / 3, 2 / 3])
        return {
            "low": np.flatnonzero(v <= lo),
            "mid": np.flatnonzero((v > lo) & (v < hi)),
            "high": np.flatnonzero(v >= hi),
        }
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot or multilabel matrix
        names = class_names or [f"class_{i}" for i in range(y.shape[1])]
        return {names[i]: np.flatnonzero(y[:, i] > 0.5) for i in range(y.shape[1])}
    y = y.reshape(-1).astype(int)
    values = np.unique(y)
    if task == "binary" and class_names is None:
        class_names = ["negative", "positive"]
    names = class_names or [f"class_{v}" for v in range(int(values.max()) + 1)]
    return {names[v] if v < len(names) else f"class_{v}": np.flatnonzero(y == v) for v in values}


@dataclass(frozen=True)
class KernelMotif:
    """One kernel's motif, its windows and the class statistics pysster reports."""

    kernel: int
    motif: Motif  # over the channel alphabet (sequence or extended)
    sequence_motif: Motif  # decoded to sequence letters (== motif for plain alphabets)
    structure_motif: Motif | None  # decoded structure letters (sequence x structure models)
    importance: float
    threshold: float
    top_class: str
    n_windows: int
    positions: np.ndarray  # argmax window starts of above-threshold sequences (all classes)
    positions_by_class: dict[str, np.ndarray]
    max_by_class: dict[str, np.ndarray]  # per-class max activations (violin/box plots)
    mean_activation: np.ndarray  # (L_out,) mean activation profile of above-threshold sequences
    window_indices: np.ndarray  # sequence indices the windows come from


def _pfm_to_probabilities(counts: np.ndarray) -> np.ndarray:
    n = counts.sum(axis=1, keepdims=True)
    n = np.where(n == 0, 1.0, n)
    return 0.999 * counts / n + 0.001 / counts.shape[1]


def kernel_motifs(
    activations: np.ndarray,
    X: np.ndarray,
    groups: dict[str, np.ndarray],
    channels: list[tuple[str, str | None]],
    *,
    max_windows: int = 750,
    seed: int = 0,
    prefix: str = "kernel",
) -> list[KernelMotif]:
    """Build one motif per first-layer kernel (pysster's procedure, see module docstring).

    Parameters
    ----------
    activations
        ``(n, kernels, L_out)`` post-ReLU first-layer activations.
    X
        ``(n, channels, L)`` one-hot input the activations were computed from.
    groups
        Class name -> sequence indices (:func:`class_groups`).
    channels
        Decoded letter of each one-hot channel: ``(base, structure or None)``.
    """
    n, n_kernels, l_out = activations.shape
    k_len = X.shape[2] - l_out + 1
    rng = np.random.default_rng(seed)
    maxact = activations.max(axis=2)  # (n, kernels)
    argmax = randargmax(activations, rng)  # (n, kernels)
    channel_letters = "".join(chr(65 + i) for i in range(len(channels)))
    bases = sorted({b for b, _ in channels}, key=[b for b, _ in channels].index)
    seq_alpha = "".join(bases)
    structs = [s for _, s in channels if s is not None]
    struct_alpha = "".join(sorted(set(structs), key=structs.index)) if structs else None
    plain = struct_alpha is None
    base_idx = np.array([seq_alpha.index(b) for b, _ in channels])
    struct_idx = None if plain else np.array([struct_alpha.index(s) for _, s in channels])  # type: ignore[union-attr,arg-type]
    group_items = [(g, idx) for g, idx in groups.items() if len(idx) > 0]
    out: list[KernelMotif] = []
    for k in range(n_kernels):
        means = {g: float(maxact[idx, k].mean()) for g, idx in group_items}
        top_class = max(means, key=lambda g: means[g])
        threshold = means[top_class]
        above = (maxact[:, k] > threshold) | np.isclose(maxact[:, k], threshold)
        top_idx = groups[top_class]
        cand = top_idx[above[top_idx]]
        n_sel = max(min(max_windows, len(cand) // 3), 1)
        order = np.argsort(-maxact[cand, k], kind="stable")
        sel = cand[order[:n_sel]]
        counts = np.zeros((k_len, len(channels)))
        for i in sel:
            start = argmax[i, k]
            counts += X[i, :, start : start + k_len].T
        probs = _pfm_to_probabilities(counts)
        motif_id = f"{prefix}_{k}"
        if plain:
            motif = Motif(motif_id, probs, seq_alpha, nsites=len(sel))
            seq_motif, struct_motif = motif, None
        else:
            motif = Motif(motif_id, probs, channel_letters, nsites=len(sel))
            seq_counts = np.zeros((k_len, len(seq_alpha)))
            st_counts = np.zeros((k_len, len(struct_alpha)))  # type: ignore[arg-type]
            for c in range(len(channels)):
                seq_counts[:, base_idx[c]] += counts[:, c]
                st_counts[:, struct_idx[c]] += counts[:, c]  # type: ignore[index]
            seq_motif = Motif(motif_id, _pfm_to_probabilities(seq_counts), seq_alpha, nsites=len(sel))
            struct_motif = Motif(
                f"{motif_id}_structure",
                _pfm_to_probabilities(st_counts),
                str(struct_alpha),
                nsites=len(sel),
            )
        above_idx = np.flatnonzero(above)
        out.append(
            KernelMotif(
                kernel=k,
                motif=motif,
                sequence_motif=seq_motif,
                structure_motif=struct_motif,
                # one group only (no labels): the mean max activation stands in for the spread
                importance=(max(means.values()) - min(means.values())) if len(means) > 1 else threshold,
                threshold=threshold,
                top_class=top_class,
                n_windows=len(sel),
                positions=argmax[above_idx, k],
                positions_by_class={g: argmax[idx[above[idx]], k] for g, idx in group_items},
                max_by_class={g: maxact[idx, k] for g, idx in group_items},
                mean_activation=activations[above_idx, k, :].mean(axis=0)
                if len(above_idx)
                else np.zeros(l_out),
                window_indices=sel,
            )
        )
    return out


def _task_loss(pred: np.ndarray, y: np.ndarray | None, task: str, base: np.ndarray) -> float:
    """Mean loss of predictions (target units / probabilities); without labels the mean |change|."""
    pred = pred.reshape(len(pred), -1).astype(np.float64)
    if y is None:
        return float(np.abs(pred - base.reshape(pred.shape)).mean())
    y = np.asarray(y, dtype=np.float64)
    if task == "regression":
        y = y.reshape(pred.shape)
        return float((((pred - y) ** 2).mean(axis=0) / np.maximum(y.var(axis=0), 1e-12)).mean())
    p = np.clip(pred, 1e-7, 1 - 1e-7)
    if task == "multiclass":
        idx = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
        return float(-np.log(p[np.arange(len(p)), idx]).mean())
    y = y.reshape(p.shape)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def ablation_importance(
    bundle: object,
    X: np.ndarray,
    activations: np.ndarray,
    labels: np.ndarray | None,
    *,
    batch_size: int = 1024,
) -> np.ndarray:
    """Importance of every first-layer kernel: the increase of the model's loss when it is ablated.

    Kernel ``k`` is *mean-ablated*: its output is replaced by one constant, its mean over the
    sequences and positions (for the seqmodels CNN, whose first conv is followed by a ReLU, the
    mean post-ReLU activation ``activations[:, k].mean()``; otherwise the mean raw conv output), so
    the network keeps the kernel's average input but loses the information where and how strongly
    it fires. The loss is the task's (binary / multilabel cross-entropy, multiclass cross-entropy,
    regression MSE / variance of the target) on ``labels``; without labels the mean absolute change
    of the predictions. Returns ``(kernels,)`` loss increases (larger = more important; negative
    when removing the kernel helps).
    """
    from components.seqmodels.bundle import predict_encoded
    from components.seqmodels.networks import CNN

    net = bundle.net  # type: ignore[attr-defined]
    task = bundle.task  # type: ignore[attr-defined]
    conv = net.first_conv
    Xt = torch.from_numpy(np.asarray(X, dtype=np.float32))
    n_kernels = conv.out_channels
    if isinstance(net, CNN):
        const = activations.mean(axis=(0, 2))
    else:
        raw = []
        with torch.no_grad():
            for i in range(0, len(Xt), batch_size):
                raw.append(conv(Xt[i : i + batch_size]).mean(dim=(0, 2)) * len(Xt[i : i + batch_size]))
        const = (torch.stack(raw).sum(0) / len(Xt)).numpy()
    state: dict[str, int] = {"k": -1}

    def hook(_module: torch.nn.Module, _inp: object, out: torch.Tensor) -> torch.Tensor:
        if state["k"] < 0:
            return out
        out = out.clone()
        out[:, state["k"], :] = float(const[state["k"]])
        return out

    handle = conv.register_forward_hook(hook)
    try:
        base = predict_encoded(bundle, Xt)  # type: ignore[arg-type]
        loss0 = _task_loss(base, labels, task, base)
        out = np.zeros(n_kernels)
        for k in range(n_kernels):
            state["k"] = k
            out[k] = _task_loss(predict_encoded(bundle, Xt), labels, task, base) - loss0  # type: ignore[arg-type]
    finally:
        handle.remove()
    return out
