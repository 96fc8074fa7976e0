"""The served DynaSig model loads without unpickling anything and without Prefect or the flows."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from tests.conftest import EXAMPLES, REPO

pytestmark = pytest.mark.integration

WT = EXAMPLES / "mir125a" / "mir125a_WT.pdb"

LOAD_WITHOUT_PICKLE = """
import json, pickle, sys
import cloudpickle, joblib

def refuse(*args, **kwargs):
    raise RuntimeError("unpickling refused")

pickle.load = pickle.loads = cloudpickle.load = cloudpickle.loads = joblib.load = refuse
import mlflow
import pandas as pd

model = mlflow.pyfunc.load_model(sys.argv[1])
out = model.predict(pd.DataFrame({"variant": ["A12C;C74A", "WT"], "energy": [1.0, -2.0]}))
print(json.dumps({
    "prediction": out["prediction"].tolist(),
    "prefect": sorted(k for k in sys.modules if k == "prefect" or k.startswith("prefect.")),
    "flows": sorted(k for k in sys.modules if k == "flows" or k.startswith("flows.")),
}))
"""


def _fitted(model: str):
    """A features-only DynaSig model (no ENCoM needed to serve it)."""
    from components.dynasig_ml import FittedModel, make_estimator, parse_model_spec

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1))
    y = 2.0 * x[:, 0] + rng.normal(scale=0.1, size=40)
    est = make_estimator(parse_model_spec(model), seed=0).fit(x, y)
    return FittedModel(model, "features", None, None, ["energy"], [], np.zeros(1), np.ones(1), est, "eff")


@pytest.fixture(scope="module")
def registered(mlflow_server, tmp_path_factory) -> dict[str, str]:
    """One registered models-from-code DynaSig model per estimator family (linear, trees)."""
    from components.dynasig_ml.pipeline import DynaSigPipeline
    from components.dynasig_ml.run import MODEL_CODE
    from flows import tracking

    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    mlflow.set_tracking_uri(mlflow_server)
    uris = {}
    for model in ("lasso", "rf:n_estimators=5"):
        folder = DynaSigPipeline(_fitted(model), WT).save(tmp_path_factory.mktemp("pipe") / "pipeline")
        with mlflow.start_run():
            info = tracking.log_pyfunc_model(
                str(MODEL_CODE),
                artifacts={"pipeline": str(folder)},
                input_example=pd.DataFrame({"variant": ["A12C"], "energy": [0.5]}),
            )
        name = f"serving-{model.split(':')[0]}"
        tracking.register_and_promote(info.model_uri, name, metric="val_r2", value=0.5)
        uris[model] = f"models:/{name}@champion"
    yield uris
    mp.undo()


@pytest.mark.parametrize("model", ["lasso", "rf:n_estimators=5"])
def test_registered_model_loads_without_pickle_or_prefect(registered, mlflow_server, model) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_WITHOUT_PICKLE, registered[model]],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"MLFLOW_TRACKING_URI": mlflow_server, "PATH": "", "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["prefect"] == [] and out["flows"] == []
    expected = _fitted(model).predict(np.array([[1.0], [-2.0]]))
    np.testing.assert_allclose(out["prediction"], expected, rtol=1e-12)


@pytest.mark.parametrize("value", [5, 5.5, True])
def test_non_string_variant_is_a_bad_request(registered, value) -> None:
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, ErrorCode

    model = mlflow.pyfunc.load_model(registered["lasso"])
    with pytest.raises(MlflowException) as err:
        model.predict(pd.DataFrame({"variant": [value], "energy": [1.0]}))
    assert err.value.error_code == ErrorCode.Name(INVALID_PARAMETER_VALUE)
    assert "variant" in err.value.message
