"""Visualization by optimization: a conv neuron with a known kernel, dense units and outputs."""

from __future__ import annotations

import numpy as np
import torch

from components.motifs.optimize import node_values, optimize_nodes, parse_node
from components.seqmodels.networks import build_network


def _net():
    torch.manual_seed(0)
    params = {"conv_num": 2, "kernel_num": [3, 2], "kernel_len": [4, 3], "pool_size": 2, "global_pool": "max"}
    net = build_network("cnn", 4, 30, 2, params).eval()
    with torch.no_grad():  # conv1 neuron 0 reads exactly GUCA
        w = torch.full((4, 4), -1.0)
        w[[2, 3, 1, 0], [0, 1, 2, 3]] = 1.0
        net.convs[0].weight[0] = w
        net.convs[0].bias[0] = -2.0
    return net


def test_conv_neuron_optimises_to_its_kernel():
    net = _net()
    node = parse_node(net, "conv1:0")
    pwms, values = optimize_nodes(net, [node], 4, 4, steps=200, restarts=2, seed=1)
    assert pwms.shape == (1, 4, 4) and np.allclose(pwms.sum(2), 1, atol=1e-5)
    assert "".join("ACGU"[i] for i in pwms[0].argmax(1)) == "GUCA"
    assert values[0] > 1.5  # 4 matches - bias 2 = 2 at a perfect one-hot


def test_dense_and_output_nodes_improve_over_random_inputs():
    net = _net()
    for kind, layer, spec in (("dense", 1, "dense1:7"), ("output", 0, "output:1")):
        node = parse_node(net, spec)
        pwms, values = optimize_nodes(net, [node], 4, 30, steps=100, restarts=2, seed=0)
        rnd = torch.softmax(torch.randn(64, 4, 30, generator=torch.Generator().manual_seed(0)) * 1.5, 1)
        with torch.no_grad():
            base = node_values(net, rnd, kind, layer, pre_activation=True)[:, node.unit]
            x = torch.from_numpy(pwms.transpose(0, 2, 1).copy())
            again = node_values(net, x, kind, layer, pre_activation=True)[0, node.unit]
        assert np.isclose(float(again), values[0], atol=1e-4)
        assert values[0] >= float(base.max())
