"""What a user sees on the terminal: real ``dynamotif`` commands in a subprocess, in a fresh folder.

A flow that fails prints one line (no Prefect traceback) unless ``--verbose``; model logging and
``predict`` print no MLflow nags (CloudPickle, ANSI-coloured type-hint warnings); a table the model
refuses is named with the reason on one line; ``summary.json`` is valid JSON (no ``NaN``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli
from tests.encom._golden import DATA as ENCOM_DATA

NOISE = ("Traceback", "\x1b[", "CloudPickle", "Add type hints")


def dynamotif(cwd: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """The command in ``cwd``, on that folder's default MLflow store (``./mlflow.db``)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        env.pop(key, None)
    return run_cli(*args, env=env, timeout=timeout, cwd=cwd)


def strict_json(path: Path) -> object:
    def refuse(token: str) -> None:
        raise ValueError(f"{path.name} holds {token}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """A DynaSig run on the 8-nt fragment: 24 variants, random split; model ``cli-output``."""
    work = tmp_path_factory.mktemp("cli_output")
    shutil.copy(ENCOM_DATA / "rna_fragment.pdb", work / "wt.pdb")
    rng = np.random.default_rng(0)
    wt = "UGCCAGUC"
    rows = [f"{b}{k + 1}{n}" for k, b in enumerate(wt) for n in "ACGU" if n != b]
    (work / "variants.csv").write_text("variant,eff\n" + "".join(f"{v},{rng.normal():.3f}\n" for v in rows))
    proc = dynamotif(
        work, "dynasig", "--structure", "wt.pdb", "--variants", "variants.csv", "--target", "eff",
        "--split", "random:0.25", "--name", "cli-output", "--work-dir", "run",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (work / "stderr.txt").write_text(proc.stderr)
    (work / "stdout.txt").write_text(proc.stdout)
    return work


@pytest.mark.integration
def test_flow_run_prints_no_library_noise_and_writes_valid_json(study: Path) -> None:
    err = (study / "stderr.txt").read_text()
    assert not [n for n in NOISE if n in err], err[-2000:]
    summary = strict_json(study / "run" / "summary.json")
    assert summary["registration"]["name"] == "cli-output"  # type: ignore[index]
    # the line the command prints is strict JSON too (24 variants: some scores are undefined)
    (study / "printed.json").write_text((study / "stdout.txt").read_text().splitlines()[0])
    printed = strict_json(study / "printed.json")
    assert printed["registration"]["name"] == "cli-output"  # type: ignore[index]


@pytest.mark.integration
def test_a_failing_flow_prints_one_line_unless_verbose(study: Path) -> None:
    args = ["dynasig", "--structure", "wt.pdb", "--variants", "variants.csv", "--target", "eff"]
    args += ["--split", "random:0.25", "--model", "rf:n_estimators=-1", "--work-dir", "run", "--name", "x"]
    proc = dynamotif(study, *args)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith("error: "), proc.stderr[-3000:]
    assert "n_estimators" in lines[-1] and sum(ln.startswith("error: ") for ln in lines) == 1
    # the run's own warnings (e.g. a small test set) may come first; Prefect's failure reports do not
    for prefect_says in ("Traceback", "Finished in state", "Encountered exception", "Task run failed"):
        assert prefect_says not in proc.stderr, proc.stderr[-3000:]
    verbose = dynamotif(study, "--verbose", *args)
    assert verbose.returncode == 2 and "Traceback" in verbose.stderr


@pytest.mark.integration
def test_predict_is_quiet_and_names_what_the_model_refuses(study: Path) -> None:
    (study / "new.csv").write_text("variant\nU1A\nG2C;C3U\n")
    proc = dynamotif(study, "predict", "--model", "models:/cli-output@champion", "--input", "new.csv")
    assert proc.returncode == 2 and "--out" in proc.stderr  # a required option, said on one line
    proc = dynamotif(
        study, "predict", "--model", "models:/cli-output@champion", "--input", "new.csv", "--out", "p.csv"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not [n for n in NOISE if n in proc.stderr], proc.stderr[-2000:]
    assert "wrote 2 predictions" in proc.stdout
    (study / "typed.csv").write_text("variant\n5\n7\n")
    proc = dynamotif(
        study, "predict", "--model", "models:/cli-output@champion", "--input", "typed.csv", "--out", "q.csv"
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith("error: typed.csv: ") and "The model takes ['variant': string" in lines[0]
    assert not (study / "q.csv").exists()


def test_write_json_writes_null_for_nan_and_infinity(tmp_path: Path) -> None:
    from components.common.io import write_json

    path = write_json(
        {"r": float("nan"), "ef": [np.float32("inf"), np.float64(0.5)], "n": np.int64(3)}, tmp_path / "s.json"
    )
    assert strict_json(path) == {"r": None, "ef": [None, 0.5], "n": 3}


def test_refusal_reason_keeps_the_reason_and_the_schema() -> None:
    from flows.predict import refusal_reason

    msg = (
        "Failed to enforce schema of data '  variant\n0    A12C' with schema '['variant': string (required), "
        "'mcfold_energy': double (required)]'. Error: Model is missing inputs ['mcfold_energy']."
    )
    assert refusal_reason(msg) == (
        "Model is missing inputs ['mcfold_energy']. The model takes ['variant': string (required), "
        "'mcfold_energy': double (required)]."
    )
    assert refusal_reason("row 1 'hello':\n not a variant") == "row 1 'hello': not a variant"


@pytest.mark.parametrize("module", ["components.dynasig_ml.serving", "components.seqmodels.serving"])
def test_served_models_give_mlflow_no_reason_to_warn(module: str) -> None:
    # MLflow checks predict's type hints on every log and load; no hint at all prints a 3-line ANSI warning
    import importlib
    import warnings

    from mlflow.pyfunc.utils.data_validation import _get_func_info_if_type_hint_supported

    mod = importlib.import_module(module)
    (cls,) = [v for k, v in vars(mod).items() if k.endswith("Pyfunc") and isinstance(v, type)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _get_func_info_if_type_hint_supported(cls.predict) is None  # no schema from the hint
    assert [str(w.message) for w in caught] == []
