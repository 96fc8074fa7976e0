"""``dynamotif ui`` opens each experiment on its runs table with the key metrics as columns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REPO, free_port


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh sqlite MLflow store in ``tmp_path`` (the CLI's default store there)."""
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return tmp_path


def _flow_run() -> str:
    """A parent run with its summary metrics and two nested model runs; returns the parent's run id."""
    from flows import tracking

    with tracking.parent_run("dynasig", run_name="study") as run:
        for name, r2 in (("lasso", 0.4), ("rf", 0.6)):
            with tracking.nested_run(name):
                tracking.log_metrics({"val_r2": r2, "test_r2": r2 - 0.1})
        tracking.log_metrics({"best_val_r2": 0.6, "best_test_r2": 0.5, "n_train": 30})
    return run.info.run_id


def test_flow_experiments_open_on_the_runs_table(store: Path) -> None:
    from mlflow import MlflowClient

    client = MlflowClient()
    exp = client.get_experiment(client.get_run(_flow_run()).info.experiment_id)
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"


def test_runs_table_view_names_the_key_metric_columns(store: Path) -> None:
    from mlflow import MlflowClient

    from flows import tracking

    _flow_run()
    [(name, url)] = tracking.runs_table_views("http://127.0.0.1:5000")
    assert name == "dynamotif-dynasig"
    exp = MlflowClient().get_experiment_by_name(name)
    assert url == f"http://127.0.0.1:5000/#/experiments/{exp.experiment_id}/runs?viewStateShareKey=dynamotif"
    state = json.loads(exp.tags["mlflow.sharedViewState.dynamotif"])
    assert state["selectedColumns"] == ["metrics.`best_val_r2`", "metrics.`best_test_r2`"]
    assert state["orderByKey"] == "attributes.start_time" and state["orderByAsc"] is False


@pytest.mark.integration
def test_ui_command_serves_and_prints_the_runs_table_links(store: Path) -> None:
    _flow_run()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MLFLOW_TRACKING_URI")  # the default store of the folder: ./mlflow.db
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.cli", "ui", "--port", str(port)],
        cwd=store,
        env={**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(2)]  # type: ignore[union-attr]
        assert lines[0].startswith(f"MLflow UI:  http://127.0.0.1:{port}"), lines
        assert f"runs of dynamotif-dynasig: http://127.0.0.1:{port}/#/experiments/" in lines[1], lines
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:  # noqa: S310
                    assert r.status == 200
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the UI did not come up"
                time.sleep(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
