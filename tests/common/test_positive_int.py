"""``components.common.cli.positive_int``: the benchmarks' counts (``--seeds``, ``--ensemble``) refuse
values below one in one line, before any work starts."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from components.common.cli import positive_int
from tests.conftest import REPO


def test_positive_int_accepts_counts_and_names_what_is_wrong() -> None:
    assert positive_int("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match="must be at least 1, got 0"):
        positive_int("0")
    with pytest.raises(argparse.ArgumentTypeError, match="'x' is not an integer"):
        positive_int("x")


@pytest.mark.parametrize("script", ["rbp_clip.py", "mir125a.py", "gb1_stability.py"])
def test_benchmarks_refuse_zero_seeds(script: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), "--seeds", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and not proc.stdout
    assert proc.stderr.strip().splitlines()[-1].endswith("argument --seeds: must be at least 1, got 0")
