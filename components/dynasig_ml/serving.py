"""The served DynaSig model: variant strings -> mutation -> signatures -> standardise -> model.

Logged with MLflow "models from code" (``python_model`` is this file's path, :func:`mlflow.models.set_model`
below), so loading a registered model runs this module and unpickles nothing: the estimator is read
from skops with an explicit trusted-types list (:mod:`components.dynasig_ml.pipeline`), the rest is JSON
and a PDB file. Imports neither Prefect nor the flows. Serve with
``mlflow models serve -m models:/NAME@champion --env-manager local``; it answers
``{"dataframe_records": [{"variant": "A12C;C74A"}]}`` (plus the model's feature columns, if any).
"""

from __future__ import annotations

import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

from components.common.serving import bad_request, check_batch, input_errors_as_bad_request

__all__ = ["DynaSigPyfunc"]


class DynaSigPyfunc(PythonModel):
    """Variant strings -> predictions (artifact ``pipeline``: a :class:`DynaSigPipeline` folder)."""

    # predict's input is hinted pd.DataFrame only: MLflow builds no schema from it (the input example
    # does) and, unlike no hint at all, it keeps MLflow from printing a warning on every load
    def load_context(self, context):  # type: ignore[no-untyped-def]
        from components.dynasig_ml.pipeline import DynaSigPipeline, variant_signatures

        self.pipeline = DynaSigPipeline.load(context.artifacts["pipeline"])
        if self.pipeline.needs_signatures:  # compile ENCoM's kernels now, not in the first request
            variant_signatures(
                self.pipeline.wt_pdb, ["WT"], [self.pipeline.fitted.beta], params=self.pipeline.params
            )

    def predict(self, context, model_input: pd.DataFrame, params=None):  # type: ignore[no-untyped-def]
        df = check_batch(model_input, columns=self.pipeline.input_columns)
        bad = [i for i, v in enumerate(df["variant"]) if not isinstance(v, str)]
        if bad:
            value = df["variant"].iloc[bad[0]]
            raise bad_request(
                f"column 'variant' must hold variant strings such as 'A12C;C74A'; row {bad[0]} is {value!r}"
            )
        with input_errors_as_bad_request():
            pred = self.pipeline.predict_frame(df)
        return pd.DataFrame({"variant": df["variant"].to_numpy(), "prediction": pred})


set_model(DynaSigPyfunc())
