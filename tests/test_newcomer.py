"""The README's quickstart, run verbatim: every ```bash block marked ``<!-- newcomer -->``.

Each block runs in a fresh folder that holds (a link to) ``examples/``, with ``dynamotif`` on the PATH
and MLflow's default store in that folder, exactly as a new user would type it; exit codes and outputs
are checked, so the README cannot drift from the code.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import REPO

BLOCK = re.compile(r"<!-- newcomer -->\s*\n```bash\n(.*?)\n```", re.S)


def quickstart_blocks() -> list[str]:
    return BLOCK.findall((REPO / "README.md").read_text())


def run_block(block: str, cwd: Path) -> subprocess.CompletedProcess:
    (cwd / "examples").symlink_to(REPO / "examples")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
        env.pop(key, None)
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _predictions(path: Path, n: int, column: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    assert len(df) == n and column in df.columns and df[column].notna().all(), df.columns.tolist()
    return df


def test_readme_has_one_quickstart_per_track() -> None:
    blocks = quickstart_blocks()
    assert len(blocks) == 2
    assert "dynamotif dynasig" in blocks[0] and "dynamotif sequence" in blocks[1]
    for block in blocks:
        commands = [ln for ln in block.splitlines() if ln and not ln.startswith(" ")]
        assert all(c.startswith("dynamotif ") for c in commands), commands


@pytest.mark.integration
def test_structure_quickstart(tmp_path: Path) -> None:
    proc = run_block(quickstart_blocks()[0], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr  # nor MLflow's coloured warnings
    summary = json.loads((tmp_path / "my-rna" / "summary.json").read_text())
    assert summary["registration"]["name"] == "my-rna"
    assert {m["model"] for m in summary["models"]} == {"lasso-signatures", "hgb-signatures"}
    df = _predictions(tmp_path / "my-rna-predictions.csv", 3, "prediction")
    assert df["variant"].tolist() == ["A12C", "G13A;U75C", "A12C;C74G"]


@pytest.mark.integration
def test_sequence_quickstart(tmp_path: Path) -> None:
    proc = run_block(quickstart_blocks()[1], tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and "\x1b[" not in proc.stderr  # nor MLflow's coloured warnings
    summary = json.loads((tmp_path / "my-rbp" / "summary.json").read_text())
    assert summary["registered"]["name"] == "my-rbp" and "test_roc_auc" in summary["test_metrics"]
    assert (tmp_path / "my-rbp-motifs" / "report.html").exists()
    df = _predictions(tmp_path / "my-rbp-predictions.csv", 6, "p_PUM2")
    assert df["p_PUM2"].between(0, 1).all()
