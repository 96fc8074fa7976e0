"""Top windows and the genetic algorithm of deep-neuron sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from components.motifs.receptive import conv_activations, resolve_layer, window_activations
from components.motifs.sampling import combine, genetic_sampling, randomize_neutral, top_windows
from components.seqmodels.networks import build_network


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    params = {"conv_num": 2, "kernel_num": [6, 4], "kernel_len": [5, 3], "pool_size": 2, "global_pool": "max"}
    return build_network("cnn", 4, 40, 1, params).eval()


def _data(n=50, length=40):
    rng = np.random.default_rng(0)
    X = np.zeros((n, 4, length), np.float32)
    X[np.arange(n)[:, None], rng.integers(4, size=(n, length)), np.arange(length)[None, :]] = 1
    return X


def test_top_windows_are_the_best_positions(net):
    X = _data()
    layer = resolve_layer(net, 2)
    acts = conv_activations(net, X, layer)
    k = int(acts.max(axis=(0, 2)).argmax())
    s = top_windows(X, acts, layer, k, n_windows=10)
    assert s.windows.shape == (10, 4, layer.receptive_field)
    assert np.all(np.diff(s.activations) <= 0) and s.activations[0] == acts[:, k].max()
    with torch.no_grad():
        again = window_activations(net, torch.from_numpy(s.windows), layer)[:, k].numpy()
    assert np.allclose(again, s.activations, atol=1e-5)  # the window alone reproduces the activation


def test_genetic_sampling_is_seeded_and_beats_the_data(net):
    X = _data()
    layer = resolve_layer(net, 2)
    acts = conv_activations(net, X, layer)
    k = int(acts.max(axis=(0, 2)).argmax())
    a, info = genetic_sampling(net, layer, k, 4, n_samples=30, seed=3, max_seconds=30, patience=10)
    b, _ = genetic_sampling(net, layer, k, 4, n_samples=30, seed=3, max_seconds=30, patience=10)
    assert np.array_equal(a.windows, b.windows) and len(a.activations) == 30
    assert info["best"] >= acts[:, k].max()  # the optimised windows drive the neuron harder than data
    assert np.all(a.windows.sum(1) == 1) and set(a.source) == {"ga"}
    with pytest.raises(TypeError, match="unknown parameter"):
        genetic_sampling(net, layer, k, 4, populaton=10)
    neutral = randomize_neutral(net, layer, k, a, tolerance=0.1)
    assert neutral.windows.shape == a.windows.shape and np.all(neutral.windows.sum(1) == 1)
    assert (neutral.windows != a.windows).any()  # some letters did not matter and were redrawn
    both = combine(top_windows(X, acts, layer, k, n_windows=5), neutral)
    assert len(both.activations) == 35 and list(both.source[:5]) == ["data"] * 5
