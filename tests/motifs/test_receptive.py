"""Receptive fields and activations of any conv layer (CNN, CNN+GRU, ensembles) and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from components.common.errors import InputError
from components.motifs.receptive import (
    check_neurons,
    conv_activations,
    conv_feature_maps,
    conv_layers,
    extract_windows,
    layer_names,
    resolve_layer,
    select_member,
    window_activations,
)
from components.seqmodels.networks import CNN, CNNGRU, Ensemble, build_network

CNN3 = {"conv_num": 3, "kernel_num": [6, 5, 4], "kernel_len": [5, 3, 3], "pool_size": 2, "global_pool": "max"}
GRU3 = {
    "kernel_num": 6,
    "kernel_len": 5,
    "pool_size": 2,
    "conv_num": 2,
    "tower_kernel_len": 5,
    "gru_units": 4,
}


def _one_hot(n: int, length: int, seed: int = 0, channels: int = 4) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, channels, length), np.float32)
    X[np.arange(n)[:, None], rng.integers(channels, size=(n, length)), np.arange(length)[None, :]] = 1
    return torch.from_numpy(X)


def _net(arch: str, length: int = 60) -> torch.nn.Module:
    torch.manual_seed(0)
    net = build_network(arch, 4, length, 1, CNN3 if arch == "cnn" else GRU3).eval()
    if arch == "cnn_gru":  # non-trivial batch-norm statistics
        for norm in net.norms:
            norm.running_mean.uniform_(-0.2, 0.2)
    return net


@pytest.mark.parametrize("arch", ["cnn", "cnn_gru"])
def test_receptive_field_matches_gradient_support(arch):
    """The input positions that influence output position p are exactly its declared window."""
    net = _net(arch)
    length = 60
    gen = torch.Generator().manual_seed(0)
    for layer in conv_layers(net):
        # dense random inputs: max-pooling passes gradients to one winner, so the union over
        # inputs and channels covers the whole window
        x = torch.rand(16, 4, length, generator=gen).requires_grad_(True)
        a = conv_feature_maps(net, x, layer.index)[-1]
        p = a.shape[2] // 2
        (g,) = torch.autograd.grad(a[:, :, p].sum(), x)
        support = np.flatnonzero(g.abs().sum((0, 1)).numpy() > 0)
        start = int(layer.window_start(p))
        assert len(support), layer
        assert support.min() == max(start, 0), layer
        assert support.max() == min(start + layer.receptive_field, length) - 1, layer


def test_cnn_geometry_and_first_layer_agree_with_bundle_activations():
    net = _net("cnn")
    layers = conv_layers(net)
    assert [(c.receptive_field, c.jump, c.offset) for c in layers] == [
        (5, 1, 0),
        (5 + 1 + 2 * 2, 2, 0),
        (10 + 2 + 2 * 4, 4, 0),
    ]
    X = _one_hot(3, 60)
    X[1, :, 50:] = 0  # padding
    a1 = conv_activations(net, X, layers[0])
    ref = torch.relu(net.first_conv(X)).detach().numpy()
    assert np.allclose(a1[0], ref[0], atol=1e-6)
    assert np.all(a1[1, :, 46:] == 0)  # windows touching padding are 0
    # the last conv layer's global max is what the network's head reads
    a3 = conv_activations(net, X, layers[2])
    with torch.no_grad():
        feat = torch.nn.functional.max_pool1d(torch.from_numpy(a3), 2, 2, ceil_mode=True).amax(-1)
        assert torch.allclose(net.head(net.dense(feat)), net(X), atol=1e-5)


@pytest.mark.parametrize("arch", ["cnn", "cnn_gru"])
def test_window_activation_equals_activation_in_context(arch):
    net = _net(arch)
    X = _one_hot(4, 60, seed=2)
    for layer in conv_layers(net):
        acts = conv_activations(net, X, layer)
        p = acts.shape[2] // 2
        W = extract_windows(X.numpy(), np.full(4, int(layer.window_start(p))), layer.receptive_field)
        with torch.no_grad():
            w = window_activations(net, torch.from_numpy(W), layer).numpy()
        assert np.allclose(w, acts[:, :, p], atol=1e-5), layer


def test_extract_windows_pads_outside_with_zero_columns():
    X = _one_hot(2, 10).numpy()
    W = extract_windows(X, np.array([-3, 8]), 5)
    assert W.shape == (2, 4, 5)
    assert np.all(W[0, :, :3] == 0) and np.array_equal(W[0, :, 3:], X[0, :, :2])
    assert np.array_equal(W[1, :, :2], X[1, :, 8:]) and np.all(W[1, :, 2:] == 0)


def test_layer_errors_and_names():
    net = _net("cnn")
    assert layer_names(net) == ["conv1", "conv2", "conv3", "dense1", "output"]
    assert resolve_layer(net, 2).name == "conv2" and resolve_layer(net, "conv3").index == 3
    with pytest.raises(InputError, match="layer 4 does not exist: the model has 3 convolution layers"):
        resolve_layer(net, 4)
    with pytest.raises(InputError, match="layer 0 does not exist"):
        resolve_layer(net, 0)
    with pytest.raises(InputError, match="'dense1' is not a convolution layer"):
        resolve_layer(net, "dense1")
    with pytest.raises(InputError, match="'gru' is not a convolution layer"):
        resolve_layer(_net("cnn_gru"), "gru")
    with pytest.raises(InputError, match="does not exist: the model's layers are conv1"):
        resolve_layer(net, "lstm")
    with pytest.raises(InputError, match="no convolution layers"):
        conv_layers(torch.nn.Linear(4, 1))
    layer = resolve_layer(net, 2)
    assert check_neurons(layer, None) == [0, 1, 2, 3, 4]
    assert check_neurons(layer, [3, 1, 3]) == [3, 1]
    with pytest.raises(InputError, match=r"neuron\(s\) 5, -1 out of range: conv2 has 5 neurons \(0..4\)"):
        check_neurons(layer, [5, -1, 2])


def test_select_member_of_ensemble():
    torch.manual_seed(0)
    ens = build_network("cnn", 4, 60, 1, {**CNN3, "ensemble": 2})
    assert isinstance(ens, Ensemble)
    net, note = select_member(ens, 1)
    assert net is ens.members[1] and "member 1" in note
    assert isinstance(select_member(ens)[0], CNN)
    with pytest.raises(InputError, match="member 2 out of range: the ensemble has 2 members"):
        select_member(ens, 2)
    single = _net("cnn_gru")
    assert isinstance(single, CNNGRU) and select_member(single) == (single, None)
    with pytest.raises(InputError, match="single network"):
        select_member(single, 1)
