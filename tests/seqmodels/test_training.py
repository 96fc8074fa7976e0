"""Training on tiny synthetic data: one model per task type, shared across tests (module fixtures)."""

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

LENGTH = 20
#: one conv layer of 8 kernels of the motif's width, global max pooling (the motif sits
#: anywhere): learns the planted motif in a few epochs
TINY = {
    "global_pool": "max",
    "dropout_input": 0.0,
    "conv_num": 1,
    "kernel_num": 8,
    "kernel_len": 8,
    "pool_size": 2,
    "neuron_num": 16,
    "dropout_conv": 0.0,
    "dropout_dense": 0.0,
    "lr": 2e-2,
    "batch_size": 32,
    "max_epochs": 3,
    "patience": 3,
}

#: a small CNN+GRU for the regression tests
TINY_GRU = {"kernel_num": 16, "kernel_len": 5, "conv_num": 2, "gru_units": 16, "max_epochs": 2}


def _fit(data, alph, arch="cnn", **params):
    tr, va, te = split_data(data, (0.7, 0.15), seed=0)
    bundle, res = train_model(tr, va, alph, arch=arch, params={**TINY, **params}, length=LENGTH, seed=0)
    return bundle, res, te


@pytest.fixture(scope="module")
def binary_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("binary")
    data, alph = load_data(list(map(str, binary_fastas(tmp, n=80, length=LENGTH))))
    bundle, res, te = _fit(data, alph, max_epochs=6)
    return bundle, res, te, tmp


def test_binary_cnn_learns_planted_motif(binary_model):
    bundle, res, te, _ = binary_model
    metrics, _ = evaluate(bundle, te)
    assert set(metrics) == {"roc_auc", "pr_auc", "f1", "accuracy"}
    assert metrics["roc_auc"] > 0.85, metrics
    assert res.history[0]["epoch"] == 0 and 1 <= res.epochs_run <= 6
    assert {"val_loss", "val_score", "train_loss"} <= set(res.history[0])
    # a motif-bearing sequence scores higher than one without it
    motif_seq, plain = "AC" * 6 + MOTIF, "GC" * (LENGTH // 2)
    assert predict(bundle, [motif_seq])[0, 0] > predict(bundle, [plain])[0, 0]


def test_bundle_roundtrip_activations_and_too_long(binary_model):
    bundle, _, te, tmp = binary_model
    _, pred = evaluate(bundle, te)
    save_bundle(bundle, tmp / "b")
    again = load_bundle(tmp / "b")
    assert np.allclose(predict(again, te.sequences), pred, atol=1e-6)
    acts = first_layer_activations(again, encode(again, te.sequences[:3]))
    assert acts.shape == (3, 8, LENGTH - 8 + 1) and (acts >= 0).all()
    with pytest.raises(InputError, match="longer than the model input"):
        predict(again, ["A" * (LENGTH + 1)])


def test_multitarget_regression_cnn_gru_with_padding(tmp_path):
    seqs = random_seqs(64, LENGTH, 3, letters="ACGT") + [
        s[:15] for s in random_seqs(16, LENGTH, 4, letters="ACGT")
    ]
    y = np.array([s.count("A") for s in seqs], float)
    pd.DataFrame({"sequence": seqs, "y": y, "y2": -y}).to_csv(tmp_path / "t.csv", index=False)
    data, alph = load_data([str(tmp_path / "t.csv")], targets=["y", "y2"])
    bundle, _, te = _fit(data, alph, "cnn_gru", **TINY_GRU)
    metrics, pred = evaluate(bundle, te)
    assert set(metrics) == {"pearson", "spearman", "r2", "mse"} and data.task == "regression"
    assert pred.shape == (len(te), 2) and np.isfinite(pred).all()
    # outputs are in target units (de-standardised), not z-scores
    assert abs(pred[:, 0].mean() - te.y[:, 0].mean()) < 3 and pred[:, 1].mean() < 0


def test_multiclass_and_multilabel(tmp_path):
    files = [
        write_fasta(tmp_path / f"c{i}.fa", random_seqs(40, LENGTH, i, m))
        for i, m in enumerate(["UGUAAAUA", "CCCGGGAA", None])
    ]
    data, alph = load_data(list(map(str, files)))
    assert data.task == "multiclass"
    bundle, _, te = _fit(data, alph)
    metrics, pred = evaluate(bundle, te)
    assert np.allclose(pred.sum(1), 1, atol=1e-5) and metrics["roc_auc"] > 0.7, metrics
    rng = np.random.default_rng(0)
    recs = []
    for i in range(64):
        a, b = rng.random() < 0.5, rng.random() < 0.5
        s = random_seqs(1, LENGTH, 100 + i, ("UGUAAAUA" if a else None))[0]
        labels = ",".join([x for x, f in (("A", a), ("B", b)) if f] or ["none"])
        recs.append(f">r{i} labels={labels}\n{s}\n")
    (tmp_path / "ml.fa").write_text("".join(recs))
    data, alph = load_data([str(tmp_path / "ml.fa")])
    bundle, _, te = _fit(data, alph, max_epochs=2)
    metrics, pred = evaluate(bundle, te)
    assert data.task == "multilabel" and pred.shape == (len(te), 3) and 0 <= metrics["roc_auc"] <= 1
    assert ((pred >= 0) & (pred <= 1)).all() and not np.allclose(pred.sum(1), 1)


def test_structure_model_folds_itself(tmp_path):
    pos, neg = binary_fastas(tmp_path, n=32, length=LENGTH)
    data, alph = load_data([str(pos), str(neg)])
    tr, va, te = split_data(data, (0.7, 0.15), seed=0)
    tr, va, te = prepare_structures([tr, va, te], alph, cache_dir=tmp_path / "cache", processes=1)
    bundle, _ = train_model(
        tr, va, alph, params={**TINY, "max_epochs": 1}, length=LENGTH, uses_structure=True
    )
    assert bundle.alphabet.n_channels == 20
    _, pred = evaluate(bundle, te)
    assert np.allclose(predict(bundle, te.sequences, cache_dir=tmp_path / "cache"), pred, atol=1e-6)


def test_metrics_known_values():
    m = compute_metrics("binary", np.array([[0], [0], [1], [1]]), np.array([[0.1], [0.6], [0.4], [0.9]]))
    assert m["roc_auc"] == pytest.approx(0.75) and m["accuracy"] == pytest.approx(0.5)
    r = compute_metrics("regression", np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [3.0]]))
    assert r["pearson"] == pytest.approx(1.0) and r["r2"] == pytest.approx(1.0)
    assert torch.get_num_threads() >= 1


def test_regression_loss_and_metrics_ignore_unmeasured_targets():
    from components.seqmodels.training import loss_fn

    y = torch.tensor([[1.0, float("nan")], [2.0, 4.0], [3.0, float("nan")]])
    out = torch.tensor([[1.5, 9.0], [2.0, 3.0], [2.0, -7.0]], requires_grad=True)
    loss = loss_fn("regression", out, y)
    # 4 measured entries: (0.5^2 + 0 + 1^2 + 1^2) / 4; the NaN entries count nowhere
    assert loss.item() == pytest.approx((0.25 + 0 + 1 + 1) / 4)
    loss.backward()
    assert out.grad is not None and torch.isfinite(out.grad).all()
    assert out.grad[0, 1] == 0 and out.grad[2, 1] == 0 and out.grad[1, 1] != 0
    full = torch.tensor([[1.0, 0.0], [2.0, 4.0]])
    pred = torch.tensor([[0.0, 1.0], [2.0, 2.0]])
    assert loss_fn("regression", pred, full).item() == pytest.approx(torch.mean((pred - full) ** 2).item())

    t = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, 2.0], [4.0, np.nan], [5.0, 3.0]])
    p = np.array([[1.1, 50.0], [1.9, 1.0], [3.2, 2.0], [4.0, -50.0], [5.0, 3.0]])
    m = compute_metrics("regression", t, p)
    first = compute_metrics("regression", t[:, :1], p[:, :1])
    # second target: perfect on its 3 measured rows, whatever is predicted on the others
    assert m["pearson"] == pytest.approx((first["pearson"] + 1.0) / 2)
    assert m["r2"] == pytest.approx((first["r2"] + 1.0) / 2)
    none = compute_metrics("regression", np.array([[np.nan], [np.nan]]), np.array([[1.0], [2.0]]))
    assert np.isnan(none["pearson"])


def test_masked_targets_load_and_train(tmp_path):
    seqs = random_seqs(80, LENGTH, 5, letters="ACGT")
    y = np.array([s.count("A") for s in seqs], float)
    aux = np.where(np.arange(80) % 3 == 0, y * 2.0, np.nan)  # measured on a third of the rows
    pd.DataFrame({"sequence": seqs, "y": y, "aux": aux}).to_csv(tmp_path / "t.csv", index=False)
    with pytest.raises(InputError, match="target 'aux' is NaN"):
        load_data([str(tmp_path / "t.csv")], targets=["y", "aux"])
    data, alph = load_data([str(tmp_path / "t.csv")], targets=["y", "aux"], missing_targets="mask")
    assert data.task == "regression" and np.isnan(data.y[:, 1]).sum() == int(np.isnan(aux).sum())
    # (with per-sequence shift augmentation: that path runs too)
    bundle, res, te = _fit(data, alph, "cnn_gru", **TINY_GRU, shift=2, shift_mode="sample")
    assert bundle.params["shift_mode"] == "sample"
    assert bundle.target_mean is not None and np.isfinite(bundle.target_mean).all()
    assert bundle.target_std is not None and np.isfinite(bundle.target_std).all()
    assert all(np.isfinite(r["val_loss"]) for r in res.history)
    metrics, pred = evaluate(bundle, te)
    assert np.isfinite(pred).all() and np.isfinite(metrics["pearson"])

    # a row with no measured target, and NaN in classification labels, stay input errors
    pd.DataFrame({"sequence": seqs[:3], "y": [1.0, np.nan, 2.0], "aux": [np.nan, np.nan, 1.0]}).to_csv(
        tmp_path / "none.csv", index=False
    )
    with pytest.raises(InputError, match=r"row 2: no target measured"):
        load_data([str(tmp_path / "none.csv")], targets=["y", "aux"], missing_targets="mask")
    pd.DataFrame({"sequence": seqs[:4], "a": [0, 1, np.nan, 1], "b": [1, 0, 1, 1]}).to_csv(
        tmp_path / "cls.csv", index=False
    )
    with pytest.raises(InputError, match="regression only, not multilabel"):
        load_data([str(tmp_path / "cls.csv")], targets=["a", "b"], task="multilabel", missing_targets="mask")
