"""Planted grammar: a 3-conv-layer CNN whose label needs motif A followed by motif B at a fixed gap."""

from __future__ import annotations

import re

import numpy as np
import pytest

from components.motifs.deep import interpret_layer
from components.motifs.tomtom import load_motif_db
from tests.motifs.grammar import GAP, MOTIF_A, MOTIF_B, make_grammar_data, planted_motifs, train_grammar_cnn


@pytest.fixture(scope="module")
def grammar_model():
    import torch

    torch.set_num_threads(1)
    seqs, y, kinds = make_grammar_data(3000, seed=0)
    bundle = train_grammar_cnn(seqs, y)
    test_seqs, test_y, test_kinds = make_grammar_data(1000, seed=1)
    return bundle, test_seqs, test_y, test_kinds


@pytest.fixture(scope="module")
def layer3(grammar_model, tmp_path_factory):
    bundle, seqs, y, _ = grammar_model
    out = tmp_path_factory.mktemp("deep") / "conv3"
    db = planted_motifs() + load_motif_db("attract")  # the planted PWMs among 1,194 real motifs
    res = interpret_layer(
        bundle,
        seqs,
        y,
        out,
        layer=3,
        motif_db=db,
        progress=False,
        n_windows=300,
        ga_seconds=2.0,
        max_leaf_logos=1,
        optimize_steps=150,
        optimize_restarts=2,
    )
    return res, out


def test_model_learned_the_grammar(grammar_model):
    from components.seqmodels.bundle import predict

    bundle, seqs, _, kinds = grammar_model
    p = predict(bundle, seqs)[:, 0]
    assert p[kinds == "AB"].mean() > 0.9
    for kind in ("A", "B", "BA", "A_far_B", "none"):
        assert p[kinds == kind].mean() < 0.1, kind


def test_demixing_finds_a_then_b_at_the_planted_gap(layer3):
    res, _ = layer3
    g = res["grammar_table"]
    hits = g[(g["name_a"] == "motif_A") & (g["name_b"] == "motif_B") & ((g["distance"] - GAP).abs() <= 2)]
    assert len(hits), g.to_string()
    seg = res["segment_table"]
    row = seg[seg["segment"] == hits.iloc[0]["motif_a"]].iloc[0]
    assert row["best_q"] < 0.05 and row["best_match"] == "motif_A"
    # no neuron pairs the motifs the other way round
    assert not len(g[(g["name_a"] == "motif_B") & (g["name_b"] == "motif_A")])


def test_pair_test_calls_a_b_synergistic(layer3):
    res, _ = layer3
    it = res["interaction_table"]
    ab = it[(it["name_a"] == "motif_A") & (it["name_b"] == "motif_B")]
    assert len(ab), it.to_string()
    assert (ab["call"] == "synergistic").any(), ab.to_string()
    assert (ab[ab["call"] == "synergistic"]["q_value"] < 0.05).all()


def test_optimized_output_contains_a_then_b(layer3):
    res, _ = layer3
    cons = res["optimized"]["output:0"]["motif"].consensus()
    assert re.search(f"{MOTIF_A}.{{{GAP - 1},{GAP + 1}}}{MOTIF_B}", cons), cons


def test_outputs_written(layer3):
    res, out = layer3
    for name in (
        "conv3.html",
        "neurons.tsv",
        "segments.tsv",
        "grammar.tsv",
        "grammar_summary.tsv",
        "tomtom.tsv",
        "contribution.tsv",
        "interactions.tsv",
        "segments.meme",
        "params.json",
        "metrics.json",
    ):
        assert (out / name).is_file(), name
    page = (out / "conv3.html").read_text()
    assert "motif_A" in page and "leaf_" in page and "optimized/output_0.png" in page
    nt = res["neuron_table"]
    assert len(nt) == 8 and res["metrics"]["n_neurons_with_match"] >= 1
    assert any((out / "neurons").glob("conv3_n*/leaf_*.png"))
    m = res["metrics"]
    assert m["n_synergistic"] >= 1 and np.isfinite(m["total_s"])
