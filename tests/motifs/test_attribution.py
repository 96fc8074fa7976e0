"""DeepLIFT-SHAP: shuffled references, the module form of the CNN, summation-to-delta, GRU fallback."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from components.motifs.attribution import (
    ModularCNN,
    attribution_scores,
    deeplift_shap_scores,
    shuffled_references,
)
from components.seqmodels.networks import build_network


def _one_hot(n: int, length: int, pad: int = 0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 4, length), np.float32)
    for i in range(n):
        X[i, rng.integers(0, 4, length - pad), np.arange(length - pad)] = 1.0
    return X


def _tokens(col_block: np.ndarray) -> str:
    hot = col_block.sum(axis=0) > 0
    return "".join("ACGU"[c] for c in col_block.argmax(axis=0)[hot])


def test_shuffled_references_keep_dinucleotides_and_padding():
    X = _one_hot(5, 60, pad=7)
    refs = shuffled_references(X, 6, seed=1)
    assert refs.shape == (5, 6, 4, 60)
    for i in range(5):
        s = _tokens(X[i])
        dinuc = Counter(s[j : j + 2] for j in range(len(s) - 1))
        outs = set()
        for r in range(6):
            assert refs[i, r, :, -7:].sum() == 0  # padding stays padding
            t = _tokens(refs[i, r])
            assert Counter(t[j : j + 2] for j in range(len(t) - 1)) == dinuc
            assert t[0] == s[0] and t[-1] == s[-1]
            outs.add(t)
        assert len(outs) > 3  # references differ from each other


@pytest.mark.parametrize("global_pool", ["max", "flatten", "maxavg"])
def test_modular_cnn_equals_network(global_pool):
    torch.manual_seed(0)
    net = build_network(
        "cnn",
        4,
        60,
        2,
        {"conv_num": 2, "kernel_num": 6, "kernel_len": 5, "pool_size": 3, "global_pool": global_pool},
    ).eval()
    x = torch.from_numpy(_one_hot(8, 60, pad=5))
    with torch.no_grad():
        assert torch.allclose(ModularCNN(net)(x), net(x), atol=1e-6)


def test_deeplift_is_exact_without_max_pooling():
    """Through ReLU/dense layers DeepLIFT sums exactly to f(x) - f(reference) (the max-pool rule does not)."""
    torch.manual_seed(0)
    params = {"conv_num": 2, "kernel_num": 6, "kernel_len": 5, "pool_size": 1, "global_pool": "flatten"}
    net = build_network("cnn", 4, 40, 1, params).eval()
    X = _one_hot(12, 40)
    info: dict = {}
    hyp = deeplift_shap_scores(net, X, n_refs=5, info=info)
    assert info["method"] == "deeplift_shap"
    assert info["rel_delta"] < 1e-4 and info["max_abs_delta"] < 1e-4
    # the actual contributions of a sequence sum to f(x) minus the mean prediction of its references
    refs = shuffled_references(X, 5, seed=0)
    with torch.no_grad():
        fx = net(torch.from_numpy(X))[:, 0].numpy()
        fr = net(torch.from_numpy(refs.reshape(-1, 4, 40)))[:, 0].numpy().reshape(12, 5).mean(axis=1)
    np.testing.assert_allclose((hyp * X).sum(axis=(1, 2)), fx - fr, atol=1e-4)
    # hypothetical scores differ between letters (not just the observed one is scored)
    assert np.abs(hyp * (1 - X)).sum() > 0


def test_gru_falls_back_to_expected_gradients():
    torch.manual_seed(0)
    net = build_network(
        "cnn_gru", 4, 40, 1, {"kernel_num": 8, "kernel_len": 5, "conv_num": 1, "gru_units": 8}
    )
    net.eval()
    X = _one_hot(6, 40)
    hyp, info = attribution_scores("deeplift_shap", net, X)
    assert info["method"] == "expected_gradients" and hyp.shape == X.shape
    # 16-step integrated gradients (and the max-pools) are only approximately complete
    assert np.isfinite(hyp).all() and info["rel_delta"] < 0.3


def test_unknown_attribution_method():
    with pytest.raises(ValueError, match="deeplift_shap"):
        attribution_scores("saliency", torch.nn.Linear(1, 1), np.zeros((1, 4, 5), np.float32))
