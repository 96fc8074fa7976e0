"""Fixtures of the stack tests: PostgreSQL, MLflow and Prefect servers on it and a process worker,
started once for this folder and stopped after its last test (``tests/stack/services.py``), and one DynaSig flow run triggered
through the Prefect API on the deployment from ``prefect.yaml``.

Without PostgreSQL installed the tests are skipped, unless ``DYNAMOTIF_REQUIRE_STACK=1`` (set by
``.ci/run``, which installs it) turns that into a failure.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import EXAMPLES, REPO
from tests.stack import services

DYNASIG_MODEL = "stack-dynasig"


def _unavailable(reason: str) -> None:
    if os.environ.get("DYNAMOTIF_REQUIRE_STACK") == "1":
        pytest.fail(f"{reason} (DYNAMOTIF_REQUIRE_STACK=1)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def artifacts_dir() -> Path:
    """Where screenshots and start-up figures go: ``DYNAMOTIF_TEST_ARTIFACTS`` or ``test-artifacts/``."""
    path = Path(os.environ.get("DYNAMOTIF_TEST_ARTIFACTS", REPO / "test-artifacts")) / "stack"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_timings(stack: services.Stack, artifacts_dir: Path) -> None:
    (artifacts_dir / "stack-timings.json").write_text(
        json.dumps({k: round(v, 2) for k, v in stack.timings.items()}) + "\n"
    )


@pytest.fixture(scope="package")
def stack(tmp_path_factory, artifacts_dir):
    """The running stack (:class:`tests.stack.services.Stack`); start-up seconds in ``stack-timings.json``."""
    try:
        services.postgres_bindir()
    except services.StackUnavailable as exc:
        _unavailable(str(exc))
    with services.running_stack(tmp_path_factory.mktemp("stack")) as st:
        _write_timings(st, artifacts_dir)
        yield st


@pytest.fixture(scope="package")
def dynasig_flow_run(stack, tmp_path_factory, artifacts_dir) -> dict[str, Any]:
    """``prefect deploy`` of ``dynasig-process``, then one run created through the REST API as the UI's
    *Run* button does, waited for. 40 miR-125a variants (16 triple mutants train, 24 with 4-6 test),
    LASSO on signatures + ΔG and on ΔG alone: with 4-fold CV on the training variants, the best model is
    promoted to ``champion`` (its validation interval beats the mean predictor)."""
    work = tmp_path_factory.mktemp("dynasig-deployment")
    df = pd.read_csv(EXAMPLES / "mir125a" / "variants.csv")
    pd.concat([df[df.n_mut == 3].head(16), df[df.n_mut > 3].head(24)]).to_csv(
        work / "variants.csv", index=False
    )
    t0 = time.perf_counter()
    services.deploy(stack, "dynasig-process")
    stack.timings["deploy_s"] = time.perf_counter() - t0
    config = {
        "structure": str(EXAMPLES / "mir125a" / "mir125a_WT.pdb"),
        "variants": str(work / "variants.csv"),
        "target": "eff",
        "features": ["mcfold_energy"],
        "split": "n_mut:3",
        "models": ["lasso"],
        "predictors": ["both", "features"],
        "validation": "cv:4",
        "betas": [math.e**-1, 1.0, math.e],
        "chunk_size": 20,
        "name": DYNASIG_MODEL,
        "experiment": DYNASIG_MODEL,
        "work_dir": str(work / "out"),
    }
    params = {"config": config}
    t0 = time.perf_counter()
    flow_run_id = services.run_deployment_via_api(stack, "dynasig", "dynasig-process", params)
    run = services.wait_flow_run(stack, flow_run_id, timeout_s=600)
    stack.timings["dynasig_flow_run_s"] = time.perf_counter() - t0
    stack.timings["dynasig_flow_run_engine_s"] = float(run.get("total_run_time") or 0.0)
    _write_timings(stack, artifacts_dir)
    return {"id": flow_run_id, "run": run, "params": params, "work": work}
