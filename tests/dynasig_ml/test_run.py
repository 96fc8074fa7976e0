"""The track's steps (components/dynasig_ml/run.py) and ``python -m components.dynasig_ml``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.common.errors import InputError
from components.dynasig_ml import fit_model, make_split, parse_model_spec
from components.dynasig_ml.cli import main
from components.dynasig_ml.config import DynasigConfig
from components.dynasig_ml.data import build_dataset, save_signatures
from components.dynasig_ml.fit import fit_plan
from components.dynasig_ml.run import evaluate, plan_fits
from tests.conftest import EXAMPLES, REPO
from tests.dynasig_ml.conftest import synthetic

WT = EXAMPLES / "mir125a" / "mir125a_WT.pdb"


def _config(tmp_path: Path, **changes) -> DynasigConfig:
    return DynasigConfig(structure=WT, variants=tmp_path / "v.csv", target="eff", **changes)


def test_repeated_model_names_get_distinct_labels(tmp_path) -> None:
    cfg = _config(tmp_path, models=("hgb", "hgb:max_iter=100", "lasso"), predictors=("both", "features"))
    labels = [job.label for job in plan_fits(cfg)]
    assert labels == [
        "hgb-both",
        "hgb-features",
        "hgb-both-2",
        "hgb-features-2",
        "lasso-both",
        "lasso-features",
    ]
    assert [lab for lab, _, _ in fit_plan([parse_model_spec("rf")] * 2, ["signatures"])] == [
        "rf-signatures",
        "rf-signatures-2",
    ]


def _fit(n: int, seed: int = 0):
    sigs, table = synthetic(n=n, seed=seed)
    data = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    split = make_split("random:0.2", data, seed=0)
    return fit_model(data, split, parse_model_spec("lasso"), predictors="both")


def test_evaluate_intervals_and_reliability(tmp_path) -> None:
    cfg = _config(tmp_path, bootstrap=200)
    strong = evaluate(_fit(200), cfg)
    m = strong.metrics
    assert strong.reliable and strong.reason == ""
    assert m["val_r2_ci_low"] < m["val_r2"] < m["val_r2_ci_high"]
    assert m["test_r2_ci_low"] < m["test_r2"] < m["test_r2_ci_high"]
    assert m["test_pearson_r_ci_low"] < m["test_pearson_r"] < m["test_pearson_r_ci_high"]
    assert m["val_baseline_r2"] < 0.05 < m["val_r2_ci_low"] and m["val_gain_ci_low"] > 0
    tiny = evaluate(_fit(20), cfg)
    assert any("too small to select on" in w for w in tiny.warnings)


def test_selected_mean_predictor_is_not_reliable(tmp_path) -> None:
    """A LASSO that selected the intercept only (= the mean predictor) never counts as reliable."""
    sigs, table = synthetic(n=60, seed=3)
    table["eff"] = np.random.default_rng(5).normal(size=len(table))
    data = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    spec = parse_model_spec("lasso:alphas=[100.0]")
    res = fit_model(data, make_split("random:0.2", data), spec, predictors="both", validation="cv:4")
    np.testing.assert_allclose(res.pred_val, res.base_val)
    for boot in (0, 200):
        assert not evaluate(res, _config(tmp_path, bootstrap=boot)).reliable


def test_unreliable_when_interval_reaches_the_mean_predictor(tmp_path) -> None:
    """Pure noise: the validation R² interval does not clear the mean predictor."""
    sigs, table = synthetic(n=60, seed=3)
    table["eff"] = np.random.default_rng(5).normal(size=len(table))
    data = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    res = fit_model(data, make_split("random:0.2", data), parse_model_spec("lasso"), predictors="both")
    ev = evaluate(res, _config(tmp_path, bootstrap=200))
    assert not ev.reliable and "does not beat the mean predictor" in ev.reason
    assert res.y_val.size == res.pred_val.size == res.base_val.size > 0
    assert ev.metrics["val_gain_ci_low"] <= 0


# -------------------------------------------------------------------------------- python -m entry
@pytest.fixture
def small(tmp_path) -> dict[str, Path]:
    sigs, table = synthetic(n=80)
    save_signatures(sigs, tmp_path / "sigs.npz")
    table.to_csv(tmp_path / "v.csv", index=False)
    return {"dir": tmp_path, "sigs": tmp_path / "sigs.npz", "table": tmp_path / "v.csv"}


def test_main_writes_every_output(small, capsys) -> None:
    out = small["dir"] / "out"
    args = ["--structure", str(WT), "--variants", str(small["table"]), "--target", "eff"]
    args += ["--features", "energy", "--signatures", str(small["sigs"]), "--bootstrap", "50"]
    args += [
        "--models",
        "lasso",
        "hgb:max_iter=20",
        "--models",
        "hgb",
        "--no-progress",
        "--out-dir",
        str(out),
    ]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    summary = json.loads((out / "summary.json").read_text())  # valid JSON: NaN written as null
    assert printed["best"] == summary["best"] and summary["n_train"] + summary["n_test"] == 80
    assert sorted(m["model"] for m in summary["models"]) == ["hgb-both", "hgb-both-2", "lasso-both"]
    for label in ("hgb-both", "hgb-both-2", "lasso-both"):
        assert (out / label / "pred_vs_measured.png").stat().st_size > 0
    assert {"pipeline.json", "estimator.skops", "wt.pdb"} <= {p.name for p in (out / "pipeline").iterdir()}
    assert json.loads((out / "params.json").read_text())["models"] == ["lasso", "hgb:max_iter=20", "hgb"]
    assert "val_r2_ci_low" in json.loads((out / "metrics.json").read_text())
    assert len(pd.read_csv(out / "models.csv")) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "option 'target' is required"),
        (["--target", "eff", "--split", "halves"], "unknown split 'halves'"),
        (["--target", "nope"], "missing column(s) 'nope'"),
        (["--target", "eff", "--models", "lasso", "--chunk-size", "0"], "option 'chunk_size' must be >= 1"),
    ],
)
def test_main_bad_input_one_line_exit_2(small, capsys, args, message) -> None:
    base = ["--structure", str(WT), "--variants", str(small["table"]), "--signatures", str(small["sigs"])]
    out = small["dir"] / "out-bad"
    assert main([*base, *args, "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
    assert not (out / "summary.json").exists()


def test_config_file_and_flags(small, capsys) -> None:
    cfg = small["dir"] / "cfg.json"
    cfg.write_text(json.dumps({"target": "eff", "features": ["energy"], "droput": 1}))
    base = ["--structure", str(WT), "--variants", str(small["table"]), "--signatures", str(small["sigs"])]
    assert main([*base, "--config", str(cfg), "--out-dir", str(small["dir"] / "o")]) == 2
    assert "unknown option 'droput'" in capsys.readouterr().err


def test_dockerfile_target_starts() -> None:
    """The dynasig_ml image's entry point exists and answers --help (the container starts)."""
    text = (REPO / "docker" / "Dockerfile").read_text()
    assert re.search(
        r'FROM runtime AS dynasig_ml\nENTRYPOINT \["python", "-m", "components.dynasig_ml"\]', text
    )
    proc = subprocess.run(
        [sys.executable, "-m", "components.dynasig_ml", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0 and "--out-dir" in proc.stdout, proc.stderr


def test_load_inputs_checks_before_any_work(tmp_path) -> None:
    from components.dynasig_ml.run import load_inputs

    pd.DataFrame({"variant": ["A12C", "C13G"], "eff": [1.0, 2.0]}).to_csv(tmp_path / "v.csv", index=False)
    with pytest.raises(InputError, match="C13G"):  # position 13 is G in the WT
        load_inputs(_config(tmp_path))


def test_run_outer_cross_validation_writes_out_of_fold_predictions(tmp_path) -> None:
    """``run`` (no Prefect, no MLflow) under ``cv-grouped:3``: out-of-fold predictions of every
    variant per model and for the per-fold selection, OOF metrics, one graph each."""
    from components.dynasig_ml.run import run
    from tests.dynasig_ml.conftest import protein_cv_config

    cfg, variants = protein_cv_config(
        tmp_path, "AV", seed=1, models=("ridge",), predictors=("local", "aa"), work_dir=tmp_path / "out"
    )
    summary = run(cfg, progress=False)
    assert summary["n_test"] == 0 and len(summary["folds"]) == 3
    assert {row["model"] for row in summary["models"]} == {"ridge-local", "ridge-aa", "selected"}
    for label in ("ridge-local", "ridge-aa", "selected"):
        oof = pd.read_csv(tmp_path / "out" / "oof" / f"{label}.csv")
        assert sorted(oof.variant) == sorted(variants) and oof.predicted.notna().all()
        assert (tmp_path / "out" / label / "out_of_fold.png").exists()
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert {"oof_r2", "oof_spearman_rho", "oof_pearson_r"} <= set(metrics)
