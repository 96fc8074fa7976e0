"""Every MLproject entry point resolves to a real `dynamotif` subcommand with real options; one
entry point runs for real through `mlflow run --env-manager local`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flows.cli import app
from tests.conftest import REPO, run_cli

MLPROJECT = REPO / "mlproject" / "MLproject"


def _entry_points():
    return yaml.safe_load(MLPROJECT.read_text())["entry_points"]


def _help_text(command_name: str) -> str:
    """The command's --help as a user sees it (works for typer and argparse-backed commands)."""
    env = {**os.environ, "COLUMNS": "250", "TERMINAL_WIDTH": "250", "NO_COLOR": "1"}
    proc = run_cli(command_name, "--help", env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.parametrize("name", sorted(_entry_points()))
def test_entry_point_matches_cli(name):
    ep = _entry_points()[name]
    words = shlex.split(ep["command"])
    assert words[0] == "dynamotif"
    import typer.main

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    if words[1] not in commands:
        pytest.fail(f"entry point {name}: `dynamotif {words[1]}` does not exist")
    used = {w for w in words[2:] if w.startswith("--")}
    text = _help_text(words[1])
    missing = {opt for opt in used if re.search(re.escape(opt) + r"\b", text) is None}
    assert not missing, f"entry point {name} uses unknown options {missing}"
    placeholders = set(re.findall(r"{(\w+)}", ep["command"]))
    assert placeholders == set(ep.get("parameters", {})), name


@pytest.mark.integration
def test_mlflow_run_entry_point(tmp_path):
    # `mlflow run` refuses an inherited MLFLOW_EXPERIMENT_ID next to --experiment-name
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID")
    }
    env = {
        **inherited,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("mlflow")),
            "run",
            str(REPO / "mlproject"),
            "-e",
            "check",
            "--env-manager",
            "local",
            "--experiment-name",
            "mlproject-check",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "MLflow tracking:" in proc.stdout
