"""Plain ``nn.Module`` networks. Input ``X`` (batch, channels, L) and ``mask`` (batch, L).

The first layer of every network is an ``nn.Conv1d`` without padding reachable as
``net.first_conv``: output position ``p`` sees the input window ``[p, p + kernel_size)``
(the motif detectors read by :mod:`components.motifs`). Padding columns are masked: a window
touching padding gives zero activation, and pooled features ignore padded positions.

- :class:`CNN`: pysster-style conv/pool stacks + dense layers (Budach & Marsico 2018,
  Bioinformatics 34:3035). ``CNN_PYSSTER_DEFAULTS`` are pysster's defaults.
- :class:`CNNGRU`: Saluki-style conv tower + GRU (Agarwal & Kelley 2022, Genome Biol 23:245).
- :class:`Ensemble`: ``ensemble`` N > 1 (a network param) -> N members of one architecture,
  averaged (a seed ensemble: :func:`components.seqmodels.pipeline.train_model` trains member
  ``k`` with seed ``seed + k``).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from components.seqmodels.config import ARCH_CHOICES

__all__ = [
    "CNN",
    "CNNGRU",
    "Ensemble",
    "ensemble_size",
    "build_network",
    "input_mask",
    "valid_conv_mask",
    "CNN_DEFAULTS",
    "CNN_PYSSTER_DEFAULTS",
    "CNN_GRU_DEFAULTS",
    "ARCHS",
]

ARCHS = ARCH_CHOICES  # declared with the run configuration

#: Our CNN defaults (what ``dynamotif sequence`` trains without ``--trials``): pysster's
#: architecture (2 conv/pool blocks, flatten, dense 100, dropout 0.1/0.3/0.6) with the paper's
#: 8-nt kernels and a wider first layer (64 then 32 kernels). Chosen on validation ROC-AUC of
#: QKI (10% of its training file; one-cycle, 15 epochs): 30/30 kernels + flatten 0.972 against
#: 0.966 for the former defaults (64 x 9-nt kernels, pool 3, global max pooling), 64/32 kernels
#: 0.974; random input shifts of up to 3 nt did not help (0.969). About twice the CPU time per
#: epoch of 30/30 kernels.
CNN_DEFAULTS: dict[str, Any] = {
    "conv_num": 2,
    "kernel_num": [64, 32],
    "kernel_len": 8,
    "pool_size": 2,
    "dense_num": 1,
    "neuron_num": 100,
    "dropout_input": 0.1,
    "dropout_conv": 0.3,
    "dropout_dense": 0.6,
    "global_pool": "flatten",
}

#: pysster 1.2 defaults (``Model._check_params``); with ``kernel_len=8`` this is the RBP protocol.
CNN_PYSSTER_DEFAULTS: dict[str, Any] = {
    "conv_num": 2,
    "kernel_num": 30,
    "kernel_len": 25,
    "pool_size": 2,
    "dense_num": 1,
    "neuron_num": 100,
    "dropout_input": 0.1,
    "dropout_conv": 0.3,
    "dropout_dense": 0.6,
    "global_pool": "flatten",
}

CNN_GRU_DEFAULTS: dict[str, Any] = {
    "kernel_num": 64,
    "kernel_len": 9,
    "pool_size": 3,
    "conv_num": 2,
    "tower_kernel_len": 5,
    "gru_units": 64,
    "bidirectional": True,
    "dropout": 0.2,
}


#: subtracted from conv outputs over padding before pooling (they then never win a max)
_MASKED = 1e4


def input_mask(x: torch.Tensor) -> torch.Tensor:
    """Mask (batch, L) from a one-hot batch: padding columns are all zero."""
    return (x.sum(1) > 0).to(x.dtype)


def _pool_mask(mask: torch.Tensor, size: int, ceil_mode: bool = False) -> torch.Tensor:
    """Mask after a max-pool of ``size``: a pooled position is real if any input is."""
    return F.max_pool1d(mask.unsqueeze(1), size, size, ceil_mode=ceil_mode).squeeze(1)


def valid_conv_mask(mask: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Mask of a valid convolution: output ``p`` is real iff the whole window is real."""
    return -F.max_pool1d(-mask.unsqueeze(1), kernel_size, 1).squeeze(1)


class CNN(nn.Module):
    """Conv1d/ReLU/MaxPool/Dropout blocks -> (flatten | global max) -> dense -> outputs."""

    def __init__(self, in_channels: int, length: int, n_outputs: int, **params: Any):
        super().__init__()
        p = {**CNN_DEFAULTS, **params}
        self.params = p
        self.pool_size = int(p["pool_size"])
        self.global_pool = str(p["global_pool"])
        if self.global_pool not in ("max", "flatten", "maxavg"):
            raise ValueError(f"global_pool must be max, flatten or maxavg, got {self.global_pool!r}")
        kernel_num = _per_layer(p["kernel_num"], p["conv_num"])
        kernel_len = _per_layer(p["kernel_len"], p["conv_num"])
        self.input_dropout = nn.Dropout(float(p["dropout_input"]))
        self.convs = nn.ModuleList()
        c, L = in_channels, length
        for k, w in zip(kernel_num, kernel_len, strict=True):
            if L - w + 1 < 1:
                raise ValueError(f"input length {length} too short for kernel_len {kernel_len} + pooling")
            self.convs.append(nn.Conv1d(c, k, w))
            c, L = k, -(-(L - w + 1) // self.pool_size)  # ceil: pooling keeps the tail
        if L < 1:
            raise ValueError(f"input length {length} too short for {p['conv_num']} conv/pool layers")
        self.first_conv = self.convs[0]
        self.conv_dropout = nn.Dropout(float(p["dropout_conv"]))
        feat = {"max": c, "maxavg": 2 * c, "flatten": c * L}[self.global_pool]
        layers: list[nn.Module] = []
        for _ in range(int(p["dense_num"])):
            layers += [
                nn.Linear(feat, int(p["neuron_num"])),
                nn.ReLU(),
                nn.Dropout(float(p["dropout_dense"])),
            ]
            feat = int(p["neuron_num"])
        self.dense = nn.Sequential(*layers)
        self.head = nn.Linear(feat, n_outputs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        m = input_mask(x) if mask is None else mask
        h = self.input_dropout(x)
        for conv in self.convs:
            assert isinstance(conv, nn.Conv1d)
            m = valid_conv_mask(m, int(conv.kernel_size[0]))
            h = conv(h)
            # max-pool before ReLU (they commute): the element-wise work runs on the pooled,
            # shorter tensor. Windows touching padding are pushed far below zero first, so
            # they never win the pool and come out of the ReLU as 0.
            if not bool(m.all()):
                h = h - (1.0 - m.unsqueeze(1)) * _MASKED
            h = F.relu(F.max_pool1d(h, self.pool_size, self.pool_size, ceil_mode=True))
            m = _pool_mask(m, self.pool_size, ceil_mode=True)
            h = self.conv_dropout(h)
        if self.global_pool == "flatten":
            h = h.flatten(1)
        elif self.global_pool == "max":
            h = h.amax(-1)  # post-ReLU and masked to 0, so padding never wins
        else:
            avg = h.sum(-1) / m.sum(-1, keepdim=True).clamp_min(1.0)
            h = torch.cat([h.amax(-1), avg], dim=1)
        return self.head(self.dense(h))


class CNNGRU(nn.Module):
    """Saluki-style conv tower + GRU, sized for CPU training.

    ``first_conv`` (valid, ReLU) -> MaxPool(``pool_size``) -> ``conv_num`` x [Conv1d (same),
    BatchNorm, ReLU, Dropout, MaxPool(2)] -> GRU (``bidirectional``: one pass each way) ->
    dense -> outputs. The GRU's final states (forward: after the last real position, backward:
    after the first) feed the head; padded rows are packed, so padding never reaches them.
    Pooling early keeps the expensive layers short (Saluki pools after every conv for the
    same reason).
    """

    def __init__(self, in_channels: int, length: int, n_outputs: int, **params: Any):
        super().__init__()
        p = {**CNN_GRU_DEFAULTS, **params}
        self.params = p
        ch, k, n_layers = int(p["kernel_num"]), int(p["kernel_len"]), int(p["conv_num"])
        k2 = int(p["tower_kernel_len"])
        self.pool_size = int(p["pool_size"])
        self.first_conv = nn.Conv1d(in_channels, ch, k)
        L = (length - k + 1) // self.pool_size
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(n_layers):
            self.convs.append(nn.Conv1d(ch, ch, k2, padding=k2 // 2, bias=False))
            self.norms.append(nn.BatchNorm1d(ch))
            L //= 2
        if L < 1:
            raise ValueError(f"input length {length} too short for {n_layers} conv/pool layers")
        self.dropout = nn.Dropout(float(p["dropout"]))
        units = int(p["gru_units"])
        self.bidirectional = bool(p["bidirectional"])
        self.gru = nn.GRU(ch, units, batch_first=True, bidirectional=self.bidirectional)
        feat = units * (2 if self.bidirectional else 1)
        self.head = nn.Sequential(
            nn.Linear(feat, units),
            nn.ReLU(),
            nn.Dropout(float(p["dropout"])),
            nn.Linear(units, n_outputs),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = input_mask(x) if mask is None else mask
        m = valid_conv_mask(mask, self.first_conv.kernel_size[0])
        h = F.relu(self.first_conv(x)) * m.unsqueeze(1)
        h = F.max_pool1d(h, self.pool_size, self.pool_size)
        m = _pool_mask(m, self.pool_size)
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = self.dropout(F.relu(norm(conv(h)))) * m.unsqueeze(1)
            h = F.max_pool1d(h, 2, 2)
            m = _pool_mask(m, 2)
        h = h.transpose(1, 2)  # (batch, L', ch)
        lengths = m.sum(1).long()
        if bool((lengths < m.shape[1]).any()):
            # padded rows: left-align the real block and pack it, so that neither direction
            # of the GRU reads padding
            start = m.argmax(1)
            steps = torch.arange(m.shape[1], device=m.device)
            idx = (steps.unsqueeze(0) + start.unsqueeze(1)).clamp_max(m.shape[1] - 1)
            h = h.gather(1, idx.unsqueeze(2).expand(-1, -1, h.shape[2]))
            packed = nn.utils.rnn.pack_padded_sequence(
                h, lengths.clamp_min(1).cpu(), batch_first=True, enforce_sorted=False
            )
            _, hn = self.gru(packed)
        else:
            _, hn = self.gru(h)
        # hn: (directions, batch, units): forward state after the last real position, backward
        # state after the first one
        state = torch.cat(list(hn), dim=1)
        return self.head(state)


def _per_layer(value: Any, n: Any) -> list[int]:
    n = int(n)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"per-layer value {value} needs {n} entries")
        return [int(v) for v in value]
    return [int(value)] * n


class Ensemble(nn.Module):
    """N member networks of one architecture; ``forward`` is the MEAN of the members' raw
    outputs (logits for classification, standardised values for regression).

    Predictions go through :func:`components.seqmodels.training.predict_outputs`, which averages
    the members' PROBABILITIES for classification (not the logits) and their outputs for
    regression (there the same as ``forward``). ``first_conv`` is the first member's first conv
    (the motif stage interprets the first member).
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        self.members = nn.ModuleList(members)

    @property
    def first_conv(self) -> nn.Conv1d:
        conv = self.members[0].first_conv
        assert isinstance(conv, nn.Conv1d)
        return conv

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return torch.stack([m(x, mask) for m in self.members]).mean(0)


def ensemble_size(params: dict[str, Any]) -> int:
    """The ``ensemble`` network param (default 1), checked."""
    n = params.get("ensemble", 1)
    if isinstance(n, bool) or not isinstance(n, int | float) or int(n) != n or int(n) < 1:
        raise ValueError(f"ensemble must be an integer >= 1, got {n!r}")
    return int(n)


def build_network(
    arch: str, in_channels: int, length: int, n_outputs: int, params: dict[str, Any]
) -> nn.Module:
    """``arch`` in :data:`ARCHS` -> network; ``params["ensemble"]`` N > 1 -> an :class:`Ensemble`
    of N such networks. Unknown keys in ``params`` are ignored."""
    n = ensemble_size(params)
    if n > 1:
        return Ensemble(
            [build_network(arch, in_channels, length, n_outputs, {**params, "ensemble": 1}) for _ in range(n)]
        )
    if arch == "cnn":
        keys = CNN_DEFAULTS.keys()
        return CNN(in_channels, length, n_outputs, **{k: v for k, v in params.items() if k in keys})
    if arch == "cnn_gru":
        keys = CNN_GRU_DEFAULTS.keys()
        return CNNGRU(in_channels, length, n_outputs, **{k: v for k, v in params.items() if k in keys})
    raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
