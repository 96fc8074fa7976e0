"""Receptive fields and activations of any convolution layer of the seqmodels networks.

A *neuron* is one output channel of a convolution layer; its activation at position ``p`` is the
post-ReLU output of that layer before pooling (windows that touch padding are 0, as in the
networks). Layers are numbered from 1 (``conv1`` = ``first_conv``). Position ``p`` of layer
``l`` sees the input window ``[offset + p * jump, offset + p * jump + receptive_field)``; the
offset is negative when a layer pads ("same" convolutions of the CNN+GRU tower), so windows
near the sequence ends reach into padding, which is read as all-zero columns.

Supported: :class:`~components.seqmodels.networks.CNN`,
:class:`~components.seqmodels.networks.CNNGRU` and their seed ensembles (:func:`select_member`
picks one member).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from components.common.errors import InputError
from components.seqmodels.networks import CNN, CNNGRU, input_mask, valid_conv_mask

__all__ = [
    "ConvLayer",
    "select_member",
    "conv_layers",
    "layer_names",
    "resolve_layer",
    "check_neurons",
    "conv_feature_maps",
    "conv_activations",
    "window_activations",
    "extract_windows",
]


@dataclass(frozen=True)
class ConvLayer:
    """Geometry of one convolution layer (1-based ``index``) relative to the network input."""

    index: int
    channels: int
    kernel_size: int
    receptive_field: int  # input positions one output position sees
    jump: int  # input positions between two adjacent output positions
    offset: int  # input start of the window of output position 0 (< 0 with padding)

    @property
    def name(self) -> str:
        return f"conv{self.index}"

    @property
    def center(self) -> int:
        """Output position whose window starts at input 0 (0 without padding)."""
        return -self.offset // self.jump

    def window_start(self, position: np.ndarray | int) -> np.ndarray:
        """Input start of the receptive field of output ``position``."""
        return self.offset + np.asarray(position) * self.jump


def select_member(net: nn.Module, member: int = 0) -> tuple[nn.Module, str | None]:
    """The network to interpret: ``net`` itself, or member ``member`` of a seed ensemble.

    Returns ``(network, note)``; the note says which member was chosen (None for a single net).
    """
    members = getattr(net, "members", None)
    if members is None:
        if member != 0:
            raise InputError(f"member {member} requested but the model is a single network (member 0)")
        return net, None
    if not 0 <= member < len(members):
        raise InputError(
            f"member {member} out of range: the ensemble has {len(members)} members (0..{len(members) - 1})"
        )
    return members[member], f"ensemble of {len(members)} networks: member {member} is interpreted"


def conv_layers(net: nn.Module) -> list[ConvLayer]:
    """Geometry of every convolution layer of ``net`` (CNN or CNN+GRU), input to output.

    Raises
    ------
    InputError
        If ``net`` has no convolution layers this module knows how to read.
    """
    out: list[ConvLayer] = []
    if isinstance(net, CNN):
        rf, jump = 1, 1
        for i, conv in enumerate(net.convs, start=1):
            k = int(conv.kernel_size[0])  # type: ignore[index]
            rf += (k - 1) * jump
            out.append(ConvLayer(i, int(conv.out_channels), k, rf, jump, 0))  # type: ignore[arg-type]
            rf += (net.pool_size - 1) * jump
            jump *= net.pool_size
        return out
    if isinstance(net, CNNGRU):
        k = int(net.first_conv.kernel_size[0])
        out.append(ConvLayer(1, int(net.first_conv.out_channels), k, k, 1, 0))
        rf, jump, offset = k + net.pool_size - 1, net.pool_size, 0
        for i, conv in enumerate(net.convs, start=2):
            k2 = int(conv.kernel_size[0])  # type: ignore[index]
            pad = int(conv.padding[0])  # type: ignore[index]
            rf += (k2 - 1) * jump
            offset -= pad * jump
            out.append(ConvLayer(i, int(conv.out_channels), k2, rf, jump, offset))  # type: ignore[arg-type]
            rf += jump
            jump *= 2
        return out
    raise InputError(
        f"model has no convolution layers to interpret ({type(net).__name__}): deep-neuron motifs "
        "need a seqmodels CNN or CNN+GRU"
    )


def layer_names(net: nn.Module) -> list[str]:
    """Every named layer: ``conv1..K`` then ``gru`` (CNN+GRU), ``dense1..D`` and ``output``."""
    names = [c.name for c in conv_layers(net)]
    if isinstance(net, CNNGRU):
        return [*names, "gru", "dense1", "output"]
    n_dense = sum(isinstance(m, nn.Linear) for m in getattr(net, "dense", []))
    return [*names, *(f"dense{i}" for i in range(1, n_dense + 1)), "output"]


def resolve_layer(net: nn.Module, layer: int | str) -> ConvLayer:
    """A convolution layer by 1-based index (``2``) or name (``"conv2"``).

    Raises
    ------
    InputError
        A layer that does not exist, or a layer that is not a convolution (``dense1``, ``gru``).
    """
    layers = conv_layers(net)
    names = layer_names(net)
    spec = str(layer).strip().lower()
    if spec.isdigit() or (spec.startswith("-") and spec[1:].isdigit()):
        idx = int(spec)
    elif spec.startswith("conv") and spec[4:].isdigit():
        idx = int(spec[4:])
    elif spec in names:
        raise InputError(
            f"layer {spec!r} is not a convolution layer: deep-neuron motifs read conv1..conv{len(layers)}"
        )
    else:
        raise InputError(f"layer {layer!r} does not exist: the model's layers are {', '.join(names)}")
    if not 1 <= idx <= len(layers):
        raise InputError(
            f"layer {idx} does not exist: the model has {len(layers)} convolution layers (1..{len(layers)})"
        )
    return layers[idx - 1]


def check_neurons(layer: ConvLayer, neurons: list[int] | None) -> list[int]:
    """The neurons to interpret (all when None), checked against the layer's channel count."""
    if neurons is None or len(neurons) == 0:
        return list(range(layer.channels))
    bad = [n for n in neurons if not 0 <= int(n) < layer.channels]
    if bad:
        raise InputError(
            f"neuron(s) {', '.join(map(str, bad))} out of range: {layer.name} has {layer.channels} "
            f"neurons (0..{layer.channels - 1})"
        )
    return list(dict.fromkeys(int(n) for n in neurons))


def _pool_mask(m: torch.Tensor, size: int, ceil_mode: bool) -> torch.Tensor:
    return F.max_pool1d(m.unsqueeze(1), size, size, ceil_mode=ceil_mode).squeeze(1)


def conv_feature_maps(
    net: nn.Module, x: torch.Tensor, upto: int, *, pre_activation: bool = False
) -> list[torch.Tensor]:
    """Post-ReLU, padding-masked, pre-pool outputs of conv layers ``1..upto`` for a batch.

    Differentiable (no ``no_grad`` here); ``net`` must be in eval mode (batch norm statistics,
    no dropout). ``pre_activation``: the LAST map (layer ``upto``) before its ReLU (after batch
    norm for the CNN+GRU tower), still masked.

    Parameters
    ----------
    x
        ``(n, channels, L)`` one-hot (or relaxed one-hot) input.

    Returns
    -------
    list of torch.Tensor
        ``upto`` tensors, ``(n, channels_l, L_l)`` each.
    """
    m = input_mask(x)
    maps: list[torch.Tensor] = []
    if isinstance(net, CNN):
        h = x
        for conv in net.convs:
            m = valid_conv_mask(m, int(conv.kernel_size[0]))  # type: ignore[index]
            z = conv(h)
            a = F.relu(z) * m.unsqueeze(1)
            maps.append(a)
            if len(maps) == upto:
                if pre_activation:
                    maps[-1] = z * m.unsqueeze(1)
                break
            # max-pool of the masked post-ReLU map: what the network feeds the next layer
            h = F.max_pool1d(a, net.pool_size, net.pool_size, ceil_mode=True)
            m = _pool_mask(m, net.pool_size, True)
        return maps
    if isinstance(net, CNNGRU):
        m = valid_conv_mask(m, int(net.first_conv.kernel_size[0]))
        z = net.first_conv(x)
        a = F.relu(z) * m.unsqueeze(1)
        maps.append(a)
        if upto == 1:
            if pre_activation:
                maps[-1] = z * m.unsqueeze(1)
            return maps
        h = F.max_pool1d(a, net.pool_size, net.pool_size)
        m = _pool_mask(m, net.pool_size, False)
        for conv, norm in zip(net.convs, net.norms, strict=True):
            if len(maps) == upto:
                break
            z = norm(conv(h))
            a = F.relu(z) * m.unsqueeze(1)
            maps.append(a)
            if pre_activation and len(maps) == upto:
                maps[-1] = z * m.unsqueeze(1)
                break
            h = F.max_pool1d(a, 2, 2)
            m = _pool_mask(m, 2, False)
        return maps
    conv_layers(net)  # raises the "no convolution layers" error
    return maps


def conv_activations(
    net: nn.Module, X: np.ndarray | torch.Tensor, layer: ConvLayer, *, batch_size: int = 512
) -> np.ndarray:
    """Activations of every neuron of ``layer`` on full inputs: ``(n, channels, L_l)`` float32."""
    net.eval()
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32)) if isinstance(X, np.ndarray) else X.float()
    out = []
    with torch.no_grad():
        for i in range(0, len(Xt), batch_size):
            out.append(conv_feature_maps(net, Xt[i : i + batch_size], layer.index)[-1].numpy())
    if not out:
        return np.zeros((0, layer.channels, 0), np.float32)
    return np.concatenate(out)


def window_activations(
    net: nn.Module, W: torch.Tensor, layer: ConvLayer, *, pre_activation: bool = False
) -> torch.Tensor:
    """Activation of every neuron of ``layer`` on receptive-field windows, at the window's centre.

    ``W`` is ``(n, channels, layer.receptive_field)``; returns ``(n, layer.channels)``
    (differentiable; before the ReLU with ``pre_activation``).
    """
    a = conv_feature_maps(net, W, layer.index, pre_activation=pre_activation)[-1]
    return a[:, :, layer.center]


def extract_windows(X: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Windows ``X[i, :, starts[i] : starts[i] + width]``; parts outside the sequence are zero columns.

    ``X`` is ``(n, channels, L)`` and ``starts`` ``(n,)`` (may be negative); returns
    ``(n, channels, width)``.
    """
    n, c, L = X.shape
    starts = np.asarray(starts, dtype=int)
    pos = starts[:, None] + np.arange(width)[None, :]  # (n, width)
    inside = (pos >= 0) & (pos < L)
    idx = np.clip(pos, 0, max(L - 1, 0))
    W = np.take_along_axis(X, np.broadcast_to(idx[:, None, :], (n, c, width)), axis=2)
    return (W * inside[:, None, :]).astype(np.float32)
