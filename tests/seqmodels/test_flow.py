"""Integration: the sequence flow against a real MLflow server; CLI error paths; serving."""

import mlflow
import pandas as pd
import pytest

from flows.cli import main
from tests.conftest import post_json
from tests.seqmodels.toy import binary_fastas

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


def test_invalid_input_one_line_exit_2_and_run_failed(prefect_harness, mlflow_env, tmp_path, capsys):
    pos, _ = binary_fastas(tmp_path, n=10)
    bad = tmp_path / "bad.fa"
    bad.write_text(">ok\nACGUACGU\n>broken\nACGUJCGU\n")
    rc = main(["sequence", "--data", str(pos), str(bad), "--experiment", "seq-errors"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.splitlines() == [err.splitlines()[-1]] and "invalid character 'J' at position 5" in err
    assert "bad.fa" in err and "broken" in err
    runs = _runs("seq-errors")
    assert runs and all(r.info.status == "FAILED" for r in runs)


def test_two_trial_study_nested_runs_pruned_registered_and_served(mlflow_env, tmp_path, serve_model):
    from flows.sequence import run_sequence

    pos, neg = binary_fastas(tmp_path, n=100)
    (tmp_path / "space.yaml").write_text(SPACE)
    summary = run_sequence(
        [f"bound={pos}", str(neg)],
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
    assert list(out.columns) == ["prediction"] and out["prediction"][0] > out["prediction"][1]
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
    assert preds["prediction"].tolist() == pytest.approx(out["prediction"].tolist(), abs=1e-5)
    url = serve_model("models:/seq-test@champion", env={"MLFLOW_TRACKING_URI": mlflow_env})
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"sequence": "UGUAAAUA" * 5}]})
    assert status == 200 and 0 <= body["predictions"][0]["prediction"] <= 1
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"sequence": "UGUAAAUA" * 6}]})
    assert status == 400 and "longer than the model input" in str(body)


def test_test_sequences_seen_in_training_are_counted_and_logged(tmp_path):
    import logging

    from flows.sequence import load_step
    from tests.seqmodels.toy import random_seqs, write_fasta

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__(logging.WARNING)
            self.lines: list[str] = []

        def emit(self, record):
            self.lines.append(record.getMessage())

    pos, neg = binary_fastas(tmp_path, n=30)
    test_pos = write_fasta(tmp_path / "tpos.fa", random_seqs(30, 40, 0, "UGUAAAUA")[:4] + ["ACGU" * 10])
    test_neg = write_fasta(tmp_path / "tneg.fa", random_seqs(5, 40, 9))
    keep, logger = Keep(), logging.getLogger("flows.sequence")
    logger.addHandler(keep)
    try:
        out = load_step([f"p={pos}", f"n={neg}"], [f"p={test_pos}", f"n={test_neg}"], [], "auto", "auto", 0)
    finally:
        logger.removeHandler(keep)
    assert out["n_test_in_train"] == 4
    assert any("4 of 10 test sequences" in line and "tpos.fa" in line for line in keep.lines)
