"""``benchmarks/utr3_stability.py --seeds N``: N ensembles with disjoint training seeds, each row as
mean ± sd with a verdict against the ridge. Run as a user runs it, on a slice of the real data with
a tiny network (the figures are not accuracy figures, only the bookkeeping is checked)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, shared


@pytest.fixture(scope="module")
def utr_slice(tmp_path_factory) -> Path:
    src = shared("utr3_stability_mpra_siegel2022", "siegel2022_3utr_stability.tsv.gz")
    out = tmp_path_factory.mktemp("utr3") / "slice.tsv"
    with gzip.open(src, "rt") as fh:
        lines = [next(fh) for _ in range(601)]  # header + 600 rows
    out.write_text("".join(lines))
    return out


def run_benchmark(data: Path, *args: str) -> dict:
    tiny = json.dumps({"kernel_num": 8, "max_epochs": 1, "gru_units": 8})
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "utr3_stability.py"), "--data", str(data)]
        + ["--threads", "1", "--params", tiny, *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == 1, proc.stdout
    return json.loads(lines[0])


def test_seeds_train_disjoint_ensembles_and_summarise_each_row(utr_slice: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial.json"
    out = run_benchmark(utr_slice, "--seeds", "2", "--ensemble", "2", "--partial", str(partial))

    # four members with seeds 0..3, ensembles {0, 1} and {2, 3}: no member shared
    assert [m["seed"] for m in out["members"]] == [0, 1, 2, 3]
    assert [e["seeds"] for e in out["ensembles"]] == [[0, 1], [2, 3]]
    assert out["seeds_planned"] == 2 and out["ensemble"] == 2

    ens = out["cnn_gru"]["test_pearson"]
    assert ens["n"] == 2
    assert ens["values"] == [e["pearson"] for e in out["ensembles"]]
    assert ens["mean"] == pytest.approx(np.mean(ens["values"]), abs=1e-4)
    assert ens["sd"] == pytest.approx(np.std(ens["values"], ddof=1), abs=1e-4)

    single = out["single_model"]["test_pearson"]
    assert single["n"] == 4
    assert single["values"] == [m["test_pearson"] for m in out["members"]]

    ridge = out["ridge_6mer"]["pearson"]
    for row in ("cnn_gru", "single_model"):
        test = out[row]["test_pearson"]
        gap = test["mean"] - ridge
        assert out[row]["pearson_gain"] == pytest.approx(gap, abs=1e-3)
        expected = "on par" if abs(gap) <= test["sd"] else ("above" if gap > 0 else "below")
        assert out[row]["vs_ridge"] == expected

    # the partial record after the last member is the final record (less the wall time)
    last = json.loads(partial.read_text())
    assert last["ensembles"] == out["ensembles"] and last["members"] == out["members"]


def test_screen_never_scores_the_test_set(utr_slice: Path) -> None:
    screen = run_benchmark(utr_slice, "--seeds", "2", "--ensemble", "1", "--screen", "200")
    assert screen["n_train"] == 200
    assert screen["ridge_6mer"] == {"alpha": None, "wall_s": screen["ridge_6mer"]["wall_s"]}
    assert "test_pearson" not in screen["cnn_gru"] and "pearson" not in screen["ensembles"][0]
    assert all("test_pearson" not in m for m in screen["members"])
    assert screen["cnn_gru"]["val_pearson"]["n"] == 2


@pytest.mark.parametrize(("flag", "value"), [("--seeds", "0"), ("--ensemble", "-1"), ("--seeds", "two")])
def test_counts_below_one_are_refused_in_one_line(flag: str, value: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "utr3_stability.py"), flag, value],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and not proc.stdout
    assert f"argument {flag}:" in proc.stderr and value in proc.stderr
