"""Serving hardening: the helpers of components.common.serving, and a real ``mlflow models serve``."""

from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from components.common import serving
from components.common.errors import InputError
from components.mutation.variants import canonical_variant
from tests.conftest import REPO


def _status(exc: MlflowException) -> int:
    return exc.get_http_status_code()


def test_bad_request_is_http_400():
    exc = serving.bad_request("nope")
    assert _status(exc) == 400
    assert json.loads(exc.serialize_as_json())["message"] == "nope"


def test_check_batch_accepts_and_converts():
    df = pd.DataFrame({"variant": ["A12C", "G10U"], "extra": [1, 2]})
    assert serving.check_batch(df, columns=["variant"], max_rows=2) is df
    records = serving.check_batch([{"variant": "A12C"}], columns=["variant"], max_rows=5)
    assert list(records["variant"]) == ["A12C"]
    cols = serving.check_batch({"variant": ["A1C", "C2G"]}, columns=["variant"], max_rows=5)
    assert len(cols) == 2


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (pd.DataFrame({"variant": []}), "empty batch"),
        (pd.DataFrame({"sequence": ["ACGU"]}), "missing column(s) 'variant' (got 'sequence')"),
        (pd.DataFrame({"variant": ["A12C"] * 4}), "batch of 4 rows exceeds the limit of 3"),
        (pd.DataFrame({"variant": ["A12C", None, " "]}), "column 'variant' is empty in row(s) 1, 2"),
        (np.zeros((2, 3)), "got an array of shape (2, 3)"),
    ],
)
def test_check_batch_refuses_with_clear_message(payload, fragment):
    with pytest.raises(MlflowException) as info:
        serving.check_batch(payload, columns=["variant"], max_rows=3)
    assert _status(info.value) == 400
    assert fragment in info.value.message


def test_batch_limit_from_environment(monkeypatch):
    monkeypatch.setenv(serving.MAX_ROWS_ENV, "2")
    assert serving.batch_limit() == 2
    with pytest.raises(MlflowException, match="limit of 2 rows"):
        serving.check_batch(pd.DataFrame({"variant": ["A1C"] * 3}), columns=["variant"])
    monkeypatch.setenv(serving.MAX_ROWS_ENV, "zero")
    with pytest.raises(ValueError, match=serving.MAX_ROWS_ENV):
        serving.batch_limit()
    monkeypatch.delenv(serving.MAX_ROWS_ENV)
    assert serving.batch_limit() == serving.DEFAULT_MAX_ROWS


def test_validate_column_collects_every_bad_row():
    assert serving.validate_column(["C12A;A3G"], canonical_variant, column="variant") == ["A3G;C12A"]
    values = ["A12C", "hello", "A1C;A1G"] + ["x"] * 7
    with pytest.raises(MlflowException) as info:
        serving.validate_column(values, canonical_variant, column="variant")
    msg = info.value.message
    assert _status(info.value) == 400
    assert msg.startswith("9 invalid value(s) in column 'variant': row 1 'hello': ")
    assert "row 2 'A1C;A1G': " in msg and "two mutations at one residue" in msg
    assert msg.endswith("(and 4 more)")


def test_guarded_predict_maps_input_errors_only():
    class Model:
        @serving.guarded_predict(columns=["variant"], max_rows=10)
        def predict(self, context, model_input, params=None):
            if model_input["variant"].iloc[0] == "bug":
                raise RuntimeError("a real bug")
            raise InputError("no such residue 12", record="A12C")

    with pytest.raises(MlflowException) as info:
        Model().predict(None, pd.DataFrame({"variant": ["A12C"]}))
    assert _status(info.value) == 400 and "no such residue 12" in info.value.message
    with pytest.raises(RuntimeError, match="a real bug"):  # bugs are not disguised as bad input
        Model().predict(None, pd.DataFrame({"variant": ["bug"]}))
    with pytest.raises(MlflowException, match="missing column"):
        Model().predict(None, pd.DataFrame({"seq": ["A"]}))


# --- a real model server -----------------------------------------------------------------------


def _bench():
    spec = importlib.util.spec_from_file_location("serve_load", REPO / "benchmarks" / "serve_load.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["serve_load"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    bench = _bench()
    work = tmp_path_factory.mktemp("serve")
    tracking = f"sqlite:///{work / 'mlflow.db'}"
    uri = bench.register_stand_in_model(tracking, work, name="serve-test")
    port = bench.free_port()
    proc = bench.start_server(uri, port, tracking_uri=tracking, env={serving.MAX_ROWS_ENV: "50"})
    url = f"http://127.0.0.1:{port}"
    try:
        bench.wait_ready(proc, url, timeout_s=150)
        yield bench, url
    finally:
        bench.stop_server(proc)


@pytest.mark.integration
def test_served_model_answers_and_refuses_bad_input_with_4xx(served):
    bench, url = served
    status, text = bench.post(url, json.dumps({"dataframe_records": [{"variant": "C74A_A12C"}]}).encode())
    assert status == 200, text
    pred = json.loads(text)["predictions"]
    assert pred[0]["variant"] == "A12C;C74A" and isinstance(pred[0]["prediction"], float)

    answers = {
        case: bench.post(url, body, ctype) for case, (body, ctype) in bench.malformed_cases(50).items()
    }
    for case, (status, text) in answers.items():
        assert 400 <= status < 500, f"{case}: {status} {text[:300]}"
    # Our own refusals carry a clear message and no server traceback.
    for case, fragment in {
        "invalid_variant": "1 invalid value(s) in column 'variant': row 1 'hello'",
        "position_twice": "two mutations at one residue",
        "huge_batch": "batch of 51 rows exceeds the limit of 50 rows",
        "null_variant": "column 'variant' is empty in row(s) 0",
    }.items():
        status, text = answers[case]
        body = json.loads(text)
        assert body["error_code"] == "INVALID_PARAMETER_VALUE", (case, text[:300])
        assert fragment in body["message"], (case, body["message"][:300])
        assert "stack_trace" not in body and "Traceback" not in text
    # MLflow's schema enforcement (before predict) names the missing column; an empty record list
    # has no columns at all, so it is refused the same way.
    for case in ("wrong_columns", "empty_batch"):
        assert "Model is missing inputs ['variant']" in json.loads(answers[case][1])["message"], case
