import numpy as np
import pandas as pd
import pytest
import torch

from components.common.errors import InputError
from components.seqmodels import first_layer_activations, load_bundle, predict, save_bundle
from components.seqmodels.bundle import encode
from components.seqmodels.data import load_data, split_data
from components.seqmodels.pipeline import evaluate, prepare_structures, train_model
from components.seqmodels.training import compute_metrics
from tests.seqmodels.toy import MOTIF, binary_fastas, random_seqs, write_fasta

FAST = {
    "max_epochs": 15,
    "patience": 5,
    "kernel_num": 16,
    "neuron_num": 16,
    "lr": 1e-2,
    "batch_size": 32,
    "dropout_dense": 0.1,
}


def _fit(data, alph, arch="cnn", **kw):
    tr, va, te = split_data(data, (0.7, 0.15), seed=0)
    params = {**FAST, **kw.pop("params", {})}
    bundle, res = train_model(tr, va, alph, arch=arch, params=params, length=40, seed=0, **kw)
    return bundle, res, te


def test_binary_cnn_learns_motif_and_bundle_roundtrip(tmp_path):
    data, alph = load_data(list(map(str, binary_fastas(tmp_path, n=150))))
    bundle, res, te = _fit(data, alph)
    metrics, pred = evaluate(bundle, te)
    assert metrics["roc_auc"] > 0.85, metrics
    assert set(metrics) == {"roc_auc", "pr_auc", "f1", "accuracy"} and res.history[0]["epoch"] == 0
    save_bundle(bundle, tmp_path / "b")
    again = load_bundle(tmp_path / "b")
    assert np.allclose(predict(again, te.sequences), pred, atol=1e-6)
    X = encode(again, te.sequences[:3])
    acts = first_layer_activations(again, X)
    assert acts.shape == (3, 16, 40 - again.net.first_conv.kernel_size[0] + 1) and (acts >= 0).all()
    with pytest.raises(InputError, match="longer than the model input"):
        predict(again, ["A" * 41])
    # a motif-bearing sequence scores higher than a scrambled one
    assert predict(again, [MOTIF * 5])[0, 0] > predict(again, ["GC" * 20])[0, 0]


@pytest.mark.parametrize("arch", ["cnn", "cnn_gru"])
def test_regression_table_both_archs(tmp_path, arch):
    seqs = random_seqs(150, 40, 3, letters="ACGT") + [s[:30] for s in random_seqs(30, 40, 4, letters="ACGT")]
    y = np.array([s.count("A") for s in seqs], float)
    pd.DataFrame({"sequence": seqs, "y": y, "y2": -y}).to_csv(tmp_path / "t.csv", index=False)
    data, alph = load_data([str(tmp_path / "t.csv")], targets=["y", "y2"])
    bundle, _, te = _fit(data, alph, arch, params={"conv_num": 2, "max_epochs": 8, "batch_size": 64})
    metrics, pred = evaluate(bundle, te)
    assert set(metrics) == {"pearson", "spearman", "r2", "mse"}
    assert metrics["pearson"] > 0.3, metrics
    assert pred.shape == (len(te), 2) and abs(pred[:, 0].mean() - te.y[:, 0].mean()) < 3  # de-standardised


def test_multiclass_and_multilabel(tmp_path):
    files = [
        write_fasta(tmp_path / f"c{i}.fa", random_seqs(60, 40, i, m))
        for i, m in enumerate(["UGUAAAUA", "CCCGGG", None])
    ]
    data, alph = load_data(list(map(str, files)))
    assert data.task == "multiclass"
    bundle, _, te = _fit(data, alph)
    metrics, pred = evaluate(bundle, te)
    assert np.allclose(pred.sum(1), 1, atol=1e-5) and metrics["roc_auc"] > 0.7
    ml = tmp_path / "ml.fa"
    rng = np.random.default_rng(0)
    recs = []
    for i in range(90):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        s = random_seqs(1, 40, 100 + i, ("UGUAAAUA" if a else None))[0]
        if b:
            s = s[:30] + "CCCGGGCC" + s[38:]
        labels = ",".join([x for x, f in (("A", a), ("B", b)) if f] or ["none"])
        recs.append(f">r{i} labels={labels}\n{s}\n")
    ml.write_text("".join(recs))
    data, alph = load_data([str(ml)])
    bundle, _, te = _fit(data, alph, params={"max_epochs": 3})
    metrics, pred = evaluate(bundle, te)
    assert data.task == "multilabel" and pred.shape[1] == 3 and 0 <= metrics["roc_auc"] <= 1


def test_structure_model_folds_itself(tmp_path):
    pos, neg = binary_fastas(tmp_path, n=60)
    data, alph = load_data([str(pos), str(neg)])
    tr, va, te = split_data(data, (0.7, 0.15), seed=0)
    tr, va, te = prepare_structures([tr, va, te], alph, cache_dir=tmp_path / "cache", processes=1)
    bundle, _ = train_model(tr, va, alph, params={**FAST, "max_epochs": 2}, length=40, uses_structure=True)
    assert bundle.alphabet.n_channels == 20
    metrics, pred = evaluate(bundle, te)
    assert np.allclose(predict(bundle, te.sequences, cache_dir=tmp_path / "cache"), pred, atol=1e-6)


def test_metrics_known_values():
    m = compute_metrics("binary", np.array([[0], [0], [1], [1]]), np.array([[0.1], [0.6], [0.4], [0.9]]))
    assert m["roc_auc"] == pytest.approx(0.75) and m["accuracy"] == pytest.approx(0.5)
    r = compute_metrics("regression", np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]]))
    assert r["pearson"] == pytest.approx(1.0) and r["r2"] == pytest.approx(1.0)
    assert torch.get_num_threads() >= 1
