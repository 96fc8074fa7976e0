"""register_and_promote against a real MLflow server: champions on validation, compared like with like."""

from __future__ import annotations

import mlflow
import numpy as np
import pytest

pytestmark = pytest.mark.integration

SAME = {"dataset_hash": "d1", "split": "random:0.2", "validation": "split:0.2"}


def _logged_model() -> str:
    """A tiny logged model (what is registered does not matter here, only its tags)."""
    from sklearn.linear_model import LinearRegression

    from flows import tracking

    x = np.arange(12.0).reshape(6, 2)
    with mlflow.start_run():
        info = tracking.log_sklearn_model(LinearRegression().fit(x, x[:, 0]))
    return info.model_uri


def _register(name: str, val: float, test: float, **kwargs):
    from flows import tracking

    return tracking.register_and_promote(
        _logged_model(), name, metric="val_r2", value=val, tags={"test_r2": test}, **kwargs
    )


def test_better_test_worse_validation_does_not_take_the_alias(mlflow_env) -> None:
    first = _register("champ-val", val=0.50, test=0.20, comparable=SAME)
    second = _register("champ-val", val=0.40, test=0.90, comparable=SAME)
    assert first.promoted and not second.promoted
    assert "does not beat champion v1" in second.reason
    alias = mlflow.MlflowClient().get_model_version_by_alias("champ-val", "champion")
    assert alias.version == first.version
    third = _register("champ-val", val=0.60, test=0.10, comparable=SAME)
    assert third.promoted and third.previous_champion == first.version and third.reason == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dataset_hash": "d2"}, "dataset_hash"),
        ({"split": "n_mut:3"}, "split"),
        ({"validation": "cv:5"}, "validation"),
    ],
)
def test_unlike_versions_are_not_compared(mlflow_env, change, message) -> None:
    name = f"champ-unlike-{message}"
    first = _register(name, val=0.2, test=0.2, comparable=SAME)
    other = _register(name, val=0.9, test=0.9, comparable={**SAME, **change})
    assert first.promoted and not other.promoted
    assert message in other.reason and "not comparable" in other.reason
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias(name, "champion").version == first.version
    assert client.get_model_version(name, other.version).tags[message] == str(change[message])


def test_other_metric_is_not_compared(mlflow_env) -> None:
    from flows import tracking

    first = _register("champ-metric", val=0.2, test=0.2)
    other = tracking.register_and_promote(_logged_model(), "champ-metric", metric="val_auc", value=0.99)
    assert first.promoted and not other.promoted and "not comparable" in other.reason


def test_hold_registers_without_alias_and_tags_unreliable(mlflow_env) -> None:
    held = _register("champ-hold", val=0.3, test=0.3, comparable=SAME, hold="validation too small")
    assert not held.promoted and held.reason == "validation too small"
    client = mlflow.MlflowClient()
    assert client.get_model_version("champ-hold", held.version).tags["reliable"] == "false"
    with pytest.raises(mlflow.exceptions.MlflowException):
        client.get_model_version_by_alias("champ-hold", "champion")
