"""The MLflow + Prefect backbone, for real: a Prefect flow logs a model to a real MLflow server,
registers it, promotes it to ``champion``, loads it back by alias and serves it over HTTP."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from prefect import flow, task
from sklearn.linear_model import Lasso

from flows import tracking
from tests.conftest import post_json

pytestmark = pytest.mark.integration


class _Doubler(mlflow.pyfunc.PythonModel):
    """A raw-input pyfunc: takes a ``sequence`` column, returns twice the GC count."""

    def predict(self, context, model_input, params=None):
        seqs = model_input["sequence"].astype(str)
        return np.array([2.0 * sum(c in "GC" for c in s) for s in seqs])


@task
def fit(alpha: float, seed: int) -> tuple[Lasso, pd.DataFrame, float]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.normal(size=(80, 3)), columns=["f0", "f1", "f2"])
    y = 2 * x["f0"] - x["f1"] + rng.normal(scale=0.1, size=80)
    model = Lasso(alpha=alpha).fit(x, y)
    return model, x, float(model.score(x, y))


@flow(name="tiny-backbone")
def tiny_flow(alpha: float, name: str) -> dict:
    with tracking.parent_run("tiny", params={"alpha": alpha}, dataset_hash="abc123") as parent:
        with tracking.nested_run("lasso", params={"alpha": alpha}):
            model, x, r2 = fit(alpha, 0)
            tracking.log_metrics({"val_r2": r2})
            info = tracking.log_sklearn_model(model, input_example=x.iloc[:3])
        reg = tracking.register_and_promote(info.model_uri, name, metric="val_r2", value=r2)
        return {"parent": parent.info.run_id, "registration": reg, "r2": r2}


def test_flow_logs_registers_promotes_and_serves(mlflow_env, prefect_harness, serve_model):
    first = tiny_flow(0.01, "tiny_lasso")
    assert first["registration"].promoted and first["registration"].version == "1"
    worse = tiny_flow(5.0, "tiny_lasso")  # a much worse model must not take the alias
    assert not worse["registration"].promoted
    assert worse["registration"].previous_champion == "1"

    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias("tiny_lasso", "champion").version == "1"
    parent = client.get_run(first["parent"])
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["dataset.hash"] == "abc123"
    assert parent.data.tags["prefect.flow_run_id"]
    assert len(parent.data.tags["git.commit"]) in (7, 40) or parent.data.tags["git.commit"] == "unknown"
    children = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{first['parent']}'",
    )
    assert len(children) == 1 and children.iloc[0]["metrics.val_r2"] == pytest.approx(first["r2"])

    loaded = mlflow.pyfunc.load_model("models:/tiny_lasso@champion")
    x = pd.DataFrame({"f0": [1.0], "f1": [0.0], "f2": [0.0]})
    assert loaded.predict(x)[0] == pytest.approx(2.0, abs=0.2)

    url = serve_model("models:/tiny_lasso@champion")
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"f0": 1.0, "f1": 0.0, "f2": 0.0}]})
    assert status == 200, body
    assert body["predictions"][0] == pytest.approx(2.0, abs=0.2)
    status, body = post_json(url + "/invocations", {"dataframe_records": [{"nope": 1.0}]})
    assert 400 <= status < 500


def test_failed_flow_marks_run_failed(mlflow_env, prefect_harness):
    @flow(name="tiny-failing")
    def failing() -> None:
        with tracking.parent_run("tiny-fail"):
            tracking.log_metrics({"x": 1.0})
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        failing()
    runs = mlflow.search_runs(experiment_names=["dynamotif-tiny-fail"])
    assert list(runs["status"]) == ["FAILED"]
    assert runs.iloc[0]["tags.error"] == "boom"


def test_pyfunc_raw_input_model(mlflow_env):
    with tracking.parent_run("tiny-pyfunc"):
        info = tracking.log_pyfunc_model(
            _Doubler(), input_example=pd.DataFrame({"sequence": ["ACGU", "GGCC"]})
        )
    model = tracking.load_pyfunc(info.model_uri)
    assert list(model.predict(pd.DataFrame({"sequence": ["GGGA"]}))) == [6.0]


def test_killed_nested_run(mlflow_env):
    with tracking.parent_run("tiny-killed") as parent:
        with pytest.raises(KeyError):
            with tracking.nested_run("trial-0"):
                raise tracking.RunKilled("pruned", KeyError("k"))
    runs = mlflow.search_runs(
        experiment_names=["dynamotif-tiny-killed"],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert list(runs["status"]) == ["KILLED"]
