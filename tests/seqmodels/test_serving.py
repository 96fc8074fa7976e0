"""The served sequence model: models from code, no pickle, no Prefect."""

import subprocess
import sys

from tests.conftest import REPO
from tests.seqmodels.test_training import LENGTH, TINY
from tests.seqmodels.toy import MOTIF, binary_fastas

_LOAD = """
import pickle, sys
import cloudpickle
def refuse(*a, **k):
    raise AssertionError("pickle loading attempted")
pickle.load = pickle.loads = cloudpickle.load = cloudpickle.loads = refuse
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
out = model.predict(pd.DataFrame({"sequence": [sys.argv[2], "GC" * 10]}))
assert list(out.columns) == ["p_bound"] and out["p_bound"][0] > out["p_bound"][1], out
bad = sorted(k for k in sys.modules if k.split(".")[0] in ("prefect", "flows"))
assert not bad, bad
print("ok")
"""


def test_saved_model_loads_without_pickle_and_without_prefect(tmp_path):
    import mlflow

    from components.seqmodels import run
    from components.seqmodels.bundle import save_bundle
    from components.seqmodels.config import SequenceConfig

    pos, neg = binary_fastas(tmp_path, n=60, length=LENGTH)
    cfg = SequenceConfig(data=(f"bound={pos}", f"unbound={neg}"), epochs=4, params=TINY, motifs=False)
    bundle = run.run(cfg)["bundle"]
    bdir = save_bundle(bundle, tmp_path / "bundle")
    code = REPO / "components" / "seqmodels" / "serving.py"
    mlflow.pyfunc.save_model(tmp_path / "model", python_model=str(code), artifacts={"bundle": str(bdir)})
    assert not list((tmp_path / "model").rglob("*.pkl"))  # the wrapper is code, not a pickle
    res = subprocess.run(
        [sys.executable, "-c", _LOAD, str(tmp_path / "model"), "ACGU" * 3 + MOTIF],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-2000:]
