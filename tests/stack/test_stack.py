"""The DynaSig deployment run by a process worker against PostgreSQL-backed MLflow and Prefect servers,
started through the Prefect REST API; its runs, artifacts and registered model read back from MLflow."""

from __future__ import annotations

from pathlib import Path

import pytest

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
