"""Predictions from a registered model: ``models:/NAME@champion`` + a table -> a table.

Generic over the project's pyfunc models: DynaSig models take a DataFrame with a ``variant`` column
(+ the extra feature columns they were trained with, e.g. ``mcfold_energy``) and run mutation +
ENCoM signatures inside; sequence models take a ``sequence`` column. Whatever the model returns
(a Series, an array or a DataFrame) is joined to the input rows.

The DynaSig pyfunc lives in :mod:`components.dynasig_ml.serving` (logged as models-from-code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from prefect import flow

__all__ = ["predict_table", "predict_flow", "to_frame"]


def to_frame(inputs: pd.DataFrame, output: Any) -> pd.DataFrame:
    """Join a model's output to its input rows (columns ``prediction`` or the model's own names)."""
    if isinstance(output, pd.DataFrame):
        out = output.reset_index(drop=True)
        keep = [c for c in out.columns if c not in inputs.columns]
        return pd.concat([inputs.reset_index(drop=True), out[keep]], axis=1)
    arr = np.asarray(output)
    res = inputs.reset_index(drop=True).copy()
    if arr.ndim == 1:
        res["prediction"] = arr
    else:
        for j in range(arr.shape[1]):
            res[f"prediction_{j}"] = arr[:, j]
    return res


def predict_table(model_uri: str, input_path: str | Path, out_path: str | Path) -> pd.DataFrame:
    """Load ``model_uri`` (via :mod:`flows.tracking`), predict every row of ``input_path``, write ``out_path``."""
    from components.common.errors import InputError
    from components.common.io import read_table, write_table
    from flows import tracking

    table = read_table(input_path)
    if not ({"variant", "sequence"} & set(table.columns)):
        raise InputError("input needs a 'variant' or a 'sequence' column", file=input_path)
    model = tracking.load_pyfunc(model_uri)
    try:
        output = model.predict(table)
    except mlflow.exceptions.MlflowException as exc:  # a 400 from the wrapper: bad input rows
        raise InputError(str(exc.message).splitlines()[0], file=input_path) from None
    result = to_frame(table, output)
    write_table(result, out_path)
    return result


@flow(name="predict", log_prints=False)
def predict_flow(model_uri: str, input_path: str, out_path: str) -> str:
    """Prefect flow around :func:`predict_table`; returns the output path."""
    predict_table(model_uri, input_path, out_path)
    return str(out_path)
