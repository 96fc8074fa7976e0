"""Visualization by optimization (pysster; Budach & Marsico 2018): the input a node likes best.

Any node can be optimised: a conv neuron at any layer (``conv2:5``, optimised over its receptive
field and read at the field's centre), a dense unit (``dense1:3``, post-ReLU) or an output
(``output:0``, the raw output: logit or standardised value). The input is a *relaxed one-hot*:
``softmax(logits)`` per position; seeded gradient ascent (AdamW) on the logits from several random
starts (``restarts``; random enough that the ReLUs of the network are active), the best restart
kept. The objective is the node before its ReLU (a unit whose ReLU is off still has a gradient);
the decoupled weight decay pulls the logits of positions the node does not read back to
uniform, so the logo shows what the node reads. pysster's authors warn
that such inputs need not be biologically plausible; read them next to the sampled motifs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from components.common.errors import InputError
from components.motifs.receptive import CNNGRU, conv_layers, layer_names, window_activations

__all__ = ["Node", "parse_node", "node_values", "optimize_nodes"]


@dataclass(frozen=True)
class Node:
    """A node: ``kind`` conv | dense | output, 1-based ``layer`` (conv/dense), ``unit``."""

    kind: str
    layer: int
    unit: int

    @property
    def name(self) -> str:
        return f"output:{self.unit}" if self.kind == "output" else f"{self.kind}{self.layer}:{self.unit}"


def _dense_modules(net: nn.Module) -> list[nn.Module]:
    """The post-ReLU module of every dense layer (its output is the dense unit's value)."""
    seq: Any = net.head if isinstance(net, CNNGRU) else getattr(net, "dense", nn.Sequential())
    return [m for m in seq if isinstance(m, nn.ReLU)]


def _width(net: nn.Module, kind: str, layer: int) -> int:
    if kind == "conv":
        return conv_layers(net)[layer - 1].channels
    seq: Any = net.head if isinstance(net, CNNGRU) else getattr(net, "dense", nn.Sequential())
    if kind == "dense":
        linears = [m for m in seq if isinstance(m, nn.Linear)]
        return int(linears[layer - 1].out_features)
    head: Any = net.head
    last = [m for m in (head if isinstance(head, nn.Sequential) else [head]) if isinstance(m, nn.Linear)][-1]
    return int(last.out_features)


def parse_node(net: nn.Module, spec: str) -> Node:
    """``conv2:5``, ``dense1:3`` or ``output:0`` -> :class:`Node`, checked against ``net``."""
    names = layer_names(net)
    name, sep, unit_s = str(spec).strip().lower().partition(":")
    if not sep or not unit_s.lstrip("-").isdigit():
        raise InputError(f"node {spec!r} must look like LAYER:UNIT (conv2:5, dense1:0, output:0)")
    if name not in names or name == "gru":
        raise InputError(
            f"node {spec!r}: layer {name!r} does not exist or has no units; layers: {', '.join(names)}"
        )
    kind = "output" if name == "output" else name.rstrip("0123456789")
    layer = 0 if kind == "output" else int(name[len(kind) :])
    unit = int(unit_s)
    width = _width(net, kind, layer)
    if not 0 <= unit < width:
        raise InputError(
            f"node {spec!r}: unit {unit} out of range, {name} has {width} units (0..{width - 1})"
        )
    return Node(kind, layer, unit)


def node_values(
    net: nn.Module, x: torch.Tensor, kind: str, layer: int, *, pre_activation: bool = False
) -> torch.Tensor:
    """Values of every unit of one layer for a batch (differentiable): ``(n, units)``.

    conv: at the centre of receptive-field windows (``x`` of the field's width); dense/output:
    on full-length inputs. ``pre_activation``: conv and dense units before their ReLU.
    """
    if kind == "conv":
        return window_activations(net, x, conv_layers(net)[layer - 1], pre_activation=pre_activation)
    if kind == "output":
        return net(x)
    store: dict[str, torch.Tensor] = {}
    module = _dense_modules(net)[layer - 1]
    if pre_activation:
        seq: Any = net.head if isinstance(net, CNNGRU) else net.dense
        mods = list(seq)
        module = mods[mods.index(module) - 1]  # the Linear before the ReLU
    handle = module.register_forward_hook(lambda _m, _i, out: store.__setitem__("v", out))
    try:
        net(x)
    finally:
        handle.remove()
    return store["v"]


def optimize_nodes(
    net: nn.Module,
    nodes: list[Node],
    channels: int,
    length: int,
    *,
    steps: int = 300,
    lr: float = 0.1,
    restarts: int = 5,
    init_scale: float = 1.5,
    decay: float = 0.05,
    init: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Optimise the input of several nodes of ONE layer together.

    Parameters
    ----------
    nodes
        Nodes of the same kind and layer.
    channels
        One-hot channels of the input.
    length
        Input length: the receptive field for conv nodes, the model length otherwise.
    init
        Optional starting inputs ``(len(nodes), k, channels, length)`` (one-hot, ``k <= restarts``):
        restart ``j < k`` of node ``i`` starts from ``init_scale * 2 * init[i, j]`` plus noise (e.g.
        the data windows that drive a neuron, whose ReLUs are active; a random start can sit where
        every ReLU of a deep node is off and has no gradient). The other restarts start at random.

    Returns
    -------
    (pwms, values)
        ``(len(nodes), length, channels)`` position probability matrices and the node values
        (before the ReLU) they reach.
    """
    if not nodes:
        return np.zeros((0, length, channels), np.float32), np.zeros(0, np.float32)
    kind, layer = nodes[0].kind, nodes[0].layer
    if any((nd.kind, nd.layer) != (kind, layer) for nd in nodes):
        raise ValueError("optimize_nodes: all nodes must belong to one layer")
    net.eval()
    for prm in net.parameters():
        prm.requires_grad_(False)
    try:
        gen = torch.Generator().manual_seed(seed)
        n = len(nodes)
        units = torch.tensor([nd.unit for nd in nodes]).repeat_interleave(restarts)
        start = init_scale * torch.randn(n, restarts, channels, length, generator=gen)
        if init is not None and init.shape[1] > 0:
            k = min(int(init.shape[1]), restarts)
            start[:, :k] += 2 * init_scale * torch.as_tensor(np.asarray(init[:, :k], dtype=np.float32))
        logits = start.reshape(n * restarts, channels, length).requires_grad_(True)
        opt = torch.optim.AdamW([logits], lr=lr, weight_decay=decay)
        rows = torch.arange(n * restarts)
        for _ in range(steps):
            opt.zero_grad()
            v = node_values(net, torch.softmax(logits, 1), kind, layer, pre_activation=True)[rows, units]
            (-v.sum()).backward()
            opt.step()
        with torch.no_grad():
            x = torch.softmax(logits, 1)
            v = node_values(net, x, kind, layer, pre_activation=True)[rows, units].reshape(n, restarts)
            best = v.argmax(1)
            pick = torch.arange(n) * restarts + best
            pwms = x[pick].transpose(1, 2).numpy()
            values = v[torch.arange(n), best].numpy()
    finally:
        for prm in net.parameters():
            prm.requires_grad_(True)
    return pwms.astype(np.float32), values.astype(np.float32)
