"""Integration: the DynaSig flow against a real MLflow server, serving, and bad-input paths.

The slice is 40 variants of ``examples/mir125a`` (16 triple mutants for training, 24 with 4-6
mutations for testing) so that mutation + ENCoM signatures stay within the test budget.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import EXAMPLES, shared

pytestmark = pytest.mark.integration

# the flow runs of this module (40 variants: mutation + ENCoM + 8 fits + 2 registered models) and the
# model server take ~1 min on a quiet 2-core machine
slow = pytest.mark.slow

BETAS = [math.e**-1, 1.0, math.e]
WT = EXAMPLES / "mir125a" / "mir125a_WT.pdb"


@pytest.fixture(scope="module")
def slice_table(tmp_path_factory) -> Path:
    df = pd.read_csv(EXAMPLES / "mir125a" / "variants.csv")
    sub = pd.concat([df[df.n_mut == 3].head(16), df[df.n_mut > 3].head(24)])
    path = tmp_path_factory.mktemp("slice") / "variants.csv"
    sub.to_csv(path, index=False)
    return path


def _small_config(small_inputs, name: str, table: str = "ok.csv", **changes):
    from components.dynasig_ml.config import DynasigConfig

    d = small_inputs["dir"]
    options = {
        "structure": WT,
        "variants": d / table,
        "target": "eff",
        "features": ("mcfold_energy",),
        "split": "random:0.3",
        "signatures": small_inputs["sigs"],
        "betas": tuple(BETAS),
        "name": name,
        "experiment": name,
        "work_dir": d / f"work-{name}",
    }
    return DynasigConfig(**{**options, **changes})


def _runs(client, experiment: str):
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else client.search_runs([exp.experiment_id])


@pytest.fixture(scope="module")
def flow_run(slice_table, mlflow_server, prefect_harness, tmp_path_factory):
    """One flow run (computes signatures) and a resumed re-run from the chunk cache."""
    import mlflow

    from components.dynasig_ml.config import DynasigConfig
    from flows.dynasig import run_dynasig

    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    mlflow.set_tracking_uri(mlflow_server)
    work = tmp_path_factory.mktemp("work")
    config = DynasigConfig(
        structure=WT,
        variants=slice_table,
        target="eff",
        features=("mcfold_energy",),
        split="n_mut:3",
        models=("lasso", "hgb:max_iter=30"),
        predictors=("both", "features"),
        betas=tuple(BETAS),
        chunk_size=10,
        name="test-dynasig",
        experiment="test-dynasig",
        work_dir=work,
        bootstrap=0,  # 3 validation variants: judged on the point estimate (see test_unreliable_...)
    )
    first = run_dynasig(config, workers=2)
    cache = sorted((work / "signature_cache").glob("*.npz"))
    stamps = [p.stat().st_mtime_ns for p in cache]
    second = run_dynasig(config, workers=2)
    yield {"first": first, "second": second, "cache": cache, "stamps": stamps, "work": work}
    mp.undo()


@slow
def test_flow_logs_everything(flow_run, mlflow_server) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server)
    first = flow_run["first"]
    parent = client.get_run(first["run_id"])
    assert parent.info.status == "FINISHED"
    assert {"dynamotif.flow", "git.commit", "dataset.hash", "prefect.flow_run_id"} <= set(parent.data.tags)
    assert parent.data.metrics["n_train"] == 16 and parent.data.metrics["n_test"] == 24
    assert "best_test_r2" in parent.data.metrics and "signatures_s" in parent.data.metrics
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(r.info.run_name for r in children) == [
        "hgb-both",
        "hgb-features",
        "lasso-both",
        "lasso-features",
    ]
    for child in children:
        m = child.data.metrics
        assert {"val_r2", "test_r2", "test_rmse", "test_ef10", "train_r2"} <= set(m), child.info.run_name
        if child.info.run_name == "lasso-both":  # NaN correlations (constant predictions) are not logged
            assert {"test_pearson_r", "test_spearman_rho"} <= set(m)
        arts = {a.path for a in client.list_artifacts(child.info.run_id, "plots")}
        assert "plots/pred_vs_measured.png" in arts and "plots/r2_vs_beta.png" in arts
    best_val = max(c.data.metrics["val_r2"] for c in children)
    assert parent.data.metrics["best_val_r2"] == pytest.approx(best_val)
    coef = {a.path for a in client.list_artifacts(parent.info.run_id, "coefficients")}
    assert coef == {
        "coefficients/coefficients.pdb",
        "coefficients/coefficients.pml",
        "coefficients/coefficients_by_bead.csv",
    }
    pdb_text = Path(
        client.download_artifacts(parent.info.run_id, "coefficients/coefficients.pdb")
    ).read_text()
    occ = np.array([float(line[54:60]) for line in pdb_text.splitlines() if line.startswith("ATOM")])
    assert occ.size == 1824 and np.abs(occ).max() == pytest.approx(1.0)
    pml = Path(client.download_artifacts(parent.info.run_id, "coefficients/coefficients.pml")).read_text()
    assert "spectrum q, blue_white_red" in pml and "minimum=-1, maximum=1" in pml


@slow
def test_registration_champion_and_resume(flow_run, mlflow_server) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_server)
    first, second = flow_run["first"], flow_run["second"]
    assert first["registration"]["promoted"] is True
    # the re-run computed nothing (chunk files untouched), selected the same model, and does not
    # beat the champion (equal validation R²): the alias stays on version 1
    assert [p.stat().st_mtime_ns for p in flow_run["cache"]] == flow_run["stamps"] and len(
        flow_run["cache"]
    ) == 4
    assert second["best"] == first["best"] and second["registration"]["promoted"] is False
    champion = client.get_model_version_by_alias("test-dynasig", "champion")
    assert champion.version == first["registration"]["version"]
    assert champion.tags["selection_metric"] == "val_r2"
    assert champion.tags["split"] == "n_mut:3" and champion.tags["validation"] == "split:0.2"
    assert champion.tags["dataset_hash"] == first["dataset_hash"] and champion.tags["reliable"] == "true"
    assert "does not beat champion" in second["registration"]["reason"]
    assert second["timings"]["signatures_s"] < first["timings"]["signatures_s"]
    # the logged input example is a training variant (n_mut:3: at most 3 mutations), never a test one
    from mlflow.artifacts import download_artifacts
    from mlflow.models import Model

    local = download_artifacts(f"models:/test-dynasig/{champion.version}", tracking_uri=mlflow_server)
    example = Model.load(local).load_input_example(local)
    assert len(example["variant"].iloc[0].replace("_", ";").split(";")) <= 3


@slow
def test_predict_cli_and_serving(flow_run, mlflow_server, serve_model, monkeypatch, tmp_path) -> None:
    from flows.cli import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    inp = tmp_path / "new.csv"
    pd.DataFrame({"variant": ["A12C;C74A", "G2U"], "mcfold_energy": [-90.1, -91.5]}).to_csv(inp, index=False)
    out = tmp_path / "pred.csv"
    assert (
        main(["predict", "--model", "models:/test-dynasig@champion", "--input", str(inp), "--out", str(out)])
        == 0
    )
    pred = pd.read_csv(out)
    assert list(pred.variant) == ["A12C;C74A", "G2U"] and pred.prediction.notna().all()

    url = serve_model(
        "models:/test-dynasig@champion",
        env={"MLFLOW_TRACKING_URI": mlflow_server, "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT": "300"},
    )
    body = {"dataframe_records": [{"variant": "A12C;C74A", "mcfold_energy": -90.1}]}
    req = urllib.request.Request(
        url + "/invocations", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
        answer = json.loads(resp.read())
    served = answer["predictions"][0]
    assert served["variant"] == "A12C;C74A"
    assert served["prediction"] == pytest.approx(pred.prediction[0], rel=1e-9)
    bad = {"dataframe_records": [{"variant": "C12G", "mcfold_energy": -90.1}]}  # wrong WT letter
    req = urllib.request.Request(
        url + "/invocations", json.dumps(bad).encode(), {"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=60)  # noqa: S310
    assert err.value.code == 400 and "C12G" in err.value.read().decode()
    for value in (5, 5.5, True):  # not a variant string: a 4xx, never a prediction
        bad = {"dataframe_records": [{"variant": value, "mcfold_energy": -90.1}]}
        req = urllib.request.Request(
            url + "/invocations", json.dumps(bad).encode(), {"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=60)  # noqa: S310
        assert 400 <= err.value.code < 500, value


# ------------------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small_inputs(tmp_path_factory) -> dict[str, Path]:
    """A 20-variant table with signatures from the reference (no ENCoM needed)."""
    from components.dynasig_ml import load_signatures, save_signatures

    sigs = load_signatures(shared("mir125a", "precomputed_signatures", "dsdf_98_signatures.csv.gz"))
    raw = pd.read_csv(shared("mir125a", "variants.csv"))
    raw = raw[raw.in_dsdf_98 == 1].head(20).reset_index(drop=True)
    table = pd.DataFrame(
        {"variant": raw.mutations.fillna("WT"), "eff": raw.eff, "mcfold_energy": raw.mcfold_energy}
    )
    d = tmp_path_factory.mktemp("bad")
    save_signatures(sigs, d / "sigs.npz")
    table.to_csv(d / "ok.csv", index=False)
    t = table.astype({"eff": object})
    t.loc[3, "eff"] = "n/a?"
    t.to_csv(d / "nonnumeric.csv", index=False)
    t = table.copy()
    t.loc[[2, 5], "eff"] = np.nan
    t.to_csv(d / "nan.csv", index=False)
    t = table.copy()
    t.loc[4, "variant"] = "A13C"  # position 13 is G in the WT
    t.to_csv(d / "unknown.csv", index=False)
    return {"dir": d, "sigs": d / "sigs.npz"}


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [
        ("ok.csv", ["--target", "nope"], "missing column(s) 'nope'"),
        ("nonnumeric.csv", [], "column 'eff' is not numeric: 'n/a?'"),
        ("nan.csv", ["--strict"], "2 row(s) have a missing target/feature value (strict mode)"),
        ("ok.csv", ["--split", "n_mut:9"], "leaves the test set empty"),
        ("unknown.csv", ["--no-signatures"], "A13C"),
        ("missing.csv", [], "file does not exist"),
        ("ok.csv", ["--split", "random:0.3", "--validation", "cv-positions:500"], "need >= 500"),
        ("ok.csv", ["--split", "random:0.3", "--validation", "cv-strict:500"], "need >= 500"),
        ("ok.csv", ["--runner", "fibres"], "unknown task runner 'fibres': use pool, threads, processes"),
    ],
)
def test_bad_input_one_line_exit_2(
    small_inputs, table, extra, message, mlflow_env, prefect_harness, capsys
) -> None:
    from mlflow import MlflowClient

    from flows.cli import main

    d = small_inputs["dir"]
    args = [
        "dynasig",
        "--structure",
        str(WT),
        "--variants",
        str(d / table),
        "--features",
        "mcfold_energy",
        "--name",
        "test-bad",
        "--work-dir",
        str(d / "work"),
    ]
    if "--target" not in extra:
        args += ["--target", "eff"]
    if "--no-signatures" in extra:
        extra = [e for e in extra if e != "--no-signatures"]
    else:
        args += ["--signatures", str(small_inputs["sigs"])]
    assert main(args + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    client = MlflowClient(mlflow_env)
    assert not [r for r in _runs(client, "dynamotif-dynasig") if r.info.status == "RUNNING"]


def test_cli_position_grouped_validation(small_inputs, mlflow_env, prefect_harness, capsys) -> None:
    from mlflow import MlflowClient

    from flows.cli import main

    d = small_inputs["dir"]
    args = ["dynasig", "--structure", str(WT), "--variants", str(d / "ok.csv"), "--target", "eff"]
    args += ["--features", "mcfold_energy"]
    args += ["--signatures", str(small_inputs["sigs"]), "--split", "random:0.3", "--model", "ridge"]
    args += ["--validation", "cv-positions:2", "--name", "test-cvpos", "--work-dir", str(d / "work-cvpos")]
    assert main(args) == 0
    out = next(json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{"))
    run = MlflowClient(mlflow_env).get_run(out["run_id"])
    assert run.info.status == "FINISHED" and run.data.params["validation"] == "cv-positions:2"


def test_nan_rows_dropped_and_counted(small_inputs, mlflow_env, prefect_harness) -> None:
    from mlflow import MlflowClient

    from flows.dynasig import run_dynasig

    res = run_dynasig(_small_config(small_inputs, "test-nan", "nan.csv", register=False))
    assert res["n_dropped"] == 2 and res["registration"] is None
    run = MlflowClient(mlflow_env).get_run(res["run_id"])
    assert run.data.metrics["n_dropped"] == 2 and run.data.metrics["n_used"] == 18


def test_failure_inside_the_flow_marks_the_run_failed(
    small_inputs, mlflow_env, prefect_harness, monkeypatch
) -> None:
    from mlflow import MlflowClient

    import components.dynasig_ml.run
    from flows.dynasig import run_dynasig

    def broken(*args, **kwargs):
        raise RuntimeError("simulated crash while fitting")

    monkeypatch.setattr(components.dynasig_ml.run, "fit_model", broken)
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_dynasig(_small_config(small_inputs, "test-crash"))
    runs = _runs(MlflowClient(mlflow_env), "test-crash")
    assert [r.info.status for r in runs] == ["FAILED"]
    assert runs[0].data.tags["error"].startswith("simulated crash")


def test_skip_invalid_writes_rejected_csv_and_logs_the_count(
    small_inputs, mlflow_env, prefect_harness, capsys
) -> None:
    from mlflow import MlflowClient

    from flows.cli import main

    d = small_inputs["dir"]
    work = d / "work-skip"
    args = ["dynasig", "--structure", str(WT), "--variants", str(d / "unknown.csv"), "--target", "eff"]
    args += ["--features", "mcfold_energy", "--split", "random:0.3", "--model", "ridge", "--skip-invalid"]
    args += ["--name", "test-skip", "--work-dir", str(work)]
    assert main(args) == 0
    captured = capsys.readouterr()
    out = next(json.loads(line) for line in captured.out.splitlines() if line.startswith("{"))
    rejected = pd.read_csv(work / "rejected.csv")
    assert rejected["row"].tolist() == [5] and rejected["variant"].tolist() == ["A13C"]
    assert "wild-type letter" in rejected["reason"][0]
    assert "1 invalid variant row(s) left out" in captured.err
    run = MlflowClient(mlflow_env).get_run(out["run_id"])
    assert run.data.metrics["n_rejected"] == 1 and run.data.metrics["n_used"] == 19


def test_unreliable_validation_registers_without_alias(small_inputs, mlflow_env, prefect_harness) -> None:
    """A model whose validation R² does not beat the mean predictor beyond its interval is not promoted."""
    from mlflow import MlflowClient

    from flows.dynasig import run_dynasig

    res = run_dynasig(_small_config(small_inputs, "test-unreliable"))
    reg = res["registration"]
    assert res["best_reliable"] is False and reg["promoted"] is False
    assert "mean predictor" in reg["reason"]
    assert any("too small to select on" in w for w in res["warnings"])
    best = next(m for m in res["models"] if m["model"] == res["best"])
    assert best["val_r2_ci_low"] <= best["val_r2_ci_high"] and best["val_gain_ci_low"] <= 0
    assert best["test_pearson_r_ci_low"] <= best["test_pearson_r_ci_high"]
    client = MlflowClient(mlflow_env)
    assert client.get_model_version("test-unreliable", reg["version"]).tags["reliable"] == "false"
    parent = client.get_run(res["run_id"])
    assert parent.data.tags["reliable"] == "false" and "best_val_r2_ci_low" in parent.data.metrics
    assert json.loads(Path(res["out_dir"], "summary.json").read_text())["best"] == res["best"]


def test_grouped_cv_through_the_flow_predicts_every_variant_out_of_fold(
    mlflow_env, prefect_harness, tmp_path
) -> None:
    """``--split cv-grouped:3`` on single mutants of a tiny protein: folds by residue, out-of-fold
    predictions over every variant logged with their metrics, the per-fold selection on the parent."""
    from mlflow import MlflowClient

    from components.mutation.variants import mutation_positions
    from flows.dynasig import run_dynasig
    from tests.dynasig_ml.conftest import protein_cv_config

    config, variants = protein_cv_config(
        tmp_path,
        "AVE",
        seed=0,
        models=("ridge", "hgb:max_iter=10"),
        predictors=("local",),
        name="test-cv-grouped",
        experiment="test-cv-grouped",
        work_dir=tmp_path / "work",
    )
    res = run_dynasig(config, workers=2)
    assert res["best"] == "selected" and res["registration"] is None and len(res["folds"]) == 3
    rows = {row["model"]: row for row in res["models"]}
    assert set(rows) == {"ridge-local", "hgb-local", "selected"}
    assert all(row["oof_n_tested"] == len(variants) for row in rows.values())
    oof = pd.read_csv(tmp_path / "work" / "oof" / "selected.csv")
    assert sorted(oof.variant) == sorted(variants) and oof.predicted.notna().all()
    client = MlflowClient(mlflow_env)
    parent = client.get_run(res["run_id"])
    assert "oof_spearman_rho" in parent.data.metrics and "oof_r2" in parent.data.metrics
    names = {a.path for a in client.list_artifacts(res["run_id"])}
    assert {"oof_predictions.csv", "summary.csv", "selected_per_fold.csv", "plots"} <= names
    logged = pd.read_csv(client.download_artifacts(res["run_id"], "oof_predictions.csv", str(tmp_path)))
    assert len(logged) == len(variants)
    # residues of a held-out fold are mutated by no variant of its training side
    from components.dynasig_ml.data import build_dataset
    from components.dynasig_ml.splits import outer_folds

    data = build_dataset(pd.read_csv(config.variants), "ddg")
    for fold in outer_folds("cv-grouped:3", data, seed=config.seed):
        seen = {p for i in fold.train for p in mutation_positions(data.ids[i])}
        assert seen and not seen & {p for i in fold.test for p in mutation_positions(data.ids[i])}
