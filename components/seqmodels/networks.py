"""Plain ``nn.Module`` networks. Input ``X`` (batch, channels, L) and ``mask`` (batch, L).

The first layer of every network is an ``nn.Conv1d`` without padding reachable as
``net.first_conv``: output position ``p`` sees the input window ``[p, p + kernel_size)``
(the motif detectors read by :mod:`components.motifs`). Padding columns are masked: a window
touching padding gives zero activation, and pooled features ignore padded positions.

- :class:`CNN`: pysster-style conv/pool stacks + dense layers (Budach & Marsico 2018,
  Bioinformatics 34:3035). ``CNN_PYSSTER_DEFAULTS`` are pysster's defaults.
- :class:`CNNGRU`: Saluki-style conv tower + GRU (Agarwal & Kelley 2022, Genome Biol 23:245).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "CNN",
    "CNNGRU",
    "build_network",
    "input_mask",
    "valid_conv_mask",
    "CNN_DEFAULTS",
    "CNN_PYSSTER_DEFAULTS",
    "CNN_GRU_DEFAULTS",
    "ARCHS",
]

ARCHS = ("cnn", "cnn_gru")

#: Our CNN defaults: fast on CPU and at least as accurate as pysster on the RBP benchmark.
CNN_DEFAULTS: dict[str, Any] = {
    "conv_num": 2,
    "kernel_num": 64,
    "kernel_len": 9,
    "pool_size": 3,
    "dense_num": 1,
    "neuron_num": 64,
    "dropout_input": 0.0,
    "dropout_conv": 0.2,
    "dropout_dense": 0.5,
    "global_pool": "max",
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
    "kernel_len": 5,
    "conv_num": 3,
    "gru_units": 64,
    "dropout": 0.2,
}


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
            h = F.relu(conv(h)) * m.unsqueeze(1)
            h = F.max_pool1d(h, self.pool_size, self.pool_size, ceil_mode=True)
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
    """Saluki-style: Conv1d -> n x [LayerNorm, ReLU, Conv1d, Dropout, MaxPool(2)] -> GRU -> dense.

    The GRU reads the pooled feature sequence forward; its state at the last real position
    (from the mask) feeds BatchNorm/ReLU/Linear/Dropout/BatchNorm/ReLU/Linear(outputs).
    """

    def __init__(self, in_channels: int, length: int, n_outputs: int, **params: Any):
        super().__init__()
        p = {**CNN_GRU_DEFAULTS, **params}
        self.params = p
        ch, k, n_layers = int(p["kernel_num"]), int(p["kernel_len"]), int(p["conv_num"])
        self.first_conv = nn.Conv1d(in_channels, ch, k, bias=False)
        L = length - k + 1
        self.norms = nn.ModuleList()
        self.convs = nn.ModuleList()
        for _ in range(n_layers):
            self.norms.append(nn.LayerNorm(ch))
            self.convs.append(nn.Conv1d(ch, ch, k, padding=k // 2))
            L //= 2
        if L < 1:
            raise ValueError(f"input length {length} too short for {n_layers} conv/pool layers")
        self.dropout = nn.Dropout(float(p["dropout"]))
        self.final_norm = nn.LayerNorm(ch)
        units = int(p["gru_units"])
        self.gru = nn.GRU(ch, units, batch_first=True)
        self.head = nn.Sequential(
            nn.BatchNorm1d(units),
            nn.ReLU(),
            nn.Linear(units, units),
            nn.Dropout(float(p["dropout"])),
            nn.BatchNorm1d(units),
            nn.ReLU(),
            nn.Linear(units, n_outputs),
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        mask = input_mask(x) if mask is None else mask
        m = valid_conv_mask(mask, self.first_conv.kernel_size[0])
        h = self.first_conv(x) * m.unsqueeze(1)
        for norm, conv in zip(self.norms, self.convs, strict=True):
            h = F.relu(norm(h.transpose(1, 2)).transpose(1, 2))
            h = self.dropout(conv(h)) * m.unsqueeze(1)
            h = F.max_pool1d(h, 2, 2)
            m = _pool_mask(m, 2)
        h = F.relu(self.final_norm(h.transpose(1, 2)))  # (batch, L', ch)
        out, _ = self.gru(h)
        steps = torch.arange(m.shape[1], device=m.device)
        last = (m * (steps + 1)).argmax(1)  # last real position
        state = out[torch.arange(out.shape[0], device=out.device), last]
        return self.head(state)


def _per_layer(value: Any, n: Any) -> list[int]:
    n = int(n)
    if isinstance(value, list | tuple):
        if len(value) != n:
            raise ValueError(f"per-layer value {value} needs {n} entries")
        return [int(v) for v in value]
    return [int(value)] * n


def build_network(
    arch: str, in_channels: int, length: int, n_outputs: int, params: dict[str, Any]
) -> nn.Module:
    """``arch`` in :data:`ARCHS` -> network. Unknown keys in ``params`` are ignored."""
    if arch == "cnn":
        keys = CNN_DEFAULTS.keys()
        return CNN(in_channels, length, n_outputs, **{k: v for k, v in params.items() if k in keys})
    if arch == "cnn_gru":
        keys = CNN_GRU_DEFAULTS.keys()
        return CNNGRU(in_channels, length, n_outputs, **{k: v for k, v in params.items() if k in keys})
    raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
