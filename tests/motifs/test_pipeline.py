"""End to end on synthetic data: planted motifs recovered, synergy and additivity called, outputs written.

``y = A + B + 2AB + C``: a tiny seqmodels CNN is trained (seeded, a few seconds), then interpreted.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from components.common.errors import InputError
from components.motifs.meme import read_meme
from components.motifs.pipeline import interpret_model
from components.motifs.tomtom import ATTRACT_MEME
from tests.motifs.synthetic import make_data, planted_motifs, train_toy_bundle


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    seqs, y, _pres, _sites = make_data(n=2400, seed=0)
    bundle = train_toy_bundle(seqs, y, kernel_num=12, epochs=12, lr=5e-3, seed=0)
    out = tmp_path_factory.mktemp("motifs")
    db = planted_motifs() + read_meme(ATTRACT_MEME)  # planted PWMs among 1,194 real ones
    res = interpret_model(bundle, seqs, y, out, motif_db=db, attribution_sequences=200, importance="ablation")
    return SimpleNamespace(bundle=bundle, seqs=seqs, y=y, out=out, res=res)


def _best_kernel(tt, target):
    hits = tt[(tt["target"] == target) & tt["query"].str.startswith("kernel_")].sort_values("p_value")
    return hits.iloc[0] if len(hits) else None


def test_planted_motifs_recovered(toy):
    tt = toy.res["tomtom_table"]
    for name in ("motif_A", "motif_B"):
        best = _best_kernel(tt, name)
        assert best is not None, f"{name} matched by no kernel"
        assert best["q_value"] < 0.05, f"{name}: best q {best['q_value']:.3g}"


def _call(inter, ka, kb):
    row = inter[
        ((inter["motif_a"] == ka) & (inter["motif_b"] == kb))
        | ((inter["motif_a"] == kb) & (inter["motif_b"] == ka))
    ]
    assert len(row) == 1, f"pair {ka}/{kb} not tested"
    return row.iloc[0]


def test_synergy_and_additive_control(toy):
    tt = toy.res["tomtom_table"]
    inter = toy.res["interaction_table"]
    ka, kb, kc = (_best_kernel(tt, m)["query"] for m in ("motif_A", "motif_B", "motif_C"))
    ab = _call(inter, ka, kb)
    assert ab["call"] == "synergistic" and ab["q_value"] < 0.05
    ac = _call(inter, ka, kc)
    assert ac["call"] == "additive", ac.to_dict()


def test_contribution_signs(toy):
    tt = toy.res["tomtom_table"]
    contrib = toy.res["contribution_table"].set_index("neuron")
    for m in ("motif_A", "motif_B"):
        k = _best_kernel(tt, m)["query"]
        assert contrib.loc[k, "sign"] == "enhancing"


def test_output_files(toy):
    out = toy.out
    for name in (
        "motifs.meme",
        "tomtom.tsv",
        "report.html",
        "kernels.tsv",
        "contribution.tsv",
        "interactions.tsv",
        "cooccurrence.png",
        "params.json",
        "metrics.json",
        "attributions.npz",
    ):
        assert (out / name).stat().st_size > 0, name
    motifs = read_meme(out / "motifs.meme")
    assert len(motifs) == 12 and motifs[0].alphabet == "ACGU"
    html = (out / "report.html").read_text()
    imgs = re.findall(r'<img src="([^"]+)"', html)
    assert len(imgs) == 3 * 12 + 1 and all((out / i).exists() for i in imgs)
    header = (out / "tomtom.tsv").read_text().splitlines()[0].split("\t")
    assert header[:5] == ["query", "target", "target_name", "p_value", "q_value"]
    # kernels ranked in the report: those favouring the target (high tercile) first, each block by importance
    kt = toy.res["kernel_table"].sort_values("rank")
    pos = [html.index(f"kernels/motif_kernel_{i}.png") for i in kt["kernel"]]
    assert pos == sorted(pos) and toy.res["target_class"] == "high"
    for _, block in kt.groupby("favours_target"):
        assert block["importance"].is_monotonic_decreasing


def test_not_a_sequence_model(tmp_path):
    with pytest.raises(InputError, match="not a sequence model"):
        interpret_model(object(), ["ACGU"], None, tmp_path)


def test_alphabet_mismatch(toy, tmp_path):
    dna = [s.replace("U", "T") for s in toy.seqs[:20]]
    with pytest.raises(InputError, match="convert T to U"):
        interpret_model(toy.bundle, dna, None, tmp_path)


def test_unreadable_motif_db(toy, tmp_path):
    bad = tmp_path / "bad.meme"
    bad.write_text("MEME version 4\nMOTIF x\nletter-probability matrix: alength= 4 w= 2\n0.1 0.2\n")
    with pytest.raises(InputError, match="bad.meme"):
        interpret_model(toy.bundle, toy.seqs[:50], None, tmp_path / "o", motif_db=bad, attribution="none")


def test_deeplift_shap_recovers_planted_motifs(toy):
    """The default attribution (DeepLIFT-SHAP) puts the top-scoring window of a sequence on its motif.

    Sequences carrying exactly one planted motif: the 8-nt window with the largest summed
    contribution overlaps the planted site, and the letters of those windows give a PWM whose best
    Tomtom match (planted PWMs among ATtRACT) is the planted motif (q < 0.05 for A and B).
    """
    import numpy as np

    from components.motifs.meme import Motif
    from components.motifs.tomtom import run_tomtom
    from components.seqmodels.bundle import encode
    from tests.motifs.synthetic import PLANTED

    z = np.load(toy.out / "attributions.npz")
    idx, hyp = z["index"], z["hypothetical"].astype(np.float32)
    X = encode(toy.bundle, [toy.seqs[i] for i in idx]).numpy()
    contrib = (hyp * X).sum(axis=1)
    win = np.lib.stride_tricks.sliding_window_view(contrib, 8, axis=1).sum(axis=2)
    best = win.argmax(axis=1)
    _, _, pres, sites = make_data(n=2400, seed=0)
    db = planted_motifs() + read_meme(ATTRACT_MEME)
    queries = []
    for m, name in enumerate(PLANTED):
        rows = [j for j, i in enumerate(idx) if pres[i, m] and pres[i].sum() == 1]
        hit = [abs(best[j] - sites[name][idx[j]][0]) <= 2 for j in rows]
        assert len(rows) >= 15 and np.mean(hit) >= 0.8, (name, np.mean(hit))
        counts = sum(X[j, :, best[j] : best[j] + 8].T for j in rows) + 0.1
        queries.append(Motif(f"attr_{name}", counts / counts.sum(axis=1, keepdims=True), "ACGU"))
    tt = run_tomtom(queries, db, top_n=1)
    for name in PLANTED:  # all three are the best match; the synergistic pair A, B significantly
        row = tt[tt["query"] == f"attr_{name}"].iloc[0]
        assert row["target"] == name, row.to_dict()
        assert name == "motif_C" or row["q_value"] < 0.05, row.to_dict()
    assert any("deeplift_shap" in line for line in _notes(toy))


def _notes(toy):
    return (toy.out / "report.html").read_text().splitlines()


def test_ablation_importance_ranks_planted_motifs_first(toy):
    """The kernels whose loss increase on ablation is largest are the planted-motif detectors."""
    tt = toy.res["tomtom_table"]
    kt = toy.res["kernel_table"].sort_values("importance", ascending=False)
    best = tt[tt["rank"] == 1].set_index("query")["target"]
    top3 = [best.get(q) for q in kt["motif_id"].head(3)]
    assert set(top3) <= {"motif_A", "motif_B", "motif_C"}, top3
    assert kt["importance"].iloc[0] > 0


@pytest.mark.parametrize(
    "param, match",
    [({"attribution": "shap"}, "attribution must be one of"), ({"importance": "x"}, "importance must be")],
)
def test_bad_interpretation_options(toy, tmp_path, param, match):
    with pytest.raises(InputError, match=match):
        interpret_model(toy.bundle, toy.seqs[:20], None, tmp_path, **param)
