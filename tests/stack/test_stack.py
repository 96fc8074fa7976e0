"""The DynaSig deployment run by a process worker against PostgreSQL-backed MLflow and Prefect servers,
started through the Prefect REST API; its runs, artifacts and registered model read back from MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from tests.stack import services
from tests.stack.conftest import DYNASIG_MODEL

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _query(stack: services.Stack, database: str, sql: str, *args):
    import psycopg2

    port = int(stack.postgres_url.rsplit(":", 1)[1])
    with psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname=database) as conn:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()


def test_deployed_flow_run_completes(stack, dynasig_flow_run) -> None:
    run = dynasig_flow_run["run"]
    assert run["state_type"] == "COMPLETED", f"{run['state_type']}: {run['state']}\n{stack.log('worker')}"
    assert run["deployment_id"] and run["work_pool_name"] == services.PROCESS_POOL
    # the server keeps the run in PostgreSQL
    rows = _query(stack, "prefect", "SELECT state_type FROM flow_run WHERE id = %s", dynasig_flow_run["id"])
    assert rows == [("COMPLETED",)]


def test_mlflow_runs_artifacts_and_champion(stack, dynasig_flow_run) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(stack.mlflow_uri, registry_uri=stack.mlflow_uri)
    exp = client.get_experiment_by_name(DYNASIG_MODEL)
    assert exp is not None
    parents = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.`prefect.flow_run_id` = '{dynasig_flow_run['id']}'"
    )
    assert len(parents) == 1, [r.info.run_name for r in parents]
    parent = parents[0]
    assert parent.info.status == "FINISHED"
    assert parent.info.artifact_uri.startswith("mlflow-artifacts:"), parent.info.artifact_uri
    assert parent.data.metrics["n_train"] == 16 and parent.data.metrics["n_test"] == 24
    children = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(c.info.run_name for c in children) == ["lasso-both", "lasso-features"]
    for child in children:
        assert child.info.status == "FINISHED"
        assert {"val_r2", "test_r2"} <= set(child.data.metrics)
    # artifacts come back through the server's artifact proxy
    pdb = Path(client.download_artifacts(parent.info.run_id, "coefficients/coefficients.pdb"))
    assert sum(line.startswith("ATOM") for line in pdb.read_text().splitlines()) == 1824
    champion = client.get_model_version_by_alias(DYNASIG_MODEL, "champion")
    assert champion.run_id == parent.info.run_id
    # both live in PostgreSQL
    assert _query(stack, "mlflow", "SELECT status FROM runs WHERE run_uuid = %s", parent.info.run_id) == [
        ("FINISHED",)
    ]
    aliases = _query(
        stack, "mlflow", "SELECT alias, version FROM registered_model_aliases WHERE name = %s", DYNASIG_MODEL
    )
    assert aliases == [("champion", int(champion.version))]


def _heartbeats(stack: services.Stack, flow_run_id: str) -> list[dict]:
    body = {
        "filter": {
            "event": {"name": ["prefect.flow-run.heartbeat"]},
            "resource": {"id": [f"prefect.flow-run.{flow_run_id}"]},
        },
        "limit": 10,
    }
    return services.api(stack, "POST", "/events/filter", body)["events"]


def test_a_silently_killed_flow_run_is_marked_crashed(stack, dynasig_flow_run, tmp_path: Path) -> None:
    """Worker and flow-run process killed together, so nobody reports the end (as when podman's
    ``auto_remove`` deletes a killed container before the worker reads its status): the automation of
    ``prefect-automations.yaml`` marks the run CRASHED once its heartbeats stop."""
    import os
    import signal
    import time

    assert "Created automation" in services.create_automations(stack)
    config = dict(dynasig_flow_run["params"]["config"])
    config |= {"name": "stack-zombie", "experiment": "stack-zombie", "work_dir": str(tmp_path / "out")}
    config["variants"] = str(EXAMPLES / "mir125a" / "variants.csv")  # 300 variants: runs for minutes
    flow_run_id = services.run_deployment_via_api(stack, "dynasig", "dynasig-process", {"config": config})
    try:
        deadline = time.monotonic() + 300
        while True:
            run = services.api(stack, "GET", f"/flow_runs/{flow_run_id}")
            assert run["state_type"] in ("SCHEDULED", "PENDING", "RUNNING"), run["state"]
            if (
                run["state_type"] == "RUNNING"
                and run["infrastructure_pid"]
                and _heartbeats(stack, flow_run_id)
            ):
                break
            assert time.monotonic() < deadline, f"no heartbeat of a running flow run\n{stack.log('worker')}"
            time.sleep(1)
        os.killpg(stack.procs["worker"].pid, signal.SIGKILL)  # nobody left to report the exit
        os.killpg(int(run["infrastructure_pid"]), signal.SIGKILL)  # the flow run's own session
        killed = time.monotonic()
        run = services.wait_flow_run(stack, flow_run_id, timeout_s=240)
        waited = time.monotonic() - killed
        assert run["state_type"] == "CRASHED", run["state"]
        assert "No heartbeat" in (run["state"].get("message") or ""), run["state"]
        assert waited < 240
    finally:
        services.restart_worker(stack)  # the later tests of the stack keep a live worker
