"""Seed ensembles: ``ensemble`` N > 1 as a network param (forward, training, bundle, CLIs, motifs)."""

import json

import mlflow
import numpy as np
import pandas as pd
import pytest
import torch

from components.seqmodels import load_bundle, predict, save_bundle
from components.seqmodels.__main__ import main as component_main
from components.seqmodels.data import load_data, split_data
from components.seqmodels.networks import Ensemble, build_network, ensemble_size
from components.seqmodels.pipeline import evaluate, train_model
from components.seqmodels.training import predict_outputs
from tests.seqmodels.test_training import LENGTH, TINY
from tests.seqmodels.toy import MOTIF, binary_fastas, random_seqs


def _batch(n: int = 6, channels: int = 4, length: int = LENGTH) -> torch.Tensor:
    idx = torch.randint(0, channels, (n, length), generator=torch.Generator().manual_seed(0))
    return torch.nn.functional.one_hot(idx, channels).transpose(1, 2).float()


def test_ensemble_forward_is_the_mean_of_its_members():
    torch.manual_seed(0)
    net = build_network("cnn", 4, LENGTH, 2, {**TINY, "ensemble": 3}).eval()
    assert isinstance(net, Ensemble) and len(net.members) == 3
    assert net.first_conv is net.members[0].first_conv
    assert not any(k.startswith("first_conv.") for k in net.state_dict())  # no duplicated weights
    x = _batch()
    outs = torch.stack([m(x) for m in net.members])
    assert not torch.allclose(outs[0], outs[1])  # members are initialised differently
    assert torch.allclose(net(x), outs.mean(0), atol=1e-6)
    # predictions average the members' probabilities, not their logits
    probs = predict_outputs(net, "multilabel", x)
    assert np.allclose(probs, torch.sigmoid(outs).mean(0).detach().numpy(), atol=1e-6)
    assert np.allclose(predict_outputs(net, "regression", x), outs.mean(0).detach().numpy(), atol=1e-6)
    soft = predict_outputs(net, "multiclass", x)
    assert np.allclose(soft, torch.softmax(outs, dim=2).mean(0).detach().numpy(), atol=1e-6)
    gru = build_network("cnn_gru", 4, LENGTH, 1, {"kernel_num": 8, "gru_units": 8, "ensemble": 2})
    assert isinstance(gru, Ensemble) and gru(x).shape == (6, 1)
    assert ensemble_size({}) == 1
    for bad in (0, 1.5, True, "3"):
        with pytest.raises(ValueError, match="ensemble must be an integer"):
            ensemble_size({"ensemble": bad})


@pytest.fixture(scope="module")
def ensemble_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ensemble")
    data, alph = load_data(list(map(str, binary_fastas(tmp, n=80, length=LENGTH))))
    tr, va, te = split_data(data, (0.7, 0.15), seed=0)
    params = {**TINY, "max_epochs": 4, "patience": 4}
    bundle, res = train_model(tr, va, alph, params={**params, "ensemble": 2}, length=LENGTH, seed=5)
    single, _ = train_model(tr, va, alph, params=params, length=LENGTH, seed=6)
    return bundle, res, single, te, tmp


def test_train_model_trains_each_member_with_its_own_seed(ensemble_model):
    bundle, res, single, te, _ = ensemble_model
    assert isinstance(bundle.net, Ensemble) and bundle.params["ensemble"] == 2
    # member k is exactly the single model of seed + k
    for key, value in single.net.state_dict().items():
        assert torch.equal(bundle.net.members[1].state_dict()[key], value), key
    assert len(res.members) == 2 and res.seconds == pytest.approx(sum(f.seconds for f in res.members))
    assert {r["member"] for r in res.history} == {0, 1}
    assert res.epochs_run == sum(f.epochs_run for f in res.members)
    ex = bundle.extra
    assert ex["ensemble"] == 2 and ex["member_seeds"] == [5, 6]
    assert ex["best_epoch"] == [f.best_epoch for f in res.members]
    assert len(ex["member_val_roc_auc"]) == 2 and 0 <= ex["val_roc_auc"] <= 1
    metrics, pred = evaluate(bundle, te)
    assert metrics["roc_auc"] > 0.85, metrics
    members = [predict_outputs(m, "binary", *_enc(bundle, te)) for m in bundle.net.members]
    assert np.allclose(pred, np.mean(members, axis=0), atol=1e-6)


def _enc(bundle, data):
    from components.seqmodels.bundle import encode_data

    enc = encode_data(bundle, data, None)
    return enc.X, enc.mask


def test_ensemble_bundle_round_trip_gives_identical_predictions(ensemble_model):
    bundle, _, _, te, tmp = ensemble_model
    save_bundle(bundle, tmp / "b")
    again = load_bundle(tmp / "b")
    assert isinstance(again.net, Ensemble) and len(again.net.members) == 2
    assert again.extra["member_seeds"] == [5, 6]
    assert np.array_equal(predict(again, te.sequences), predict(bundle, te.sequences))


def test_motifs_interpret_the_first_member(ensemble_model, caplog):
    from components.motifs.pipeline import interpret_model
    from tests.motifs.synthetic import planted_motifs

    bundle, _, _, te, tmp = ensemble_model
    caplog.set_level("INFO", logger="components.motifs.pipeline")
    res = interpret_model(
        bundle,
        te.sequences,
        te.y,
        tmp / "motifs",
        motif_db=planted_motifs(),
        attribution="none",
        pair_kernels=2,
    )
    assert len(res["kernel_table"]) == bundle.net.members[0].first_conv.out_channels
    assert "the first member (seed 5) is interpreted" in caplog.text
    assert "first member (seed 5)" in (tmp / "motifs" / "report.html").read_text()
    assert isinstance(bundle.net, Ensemble)  # the caller's bundle is left as it was


def test_component_cli_trains_an_ensemble(tmp_path, capsys):
    pos, neg = binary_fastas(tmp_path, n=60, length=LENGTH)
    out = tmp_path / "out"
    rc = component_main(
        ["--data", str(pos), str(neg), "--ensemble", "2", "--epochs", "2"]
        + ["--params", json.dumps(TINY), "--out-dir", str(out)]
    )
    assert rc == 0 and "test_roc_auc" in capsys.readouterr().out
    again = load_bundle(out / "bundle")
    assert (
        isinstance(again.net, Ensemble) and again.extra["best_epoch"] and len(again.extra["epochs_run"]) == 2
    )
    assert component_main(["--data", str(pos), str(neg), "--ensemble", "0", "--out-dir", str(out)]) == 2
    assert "option 'ensemble' must be >= 1" in capsys.readouterr().err


@pytest.mark.integration
def test_flow_ensemble_with_masked_targets_logs_a_servable_pyfunc(
    prefect_harness, mlflow_env, tmp_path, capsys
):
    from flows.cli import main

    seqs = random_seqs(90, LENGTH, 7, letters="ACGU")
    seqs = [s[:6] + MOTIF + s[14:] if i % 2 else s for i, s in enumerate(seqs)]
    y = np.array([float(MOTIF in s) + 0.1 * s.count("A") for s in seqs])
    aux = np.where(np.arange(90) % 3 == 0, -y, np.nan)
    pd.DataFrame({"sequence": seqs, "y": y, "aux": aux}).to_csv(tmp_path / "t.csv", index=False)
    args = ["sequence", "--data", str(tmp_path / "t.csv"), "--target", "y", "aux", "--no-motifs"]
    args += ["--epochs", "2", "--params", json.dumps(TINY), "--experiment", "seq-ensemble"]
    assert main(args) == 2 and "target 'aux' is NaN" in capsys.readouterr().err
    rc = main([*args, "--ensemble", "2", "--missing-targets", "mask", "--out-dir", str(tmp_path / "o")])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0, summary
    run = mlflow.get_run(summary["run_id"])
    assert run.data.params["ensemble"] == "2" and run.data.params["missing_targets"] == "mask"
    assert {"member_val_pearson_m0", "member_val_pearson_m1", "val_loss_m1"} <= set(run.data.metrics)
    bundle = load_bundle(tmp_path / "o" / "bundle")
    assert isinstance(bundle.net, Ensemble)
    model = mlflow.pyfunc.load_model(summary["model_uri"])
    out = model.predict(pd.DataFrame({"sequence": seqs[:5]}))
    assert list(out.columns) == ["pred_y", "pred_aux"]
    assert np.allclose(out.to_numpy(), predict(bundle, seqs[:5]), atol=1e-6)
