"""The DynaSig-ML track's options, declared once.

:class:`DynasigConfig` is what every entry point builds (the ``dynamotif dynasig`` CLI, ``python -m
components.dynasig_ml``, the Prefect flow, ``mlproject/MLproject``, the benchmarks) and what
:mod:`components.dynasig_ml.run` consumes. It is frozen and validated on construction: a wrong type,
an unknown key (:meth:`DynasigConfig.from_mapping`) or a malformed split/validation/model spec fails
with one line naming the option.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.common.errors import InputError
from components.common.typed_config import coerce_fields, config_from_mapping, config_to_dict
from components.encom.params import DEFAULT_BETAS, DEFAULT_PARAMS, PARAMETER_SETS

__all__ = ["DynasigConfig", "DEFAULT_SPLIT", "DEFAULT_VALIDATION"]

#: works on any table: a seeded random 20 % test set
DEFAULT_SPLIT = "random:0.2"
DEFAULT_VALIDATION = "split:0.2"


@dataclass(frozen=True)
class DynasigConfig:
    """Inputs and settings of one DynaSig-ML run (Mailhot et al., Bioinformatics 2023).

    Attributes
    ----------
    structure : Path
        WT structure (PDB or mmCIF).
    variants : Path
        Variants table (CSV/TSV/Parquet) with a variant column and the target.
    target : str
        Column to predict (required: no dataset-specific default).
    features : tuple of str
        Extra per-variant predictor columns (e.g. ``mcfold_energy``).
    split : str
        Train/test split: ``random:0.2`` (default, seeded), ``n_mut:3``, ``column:NAME``, ``ids:FILE``;
        or an outer cross-validation, ``cv:K`` (random folds) or ``cv-grouped:K`` (folds by mutated
        position: for single mutants, by residue), which reports out-of-fold predictions over every
        variant and registers no model.
    models : tuple of str
        Model specs (``lasso``, ``rf``, ``hgb:max_iter=100``, a dotted class path with params).
    predictors : tuple of str
        Predictor sets fitted for every model: ``signatures``, ``features``, ``both``, the
        ENCoM-derived ``delta``, ``svib``, ``dynamics``, ``structure``, ``aa``, ``local`` (every
        position-invariant block) or ``+`` combinations such as ``local+features``
        (:mod:`components.dynasig_ml.predictors`); empty means ``both`` with features, else
        ``signatures``.
    signatures : Path or None
        Precomputed signatures (NPZ or long/wide table) instead of mutation + ENCoM.
    betas : tuple of float
        β grid of the Entropic Signatures (default: DynaSig-ML's 13 values e^(k/2), k = -6..6).
    validation : str
        Selection inside the training set: ``split:0.2``, ``cv:5``, ``cv-strict:5`` or
        ``cv-positions:5`` (what each guarantees: :mod:`components.dynasig_ml.splits`).
    seed : int
    name : str
        Registered model name (and run name).
    skip_invalid : bool
        Leave out rows whose variant does not fit the WT structure (WT letter, missing residue...),
        written to ``rejected.csv`` in the work folder, instead of failing.
    strict : bool
        Fail on rows with a missing target/feature instead of dropping them.
    chunk_size : int
        Variants per signature chunk (unit of caching and of parallel work).
    work_dir : Path or None
        Local outputs and the signature cache (default: a fresh temporary folder).
    variant_column : str
    encom_params : str
        ENCoM parameter set.
    experiment : str or None
        MLflow experiment (flows only; default ``dynamotif-dynasig``).
    register : bool
        Register the best model (flows only).
    bootstrap : int
        Bootstrap resamples for the confidence intervals of validation and test metrics (0: none).
    """

    structure: Path = field(metadata={"help": "the WT structure, PDB or mmCIF (--structure)"})
    variants: Path = field(metadata={"help": "the variants table, CSV/TSV/Parquet (--variants)"})
    target: str = field(metadata={"help": "the column of the variants table to predict (--target)"})
    features: tuple[str, ...] = ()
    split: str = DEFAULT_SPLIT
    models: tuple[str, ...] = ("lasso",)
    predictors: tuple[str, ...] = ()
    signatures: Path | None = None
    betas: tuple[float, ...] = tuple(DEFAULT_BETAS)
    validation: str = DEFAULT_VALIDATION
    seed: int = 0
    name: str = "dynasig"
    strict: bool = False
    skip_invalid: bool = False
    chunk_size: int = 25
    work_dir: Path | None = None
    variant_column: str = "variant"
    encom_params: str = DEFAULT_PARAMS
    experiment: str | None = None
    register: bool = True
    bootstrap: int = 1000

    def __post_init__(self) -> None:
        coerce_fields(self)
        self.validate()

    def validate(self) -> None:
        """Check every value that can be checked without reading the inputs.

        Raises
        ------
        InputError
            Naming the option: empty target, bad split/validation/model spec, unknown predictor set,
            β not positive, chunk size < 1, unknown ENCoM parameter set.
        """
        from components.dynasig_ml.models import parse_model_spec
        from components.dynasig_ml.predictors import parse_predictors
        from components.dynasig_ml.splits import check_split_spec, parse_validation

        if not self.target.strip():
            raise InputError("option 'target' is empty: name the column of the variants table to predict")
        check_split_spec(self.split)
        parse_validation(self.validation)
        if not self.models:
            raise InputError("option 'models' is empty: give at least one model, e.g. lasso")
        for m in self.models:
            parse_model_spec(m)
        for preds in self.predictors:
            try:
                parse_predictors(preds)
            except InputError as exc:
                raise InputError(f"option 'predictors': {exc.reason}") from None
        if not self.betas or any(b <= 0 for b in self.betas):
            raise InputError(f"option 'betas' must be positive numbers, got {list(self.betas)}")
        if self.chunk_size < 1:
            raise InputError(f"option 'chunk_size' must be >= 1, got {self.chunk_size}")
        if self.bootstrap < 0:
            raise InputError(f"option 'bootstrap' must be >= 0, got {self.bootstrap}")
        if self.encom_params not in PARAMETER_SETS:
            raise InputError(
                f"option 'encom_params': unknown parameter set {self.encom_params!r}; "
                f"use {', '.join(sorted(PARAMETER_SETS))}"
            )

    @property
    def predictor_sets(self) -> tuple[str, ...]:
        """The predictor sets to fit (the default depends on whether features are given)."""
        return self.predictors or (("both",) if self.features else ("signatures",))

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> DynasigConfig:
        """Build from a mapping (JSON params file, CLI options); unknown keys and wrong types are errors."""
        return config_from_mapping(cls, mapping)

    def replace(self, **changes: Any) -> DynasigConfig:
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (paths as strings, tuples as lists)."""
        return config_to_dict(self)
