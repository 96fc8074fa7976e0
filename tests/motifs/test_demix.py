"""Demixing criterion, segments, grammar, optimisation nodes and the layer checks of interpret_layer."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from components.common.errors import InputError
from components.motifs.deep import prepare_layer
from components.motifs.demix import (
    Leaf,
    clusters_for,
    decode_counts,
    grammar_table,
    leaf_segments,
    load_criterion,
    split_segments,
)
from components.motifs.optimize import parse_node


def test_criterion_defaults_file_and_errors(tmp_path):
    c = load_criterion()
    assert clusters_for(c, 2, 1) == 4 and clusters_for(c, 5, 4) == c["default"]
    f = tmp_path / "c.yaml"
    f.write_text("default: 2\nmin_cluster_size: 5\nlayers:\n  conv4: {conv3: 6}\n")
    c = load_criterion(f)
    assert clusters_for(c, 4, 3) == 6 and clusters_for(c, 4, 2) == 2 and c["min_cluster_size"] == 5
    j = tmp_path / "c.json"
    j.write_text('{"default": 5}')
    assert load_criterion(j)["default"] == 5
    for text, msg in (
        ("clusters: 3\n", "unknown key(s) clusters"),
        ("default: 0\n", "default must be a positive integer"),
        ("layers:\n  dense1: {conv1: 2}\n", "'dense1' must be a conv layer name"),
        ("layers:\n  conv2: {conv1: two}\n", "layers.conv2.conv1 must be a positive integer"),
        ("[1, 2]\n", "must be a mapping"),
        ("default: [\n", "not valid YAML/JSON"),
    ):
        f.write_text(text)
        with pytest.raises(
            InputError, match=msg.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
        ) as e:
            load_criterion(f)
        assert "c.yaml" in str(e.value)
    with pytest.raises(InputError, match="not found"):
        load_criterion(tmp_path / "missing.yaml")


def test_split_segments_merges_small_gaps_and_drops_short_runs():
    informative = np.array([1, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1], bool)
    assert split_segments(informative, max_gap=1, min_width=4) == [(0, 5), (8, 16)]
    assert split_segments(informative, max_gap=0, min_width=3) == [(8, 11), (12, 16)]


def _leaf(seqs: list[str], letters: str = "ACGU") -> Leaf:
    counts = np.zeros((len(seqs[0]), len(letters)))
    for s in seqs:
        counts[np.arange(len(s)), [letters.index(c) for c in s]] += 1
    return Leaf((0,), np.arange(len(seqs)), counts, 1.0)


def test_leaf_segments_and_grammar():
    rng = np.random.default_rng(0)
    rand = lambda n: "".join(rng.choice(list("ACGU"), n))  # noqa: E731
    seqs = [rand(3) + "UGUAAAUA" + rand(4) + "GCAUCG" + rand(3) for _ in range(60)]
    channels = [(c, None) for c in "ACGU"]
    full, st, segs = leaf_segments(_leaf(seqs), channels, "conv2_n0")
    assert st is None and full.width == 24
    assert [(s.start, s.end, s.motif.consensus()) for s in segs] == [(3, 11, "UGUAAAUA"), (15, 21, "GCAUCG")]
    g = grammar_table("conv2_n0", segs, {segs[0].motif.id: "PUM2"})
    assert g.loc[0, ["name_a", "name_b", "distance", "offset", "count"]].tolist() == [
        "PUM2",
        "GCAUCG",
        4,
        12,
        60,
    ]


def test_extended_alphabet_decodes_into_sequence_and_structure():
    channels = [(b, s) for b in "ACGU" for s in "SH"]
    counts = np.zeros((3, 8))
    counts[0, channels.index(("A", "S"))] = 5
    counts[0, channels.index(("A", "H"))] = 5
    counts[1, channels.index(("C", "H"))] = 10
    seq, letters, st, st_letters = decode_counts(counts, channels)
    assert letters == "ACGU" and st_letters == "SH"
    assert seq[0].tolist() == [10, 0, 0, 0] and st[0].tolist() == [5, 5] and st[1].tolist() == [0, 10]


def test_prepare_layer_errors_and_nodes():
    from components.seqmodels.alphabet import RNA
    from components.seqmodels.bundle import make_bundle
    from components.seqmodels.data import SequenceData

    data = SequenceData(
        ["ACGU" * 10] * 4, ["a", "b", "c", "d"], np.zeros((4, 1), np.float32), "regression", ["y"]
    )
    params = {"conv_num": 2, "kernel_num": [4, 3], "kernel_len": 5, "pool_size": 2, "global_pool": "max"}
    bundle = make_bundle("cnn", params, RNA, 40, data)
    sub, conv, neurons, note = prepare_layer(bundle, "conv2")
    assert conv.channels == 3 and neurons == [0, 1, 2] and note is None
    no_conv = dataclasses.replace(bundle, net=torch.nn.Linear(4, 1))
    with pytest.raises(InputError, match="no first-layer Conv1d"):
        prepare_layer(no_conv, 1)
    assert parse_node(bundle.net, "dense1:99").unit == 99
    assert parse_node(bundle.net, "output:0").kind == "output"
    for spec, msg in (
        ("dense1:100", "unit 100 out of range, dense1 has 100 units"),
        ("conv3:0", "layer 'conv3' does not exist"),
        ("conv2", "must look like LAYER:UNIT"),
        ("conv2:3", "unit 3 out of range"),
    ):
        with pytest.raises(InputError, match=msg):
            parse_node(bundle.net, spec)
