"""DynaSig-ML: learn variant effects from ENCoM Dynamical Signatures, with honest model selection.

Mailhot, Major & Najmanovich, Bioinformatics 2023 (doi:10.1093/bioinformatics/btad180), re-implemented
with selection on validation data only (never the test set), standardisation fitted on training data,
seeds everywhere and the plain top-k EF10 % (plus DynaSig-ML's own ``_get_ef`` for comparisons).

Pure functions and small dataclasses; no MLflow or Prefect here (the flow is ``flows/dynasig.py``).
"""

from components.dynasig_ml.coefmap import CoefficientMap, map_coefficients
from components.dynasig_ml.data import (
    Dataset,
    SignatureSet,
    build_dataset,
    load_signatures,
    save_signatures,
    signatures_from_frame,
)
from components.dynasig_ml.fit import (
    PREDICTOR_SETS,
    FittedModel,
    ModelResult,
    best_result,
    fit_model,
    fit_models,
)
from components.dynasig_ml.metrics import ef_dynasigml, ef_topk, pearson_r, r2, rmse, score_all, spearman_rho
from components.dynasig_ml.models import DEFAULT_ALPHAS, ModelSpec, make_estimator, parse_model_spec
from components.dynasig_ml.pipeline import DynaSigPipeline, signature_labels, variant_signatures
from components.dynasig_ml.splits import Split, make_split, validation_folds
from components.mutation.variants import WT, canonical_variant, mutation_positions, n_mutations

__all__ = [
    "CoefficientMap",
    "DEFAULT_ALPHAS",
    "Dataset",
    "DynaSigPipeline",
    "FittedModel",
    "ModelResult",
    "ModelSpec",
    "PREDICTOR_SETS",
    "SignatureSet",
    "Split",
    "WT",
    "best_result",
    "build_dataset",
    "canonical_variant",
    "ef_dynasigml",
    "ef_topk",
    "fit_model",
    "fit_models",
    "load_signatures",
    "make_estimator",
    "make_split",
    "map_coefficients",
    "mutation_positions",
    "n_mutations",
    "parse_model_spec",
    "pearson_r",
    "r2",
    "rmse",
    "save_signatures",
    "score_all",
    "signature_labels",
    "signatures_from_frame",
    "spearman_rho",
    "validation_folds",
    "variant_signatures",
]
