"""The sequence flow and ``dynamotif sequence`` / ``predict`` against a real MLflow server."""

import json
import subprocess
import sys

import mlflow
import pandas as pd
import pytest

from flows.cli import main
from tests.conftest import REPO, post_json
from tests.seqmodels.test_training import TINY
from tests.seqmodels.toy import MOTIF, binary_fastas, write_fasta

pytestmark = pytest.mark.integration

GOOD = {
    "global_pool": "max",
    "dropout_input": 0.0,
    "lr": 1e-2,
    "kernel_num": 16,
    "kernel_len": 7,
    "conv_num": 1,
    "pool_size": 2,
    "neuron_num": 16,
    "dropout_conv": 0.0,
    "dropout_dense": 0.1,
    "batch_size": 32,
    "weight_decay": 1e-3,
}
BAD = {**GOOD, "lr": 1e-7}
#: the enqueued trials must lie inside the search space: only lr/weight_decay are searched
SPACE = """
fixed: {global_pool: max, dropout_input: 0.0, kernel_num: 16, kernel_len: 7, conv_num: 1,
        pool_size: 2, neuron_num: 16, dropout_conv: 0.0, dropout_dense: 0.1, batch_size: 32,
        patience: 4}
common:
  lr: {type: float, low: 1.0e-8, high: 1.0e-1, log: true}
  weight_decay: {type: float, low: 1.0e-5, high: 1.0e-1, log: true}
"""


def _runs(experiment: str):
    return mlflow.search_runs(experiment_names=[experiment], output_format="list")


def _no_runs(experiment: str) -> bool:
    exp = mlflow.get_experiment_by_name(experiment)
    return exp is None or not mlflow.search_runs(experiment_ids=[exp.experiment_id], output_format="list")


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    return err


def test_invalid_fasta_character_is_found_before_any_run(mlflow_env, tmp_path, capsys):
    pos, _ = binary_fastas(tmp_path, n=10)
    bad = tmp_path / "bad.fa"
    bad.write_text(">ok\nACGUACGU\n>broken\nACGUJCGU\n")
    rc = main(["sequence", "--data", str(pos), str(bad), "--experiment", "seq-errors"])
    err = _one_line_error(capsys)
    assert rc == 2 and "invalid character 'J' at position 5" in err
    assert "bad.fa" in err and "broken" in err
    assert _no_runs("seq-errors")  # preflight: no FAILED run left behind


def test_flow_called_directly_checks_inputs_before_any_run(mlflow_env, tmp_path):
    """A deployment calls ``sequence_flow`` itself (no CLI preflight): bad input still leaves no run."""
    from components.common.errors import InputError
    from flows.sequence import sequence_flow

    pos, _ = binary_fastas(tmp_path, n=10)
    bad = tmp_path / "bad.fa"
    bad.write_text(">ok\nACGUACGU\n>broken\nACGUJCGU\n")
    with pytest.raises(InputError, match="invalid character 'J'"):
        sequence_flow({"data": [str(pos), str(bad)], "experiment": "seq-direct"})
    assert _no_runs("seq-direct")


def test_one_fasta_without_labels_is_an_error_not_a_multilabel_model(mlflow_env, tmp_path, capsys):
    pos, _ = binary_fastas(tmp_path, n=10)
    rc = main(["sequence", "--data", str(pos), "--experiment", "seq-one-file"])
    err = _one_line_error(capsys)
    assert rc == 2 and "bound.fa.gz" in err and "record 'seq0'" in err and "has no labels" in err
    assert "one FASTA per class" in err and _no_runs("seq-one-file")


@pytest.mark.parametrize(
    "extra, key",
    [
        (["--params", '{"droput_conv": 0.5}'], "'droput_conv'"),
        (["--arch", "cnn_gru", "--params", '{"kernel_num": 8, "dense_num": 2}'], "'dense_num'"),
        (["--ensemble", "0"], "'ensemble' must be >= 1"),
    ],
)
def test_bad_options_are_one_line_errors_naming_the_key(mlflow_env, tmp_path, capsys, extra, key):
    pos, neg = binary_fastas(tmp_path, n=10)
    rc = main(["sequence", "--data", str(pos), str(neg), "--experiment", "seq-bad-options", *extra])
    err = _one_line_error(capsys)
    assert rc == 2 and key in err and _no_runs("seq-bad-options")


def test_repeated_data_flags_keep_both_classes_run_named_and_bundle_predicts_fasta(
    prefect_harness, mlflow_env, tmp_path, capsys
):
    pos, neg = binary_fastas(tmp_path, n=60, length=20)
    out = tmp_path / "out"
    args = ["sequence", "--data", f"bound={pos}", "--data", f"unbound={neg}", "--name", "seq-cli"]
    args += ["--out-dir", str(out), "--no-motifs", "--epochs", "3", "--params", json.dumps(TINY)]
    rc = main([*args, "--experiment", "seq-cli"])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0, summary
    run = mlflow.get_run(summary["run_id"])
    assert run.info.run_name == "seq-cli"
    assert run.data.params["n_train"] == "96" and run.data.params["outputs"] == '["bound"]'
    assert summary["registered"]["metric"] == "val_roc_auc" and summary["registered"]["promoted"]
    # predict: FASTA in, from the local bundle and from the registry alike; columns name the class
    fasta = write_fasta(tmp_path / "new.fa", ["ACGU" * 3 + MOTIF, "GC" * 10])
    for model in (str(out), str(out / "bundle"), "models:/seq-cli@champion"):
        assert (
            main(["predict", "--model", model, "--input", str(fasta), "--out", str(tmp_path / "p.csv")]) == 0
        )
        preds = pd.read_csv(tmp_path / "p.csv")
        assert list(preds.columns) == ["id", "sequence", "p_bound"], preds
        assert list(preds["id"]) == ["seq0", "seq1"] and preds["p_bound"][0] > preds["p_bound"][1]
    # the registered model loads without unpickling anything, and serving never imports Prefect
    code = f"""
import pickle, sys
import cloudpickle
def refuse(*a, **k):
    raise AssertionError("pickle loading attempted")
pickle.load = pickle.loads = cloudpickle.load = cloudpickle.loads = refuse
import mlflow, pandas as pd
mlflow.set_tracking_uri({mlflow_env!r})
m = mlflow.pyfunc.load_model("models:/seq-cli@champion")
out = m.predict(pd.DataFrame({{"sequence": ["{MOTIF}" + "ACGU" * 3]}}))
assert list(out.columns) == ["p_bound"], out
bad = sorted(k for k in sys.modules if k.split(".")[0] in ("prefect", "flows"))
assert not bad, bad
print("ok")
"""
    res = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-2000:]


def test_champion_moves_on_the_validation_metric_not_the_test_metric(mlflow_env, tmp_path):
    from components.seqmodels import run
    from components.seqmodels.config import SequenceConfig
    from flows import tracking
    from flows.sequence import _log_model, _register

    pos, neg = binary_fastas(tmp_path, n=40, length=20)
    cfg = SequenceConfig(data=(f"bound={pos}", str(neg)), epochs=1, params=TINY, name="seq-val", motifs=False)
    bundle = run.run(cfg)["bundle"]
    promoted = []
    # the second model has the better test score but the worse validation score
    for val, test in ((0.80, 0.70), (0.75, 0.95), (0.85, 0.60)):
        with tracking.parent_run("sequence", experiment="seq-champion"):
            info = _log_model(bundle, ["ACGU" * 5], tmp_path / f"m{val}")
            reg = _register(info.model_uri, cfg, bundle, {"val_roc_auc": val, "test_roc_auc": test})
            promoted.append(reg["promoted"])
    assert promoted == [True, False, True]
    champion = mlflow.MlflowClient().get_model_version_by_alias("seq-val", "champion")
    assert champion.version == "3" and champion.tags["selection_metric"] == "val_roc_auc"


def test_two_trial_study_nested_runs_pruned_registered_and_served(mlflow_env, tmp_path, serve_model):
    from flows.sequence import run_sequence

    pos, neg = binary_fastas(tmp_path, n=100)
    (tmp_path / "space.yaml").write_text(SPACE)
    summary = run_sequence(
        data=[f"bound={pos}", str(neg)],
        trials=2,
        epochs=6,
        name="seq-test",
        experiment="seq-study",
        initial_configs=[GOOD, BAD],
        search_space=tmp_path / "space.yaml",
        motifs=True,
        motif_sequences=40,
        motif_params={"attribution": "none"},
        out_dir=tmp_path / "out",
    )
    assert [t["state"] for t in summary["trials"]] == ["COMPLETE", "PRUNED"]
    parent = mlflow.get_run(summary["run_id"])
    assert parent.info.status == "FINISHED" and parent.data.metrics["test_roc_auc"] > 0.8
    children = mlflow.search_runs(
        experiment_names=["seq-study"],
        output_format="list",
        filter_string=f"tags.mlflow.parentRunId = '{summary['run_id']}'",
    )
    states = sorted((c.info.run_name, c.info.status) for c in children)
    assert states == [("trial-0", "FINISHED"), ("trial-1", "KILLED")]
    client = mlflow.MlflowClient()
    mv = client.get_model_version_by_alias("seq-test", "champion")
    assert mv.version == summary["registered"]["version"] and summary["registered"]["promoted"]
    # the motif stage logged its report to the model's run
    assert "error" not in summary["motifs"], summary["motifs"]
    logged = {a.path for a in client.list_artifacts(summary["run_id"], "motifs")}
    assert {"motifs/report.html", "motifs/motifs.meme"} <= logged, logged
    assert parent.data.metrics["motifs_sequences"] == min(40, int(parent.data.params["n_test"]))
    # pyfunc on raw sequences, `dynamotif predict` on a table, then a real served request
    model = mlflow.pyfunc.load_model("models:/seq-test@champion")
    out = model.predict(pd.DataFrame({"sequence": ["UGUAAAUA" * 5, "GC" * 20]}))
    assert list(out.columns) == ["p_bound"] and out["p_bound"][0] > out["p_bound"][1]
    pd.DataFrame({"id": ["m", "p"], "sequence": ["UGUAAAUA" * 5, "GC" * 20]}).to_csv(tmp_path / "in.csv")
    rc = main(
        [
            "predict",
            "--model",
            "models:/seq-test@champion",
            "--input",
            str(tmp_path / "in.csv"),
            "--out",
            str(tmp_path / "p.csv"),
        ]
    )
    preds = pd.read_csv(tmp_path / "p.csv")
    assert rc == 0 and list(preds["id"]) == ["m", "p"], preds
    assert preds["p_bound"].tolist() == pytest.approx(out["p_bound"].tolist(), abs=1e-5)
    url = serve_model("models:/seq-test@champion", env={"MLFLOW_TRACKING_URI": mlflow_env})
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"sequence": "UGUAAAUA" * 5}]})
    assert status == 200 and 0 <= body["predictions"][0]["p_bound"] <= 1
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"sequence": "UGUAAAUA" * 6}]})
    assert status == 400 and "longer than the model input" in str(body)
