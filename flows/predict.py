"""Predictions from a registered model: ``models:/NAME@champion`` + a table -> a table.

Generic over the project's pyfunc models: DynaSig models take a DataFrame with a ``variant`` column
(+ the extra feature columns they were trained with, e.g. ``mcfold_energy``) and run mutation +
ENCoM signatures inside; sequence models take a ``sequence`` column. Whatever the model returns
(a Series, an array or a DataFrame) is joined to the input rows.

:class:`DynaSigPyfunc` is the pyfunc wrapper the DynaSig flow registers; serving it with
``mlflow models serve -m models:/NAME@champion --env-manager local`` answers
``{"dataframe_records": [{"variant": "A12C;C74A"}]}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from prefect import flow

__all__ = ["DynaSigPyfunc", "predict_table", "predict_flow", "refusal_reason", "to_frame"]


class DynaSigPyfunc(mlflow.pyfunc.PythonModel):
    """Variant strings -> mutation -> signatures -> standardise -> model (artifact ``pipeline``)."""

    # predict's input is annotated pd.DataFrame only: a hint MLflow builds no schema from (the logged
    # signature comes from the input example) and the one that keeps it from warning on every load
    def load_context(self, context):  # type: ignore[no-untyped-def]
        from components.dynasig_ml import DynaSigPipeline

        self.pipeline = DynaSigPipeline.load(context.artifacts["pipeline"])
        if self.pipeline.needs_signatures:  # compile ENCoM's kernels now, not in the first request
            from components.dynasig_ml import variant_signatures

            variant_signatures(
                self.pipeline.wt_pdb, ["WT"], [self.pipeline.fitted.beta], params=self.pipeline.params
            )

    def predict(self, context, model_input: pd.DataFrame, params=None):  # type: ignore[no-untyped-def]
        from flows.serving import check_batch, input_errors_as_bad_request

        df = check_batch(model_input, columns=self.pipeline.input_columns)
        with input_errors_as_bad_request():
            pred = self.pipeline.predict_frame(df)
        return pd.DataFrame({"variant": df["variant"].astype(str).to_numpy(), "prediction": pred})


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
        raise InputError(refusal_reason(str(exc.message)), file=input_path) from None
    result = to_frame(table, output)
    write_table(result, out_path)
    return result


_SCHEMA_ERROR = re.compile(
    r"Failed to enforce schema of data '.*' with schema '(?P<schema>.*)'\. Error: (?P<why>.*)", re.S
)


def refusal_reason(message: str) -> str:
    """One line saying why a model refused a table.

    MLflow's schema enforcement quotes the whole input table (several lines) before the reason
    (``Failed to enforce schema of data '   variant\n0  A12C' with schema '[...]'. Error: Model is missing
    inputs ['mcfold_energy'].``); this keeps the reason and the schema the model takes. Other messages
    are joined onto one line.
    """
    m = _SCHEMA_ERROR.match(message.strip())
    if m:
        return f"{' '.join(m['why'].split())} The model takes {m['schema']}."
    return " ".join(message.split())


@flow(name="predict", log_prints=False)
def predict_flow(model_uri: str, input_path: str, out_path: str) -> str:
    """Prefect flow around :func:`predict_table`; returns the output path."""
    predict_table(model_uri, input_path, out_path)
    return str(out_path)
