"""A small variant-effect model served by ``benchmarks/serve_load.py`` and ``tests/serving``.

MLflow "models from code": this file is copied into the logged model and executed when the model
loads. It is an additive per-position model (weights from a JSON artifact) behind the same input
contract as the DynaSig pyfunc (a ``variant`` column of strings such as ``A12C;C74A``), validated at
the boundary with :mod:`components.common.serving`, so the load test measures the serving path, not ENCoM.
"""

from __future__ import annotations

import json
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

from components.common.serving import guarded_predict, validate_column
from components.mutation.variants import canonical_variant, mutation_positions


class VariantEffectModel(PythonModel):
    """prediction = intercept + sum of the weights of the mutated positions."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts["weights"]) as fh:
            weights = json.load(fh)
        self.intercept = float(weights["intercept"])
        self.per_position = {int(k): float(v) for k, v in weights["positions"].items()}

    @guarded_predict(columns=["variant"])
    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        keys = validate_column(model_input["variant"], canonical_variant, column="variant")
        preds = [
            self.intercept + sum(self.per_position.get(p, 0.0) for p in mutation_positions(k)) for k in keys
        ]
        return pd.DataFrame({"variant": keys, "prediction": preds})


mlflow.models.set_model(VariantEffectModel())
