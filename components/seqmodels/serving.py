"""The served sequence model: raw sequences in, named predictions out (MLflow "models from code").

This file is logged as the model's code (``mlflow.pyfunc.log_model(python_model=<this file>,
artifacts={"bundle": DIR})``): loading the model runs this module, which builds the wrapper from the
bundle's ``weights.pt`` (read with ``torch.load(weights_only=True)``) and ``bundle.json``; nothing is
unpickled. It imports neither Prefect nor ``flows``.

Input: a table with a ``sequence`` column (and optionally ``structure`` dot-brackets; the model folds
the sequences itself when it uses structure). Output: one column per model output, named by
:func:`components.seqmodels.bundle.prediction_columns` (``p_<class>``, ``pred_<target>``).
"""

from __future__ import annotations

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

__all__ = ["SequencePyfunc"]


class SequencePyfunc(PythonModel):
    """Serves a :class:`~components.seqmodels.bundle.SequenceModel` (artifact ``bundle``)."""

    # predict's input is hinted pd.DataFrame only: MLflow builds no schema from it (the input example
    # does) and, unlike no hint at all, it keeps MLflow from printing a warning on every load
    def load_context(self, context):  # type: ignore[no-untyped-def]
        from components.seqmodels.bundle import load_bundle

        self.bundle = load_bundle(context.artifacts["bundle"])

    def predict(self, context, model_input: pd.DataFrame, params=None):  # type: ignore[no-untyped-def]
        from components.common.serving import check_batch, input_errors_as_bad_request
        from components.seqmodels.bundle import predict_frame

        df = check_batch(model_input, columns=["sequence"])
        seqs = [str(s).strip().upper() for s in df["sequence"]]
        dbs = [str(s) for s in df["structure"]] if "structure" in df.columns else None
        with input_errors_as_bad_request():
            return predict_frame(self.bundle, seqs, dotbrackets=dbs)


set_model(SequencePyfunc())
