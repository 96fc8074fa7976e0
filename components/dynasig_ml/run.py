"""The DynaSig-ML track, step by step: the one place where its pipeline is composed.

Every entry point goes through these functions: the Prefect flow (``flows/dynasig.py`` wraps each step
in a task), ``dynamotif dynasig``, ``python -m components.dynasig_ml`` (:func:`run`, no Prefect or
MLflow), ``mlproject/MLproject`` and the benchmarks. Each step takes and returns typed values::

    load_inputs(config)                      -> Inputs        (every check that needs no signatures)
    plan_signatures(inputs)                  -> [SignatureChunk]  (content-keyed cache files)
    compute_chunk(chunk)                     -> ChunkStats    (mutation + ENCoM, skipped when cached)
    gather_signatures(inputs, paths)         -> SignatureSet
    prepare_data(inputs, signatures)         -> Prepared      (aligned dataset + train/test split)
    plan_fits(config)                        -> [FitJob]      (unique labels)
    fit_job(prepared, job)                   -> ModelResult   (selection on validation data only)
    cross_validate_job(prepared, job, cfg)   -> CVResult      (outer cv:K / cv-grouped:K splits only)
    select_cv(prepared, cv_results)          -> CVResult      (per outer fold, best inner validation)
    evaluate(result, config)                 -> Evaluation    (bootstrap intervals, reliability)
    model_graphs(result, out_dir)            -> {name: png}
    coefficient_map(inputs, results)         -> CoefficientMap | None
    save_pipeline(inputs, best)              -> folder of the servable model (no pickle)
    summarize(...)                           -> dict, written as summary.json

Mailhot, Major & Najmanovich, Bioinformatics 2023 (DynaSig-ML); Frappier & Najmanovich 2014 (ENCoM).
"""

from __future__ import annotations

import hashlib
import logging
import math
import tempfile
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.errors import DynamotifWarning, InputError
from components.dynasig_ml.coefmap import CoefficientMap, map_coefficients
from components.dynasig_ml.config import DynasigConfig
from components.dynasig_ml.crossval import CVResult, cross_validate, select_per_fold
from components.dynasig_ml.data import Dataset, SignatureSet, build_dataset, load_signatures
from components.dynasig_ml.fit import ModelResult, best_result, fit_model, fit_plan
from components.dynasig_ml.metrics import CI_METRICS, bootstrap_ci, improvement_ci
from components.dynasig_ml.models import ModelSpec, parse_model_spec
from components.dynasig_ml.predictors import ResidueContext, needs_wt, residue_context
from components.dynasig_ml.signature_cache import (
    ChunkStats,
    SignatureChunk,
    compute_chunk,
    compute_signature_chunks,
    load_chunks,
    plan_chunks,
)
from components.dynasig_ml.splits import Split, is_outer_cv, make_split, outer_folds, validation_folds
from components.mutation.variants import canonical_variant

__all__ = [
    "Inputs",
    "Prepared",
    "FitJob",
    "Evaluation",
    "MIN_SELECTION_ROWS",
    "MODEL_CODE",
    "load_inputs",
    "plan_signatures",
    "compute_chunk",
    "gather_signatures",
    "prepare_data",
    "plan_fits",
    "fit_job",
    "cross_validate_job",
    "select_cv",
    "cv_rows",
    "cv_graph",
    "summarize_cv",
    "evaluate",
    "model_graphs",
    "coefficient_map",
    "save_pipeline",
    "input_example",
    "summarize",
    "run",
    "ChunkStats",
    "fit_betas",
    "model_rows",
]

log = logging.getLogger("dynamotif.dynasig")

#: the served model's code, logged by path (MLflow "models from code"; see ``serving.py``)
MODEL_CODE = Path(__file__).with_name("serving.py")

#: below this many variants a validation or test score is too noisy to select or report on alone
MIN_SELECTION_ROWS = 30


@dataclass(frozen=True)
class Inputs:
    """Checked inputs of a run.

    Attributes
    ----------
    config : DynasigConfig
    table : DataFrame
        The variants table as read.
    keys : tuple of str
        Unique canonical keys of the variants whose signatures are needed (empty with precomputed ones).
    dataset_hash : str
        SHA-256 over the table's content and the WT structure's bytes.
    out_dir : Path
        Local outputs (plots, coefficient map, pipeline, summary) and the signature cache.
    n_rejected : int
        Rows left out because their variant does not fit the structure (``skip_invalid``; listed in
        ``out_dir/rejected.csv``).
    """

    config: DynasigConfig
    table: pd.DataFrame
    keys: tuple[str, ...]
    dataset_hash: str
    out_dir: Path
    n_rejected: int = 0

    @property
    def cache_dir(self) -> Path:
        return self.out_dir / "signature_cache"


@dataclass(frozen=True)
class Prepared:
    """The aligned dataset, its split and the warnings raised while building them.

    Under an outer cross-validation (``cv:K``, ``cv-grouped:K``) ``folds`` holds its K splits and
    ``split`` trains on every variant and tests none.
    """

    data: Dataset
    split: Split
    warnings: tuple[str, ...] = ()
    n_rejected: int = 0
    folds: tuple[Split, ...] = ()

    def counts(self) -> dict[str, int]:
        return {
            "n_rejected": self.n_rejected,
            "n_variants": len(self.data) + self.data.n_dropped,
            "n_used": len(self.data),
            "n_dropped": self.data.n_dropped,
            "n_train": int(self.split.train.size),
            "n_test": int(self.split.test.size),
        }


@dataclass(frozen=True)
class FitJob:
    """One model to fit: a unique label, the model spec and the predictor set."""

    label: str
    spec: ModelSpec
    predictors: str


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one fitted model with bootstrap intervals, and whether its selection is reliable.

    Intervals of validation metrics are over the pooled out-of-fold predictions. ``reliable`` is False
    when the model does not lower the mean predictor's squared error on the validation rows beyond the
    bootstrap interval (lower bound of the per-variant gain <= 0): such a model must not take the
    ``champion`` alias.
    """

    label: str
    metrics: dict[str, float]
    reliable: bool
    warnings: tuple[str, ...]
    reason: str = ""


def _caught(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DynamotifWarning)
        value = fn(*args, **kwargs)
    return value, [str(w.message) for w in caught if issubclass(w.category, DynamotifWarning)]


def _context(cfg: DynasigConfig, sigs: SignatureSet | None) -> ResidueContext | None:
    """The WT context of the ENCoM-derived predictor blocks, when a predictor set needs it."""
    if sigs is None or not any(needs_wt(p) for p in cfg.predictor_sets):
        return None
    from components.encom.structure import read_structure

    if "WT" not in sigs:
        raise InputError(
            f"predictor sets {', '.join(cfg.predictor_sets)} need the WT's signature: include a WT row "
            "in the signatures"
        )
    wt_row = int(sigs.rows(["WT"])[0])
    return residue_context(read_structure(cfg.structure), sigs.values[:, wt_row], sigs.labels, sigs.betas)


def _dataset(cfg: DynasigConfig, table: pd.DataFrame, sigs: SignatureSet | None) -> tuple[Dataset, list[str]]:
    """The table aligned with ``sigs`` (and the dropped-row warnings)."""
    return _caught(
        build_dataset,
        table,
        cfg.target,
        signatures=sigs,
        features=list(cfg.features),
        variant_column=cfg.variant_column,
        strict=cfg.strict,
        source=cfg.variants.name,
        context=_context(cfg, sigs),
    )


def _variant_texts(values: Sequence[Any]) -> list[str]:
    return ["" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v) for v in values]


def load_inputs(config: DynasigConfig) -> Inputs:
    """Read and check everything that needs no signatures, before any work or tracking starts.

    Missing files/columns, non-numeric targets, missing values with ``strict``, variants that do not
    fit the WT structure (or have no precomputed signature), splits that leave a side empty and
    validation schemes the training set cannot support all fail here with one :class:`InputError`.
    """
    from components.common.io import file_sha256, frame_sha256, read_table

    cfg = config
    if not cfg.structure.exists():
        raise InputError("structure file does not exist", file=cfg.structure)
    table = read_table(cfg.variants, required=[cfg.variant_column, cfg.target, *cfg.features])
    sigs = load_signatures(cfg.signatures) if cfg.signatures else None
    out_dir = Path(cfg.work_dir) if cfg.work_dir else Path(tempfile.mkdtemp(prefix="dynasig-"))
    keys: tuple[str, ...] = ()
    n_rejected = 0
    if sigs is None:
        from components.encom.structure import read_structure
        from components.mutation.core import format_rejections, rejections_frame, screen_table

        table, rejected = screen_table(read_structure(cfg.structure), table, cfg.variant_column)
        if rejected and not cfg.skip_invalid:
            raise InputError(format_rejections(rejected), file=cfg.variants)
        table = table.reset_index(drop=True)
        n_rejected = len(rejected)
        if rejected:
            from components.common.io import write_table

            out_dir.mkdir(parents=True, exist_ok=True)
            write_table(rejections_frame(rejected), out_dir / "rejected.csv")
            log.warning("%d invalid variant row(s) left out (see %s)", n_rejected, out_dir / "rejected.csv")
        if table.empty:
            raise InputError("no variant of the table fits the structure", file=cfg.variants)
        texts = _variant_texts(table[cfg.variant_column].tolist())
        wanted = [canonical_variant(t or "WT", record=f"row {i + 2}") for i, t in enumerate(texts)]
        if any(needs_wt(p) for p in cfg.predictor_sets):
            wanted.append("WT")
        keys = tuple(dict.fromkeys(wanted))
    data, _ = _dataset(cfg, table, sigs)
    for fold in _splits(cfg, data)[1] or [make_split(cfg.split, data, seed=cfg.seed)]:
        validation_folds(fold.train, cfg.validation, seed=cfg.seed, ids=data.ids)
    out_dir.mkdir(parents=True, exist_ok=True)
    dataset_hash = hashlib.sha256((frame_sha256(table) + file_sha256(cfg.structure)).encode()).hexdigest()
    return Inputs(cfg, table, keys, dataset_hash, out_dir, n_rejected)


def plan_signatures(inputs: Inputs) -> list[SignatureChunk]:
    """The signature chunks of the run (none with precomputed signatures)."""
    cfg = inputs.config
    if cfg.signatures or not inputs.keys:
        return []
    return plan_chunks(
        cfg.structure,
        list(inputs.keys),
        cfg.betas,
        inputs.cache_dir,
        params=cfg.encom_params,
        chunk_size=cfg.chunk_size,
    )


def gather_signatures(inputs: Inputs, paths: Sequence[str | Path] = ()) -> SignatureSet:
    """The run's signatures: the precomputed file, or the chunk files in order."""
    if inputs.config.signatures:
        return load_signatures(inputs.config.signatures)
    return load_chunks(list(paths))


def prepare_data(inputs: Inputs, signatures: SignatureSet | None) -> Prepared:
    """Align the table with the signatures and split it (dropped-row warnings are collected)."""
    cfg = inputs.config
    data, caught = _dataset(cfg, inputs.table, signatures)
    split, folds = _splits(cfg, data)
    if not folds and split.test.size < MIN_SELECTION_ROWS:
        caught.append(
            f"the test set has {split.test.size} variants (< {MIN_SELECTION_ROWS}): its metrics are "
            "noisy, read them with their confidence intervals"
        )
    if inputs.n_rejected:
        caught.append(
            f"{inputs.n_rejected} invalid variant row(s) left out (see {inputs.out_dir / 'rejected.csv'})"
        )
    return Prepared(data, split, tuple(caught), inputs.n_rejected, tuple(folds))


def _splits(cfg: DynasigConfig, data: Dataset) -> tuple[Split, list[Split]]:
    """The train/test split, or for an outer cross-validation (all rows, none) and its folds."""
    if not is_outer_cv(cfg.split):
        return make_split(cfg.split, data, seed=cfg.seed), []
    folds = outer_folds(cfg.split, data, seed=cfg.seed)
    return Split(np.arange(len(data)), np.zeros(0, dtype=np.int64), cfg.split), folds


def plan_fits(config: DynasigConfig) -> list[FitJob]:
    """Every (model, predictor set) of the config with a unique label (``hgb-both``, ``hgb-both-2``)."""
    specs = [parse_model_spec(m) for m in config.models]
    return [FitJob(label, spec, preds) for label, spec, preds in fit_plan(specs, config.predictor_sets)]


def fit_betas(config: DynasigConfig, signatures: SignatureSet | None) -> list[float] | None:
    """The configured β values present in ``signatures`` (None: all of them)."""
    if signatures is None:
        return None
    kept = [b for b in config.betas if any(abs(b - s) <= 1e-6 * s for s in signatures.betas)]
    return kept or None


def _selection_settings(prepared: Prepared, job: FitJob, config: DynasigConfig) -> dict[str, Any]:
    """What a fit and a cross-validation share: predictors, β list, validation scheme, seed, label."""
    return {
        "predictors": job.predictors,
        "betas": fit_betas(config, prepared.data.signatures),
        "validation": config.validation,
        "seed": config.seed,
        "label": job.label,
    }


def fit_job(prepared: Prepared, job: FitJob, config: DynasigConfig) -> ModelResult:
    """Fit one model: β/α chosen on validation folds inside the training set; test scored once."""
    return fit_model(prepared.data, prepared.split, job.spec, **_selection_settings(prepared, job, config))


def cross_validate_job(prepared: Prepared, job: FitJob, config: DynasigConfig) -> CVResult:
    """One model over the outer folds: β/α chosen inside each fold's training variants, the held-out
    fold predicted once; out-of-fold predictions and their metrics."""
    return cross_validate(
        prepared.data, prepared.folds, job.spec, **_selection_settings(prepared, job, config)
    )


def select_cv(prepared: Prepared, results: Sequence[CVResult]) -> CVResult:
    """The honestly selected model (label ``selected``): in every outer fold, the candidate with the best
    inner validation R² (the held-out fold never takes part in the choice)."""
    return select_per_fold(prepared.data, prepared.folds, results, label="selected")


def cv_graph(result: CVResult, out_dir: str | Path) -> Path:
    """PNG of the out-of-fold predictions against the measures: ``out_dir/<label>/out_of_fold.png``."""
    from components.dynasig_ml.graphs import plot_out_of_fold, save_figure

    fig = plot_out_of_fold(result.label, result.y, result.oof, result.metrics)
    return save_figure(fig, Path(out_dir) / result.label / "out_of_fold.png")


def cv_rows(results: Sequence[CVResult]) -> pd.DataFrame:
    """One row per model (and the selection): out-of-fold metrics and the mean inner validation R²."""
    rows = []
    for res in results:
        chosen = res.chosen()
        rows.append(
            {
                "model": res.label,
                "chosen": ";".join(sorted({str(c["model"]) for c in chosen})),
                "mean_inner_val_r2": float(np.mean([float(c["val_r2"]) for c in chosen])),  # type: ignore[arg-type]
                **{f"oof_{k}": v for k, v in res.metrics.items()},
            }
        )
    return pd.DataFrame(rows)


def summarize_cv(
    inputs: Inputs,
    prepared: Prepared,
    results: Sequence[CVResult],
    selected: CVResult,
    *,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summary of an outer cross-validation (also ``out_dir/summary.json``; out-of-fold predictions of
    every model in ``out_dir/oof/<label>.csv``)."""
    from components.common.io import write_json, write_table

    for res in [*results, selected]:
        write_table(res.predictions(), inputs.out_dir / "oof" / f"{res.label}.csv")
    summary = {
        "out_dir": str(inputs.out_dir),
        "dataset_hash": inputs.dataset_hash,
        "best": selected.label,
        "selected_per_fold": selected.chosen(),
        "models": cv_rows([*results, selected]).to_dict(orient="records"),
        "folds": [s.describe() for s in prepared.folds],
        "warnings": list(prepared.warnings),
        **prepared.split.describe(),
        **prepared.counts(),
        **(extra or {}),
    }
    summary = _finite(summary)
    write_json(summary, inputs.out_dir / "summary.json")
    return summary


def evaluate(result: ModelResult, config: DynasigConfig) -> Evaluation:
    """Validation and test metrics with bootstrap intervals; reliability of the validation score."""
    metrics: dict[str, float] = {"val_r2": result.val_r2, "val_baseline_r2": result.val_baseline_r2}
    metrics.update({f"test_{k}": v for k, v in result.test_metrics.items()})
    metrics.update({f"train_{k}": v for k, v in result.train_metrics.items()})
    if result.y_val.size:
        metrics["val_pearson_r"] = CI_METRICS["pearson_r"](result.y_val, result.pred_val)
    sides = {"val": (result.y_val, result.pred_val), "test": (result.y_test, result.pred_test)}
    for side, (y, p) in sides.items():
        for name, fn in CI_METRICS.items():
            if config.bootstrap and y.size:
                lo, hi = bootstrap_ci(y, p, fn, n_resamples=config.bootstrap, seed=config.seed)
                metrics[f"{side}_{name}_ci_low"], metrics[f"{side}_{name}_ci_high"] = lo, hi
    notes = []
    n_val = int(result.y_val.size)
    if n_val < MIN_SELECTION_ROWS:
        notes.append(
            f"{result.label}: validation on {n_val} variants (< {MIN_SELECTION_ROWS}) is too small to "
            "select on reliably"
        )
    gain, low, high = improvement_ci(
        result.y_val, result.pred_val, result.base_val, n_resamples=config.bootstrap, seed=config.seed
    )
    metrics.update({"val_gain_over_mean": gain, "val_gain_ci_low": low, "val_gain_ci_high": high})
    reliable = bool(np.isfinite(low) and low > 0)
    reason = ""
    if not reliable:
        reason = (
            f"validation R² {result.val_r2:.3f} does not beat the mean predictor "
            f"({result.val_baseline_r2:.3f}) beyond its interval (squared-error gain per variant "
            f"{gain:.3g}, 95 % interval {low:.3g} to {high:.3g})"
        )
        notes.append(f"{result.label}: {reason}")
    return Evaluation(result.label, metrics, reliable, tuple(notes), reason)


def model_graphs(result: ModelResult, out_dir: str | Path) -> dict[str, Path]:
    """PNG performance graphs of one model in ``out_dir/<label>/`` (name -> file)."""
    from components.dynasig_ml.graphs import (
        plot_coefficients,
        plot_pred_vs_measured,
        plot_r2_vs_alpha,
        plot_r2_vs_beta,
        save_figure,
    )

    figs = {"pred_vs_measured": plot_pred_vs_measured(result), "r2_vs_beta": plot_r2_vs_beta(result)}
    if result.spec.is_lasso:
        figs["r2_vs_alpha"] = plot_r2_vs_alpha(result)
        coef = result.fitted.signature_coefficients()
        if coef is not None:
            figs["coefficients"] = plot_coefficients(
                result.fitted.signature_labels, coef, title=f"{result.label} coefficients"
            )
    folder = Path(out_dir) / result.label
    return {name: save_figure(fig, folder / f"{name}.png") for name, fig in figs.items()}


def coefficient_map(inputs: Inputs, results: Sequence[ModelResult]) -> tuple[str, CoefficientMap] | None:
    """Coefficients of the best signature LASSO (on validation) mapped onto the WT structure."""
    lassos = [r for r in results if r.spec.is_lasso and r.fitted.signature_coefficients() is not None]
    if not lassos:
        return None
    lasso = best_result(lassos)
    coefs = lasso.fitted.signature_coefficients()
    assert coefs is not None
    cmap = map_coefficients(
        inputs.config.structure,
        lasso.fitted.signature_labels,
        coefs,
        inputs.out_dir / "coefficients",
        params=inputs.config.encom_params,
    )
    return lasso.label, cmap


def save_pipeline(inputs: Inputs, best: ModelResult) -> Path:
    """The servable model folder (``pipeline.json`` + NPZ arrays + WT structure; no pickle)."""
    from components.dynasig_ml.pipeline import DynaSigPipeline

    pipe = DynaSigPipeline(
        best.fitted,
        wt_pdb=inputs.config.structure,
        params=inputs.config.encom_params,
        metrics=best.test_metrics,
    )
    return pipe.save(inputs.out_dir / "pipeline")


def input_example(prepared: Prepared, best: ModelResult, variant_column: str) -> pd.DataFrame:
    """One training row as the model's input example (never a test row)."""
    row = prepared.data.table.iloc[[int(prepared.split.train[0])]]
    return pd.DataFrame(
        {
            "variant": [str(row[variant_column].iloc[0])],
            **{f: row[f].to_numpy() for f in best.fitted.feature_names},
        }
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def model_rows(results: Sequence[ModelResult], evaluations: Sequence[Evaluation]) -> pd.DataFrame:
    """One row per model: chosen β/α, validation and test metrics with intervals, reliability."""
    rows = []
    for res, ev in zip(results, evaluations, strict=True):
        rows.append(
            {
                "model": res.label,
                "spec": res.spec.describe(),
                "predictors": res.predictors,
                "beta": res.fitted.beta,
                "alpha": res.fitted.alpha,
                **{k: v for k, v in ev.metrics.items() if not k.startswith("train_")},
                "reliable": ev.reliable,
            }
        )
    return pd.DataFrame(rows)


def summarize(
    inputs: Inputs,
    prepared: Prepared,
    results: Sequence[ModelResult],
    evaluations: Sequence[Evaluation],
    *,
    coefficients: tuple[str, CoefficientMap] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's summary (valid JSON: NaN written as null); also written to ``out_dir/summary.json``."""
    from components.common.io import write_json

    best = best_result(results)
    best_eval = next(e for e in evaluations if e.label == best.label)
    coef_files: dict[str, str] = {}
    if coefficients is not None:
        label, cmap = coefficients
        coef_files = {"pdb": str(cmap.pdb), "pml": str(cmap.pml), "csv": str(cmap.csv), "model": label}
    warn = [*prepared.warnings, *(w for e in evaluations for w in e.warnings)]
    summary = {
        "out_dir": str(inputs.out_dir),
        "dataset_hash": inputs.dataset_hash,
        "best": best.label,
        "best_reliable": best_eval.reliable,
        "models": model_rows(results, evaluations).to_dict(orient="records"),
        "coefficients": coef_files,
        "warnings": warn,
        **prepared.split.describe(),
        **prepared.counts(),
        **(extra or {}),
    }
    summary = _finite(summary)
    write_json(summary, inputs.out_dir / "summary.json")
    return summary


def run(config: DynasigConfig, *, jobs: int = 1, progress: bool = True) -> dict[str, Any]:
    """The whole track without Prefect or MLflow: outputs on disk, the summary returned.

    Writes into ``config.work_dir``: ``summary.json``, ``models.csv``, ``params.json``,
    ``metrics.json``, ``<label>/*.png``, ``coefficients/`` and ``pipeline/`` (the best model).
    """
    from components.common.io import write_json, write_table

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    inputs = load_inputs(config)
    chunks = plan_signatures(inputs)
    sigs: SignatureSet | None
    if chunks:
        sigs, _stats = compute_signature_chunks(chunks, jobs=jobs, progress=progress)
    else:
        sigs = gather_signatures(inputs) if config.signatures else None
    timings["signatures_s"] = time.perf_counter() - t0
    prepared = prepare_data(inputs, sigs)
    t0 = time.perf_counter()
    if prepared.folds:
        cvs = [cross_validate_job(prepared, job, config) for job in plan_fits(config)]
        selected = select_cv(prepared, cvs)
        timings["fit_s"] = time.perf_counter() - t0
        for cv in [*cvs, selected]:
            cv_graph(cv, inputs.out_dir)
        write_json(config.to_dict(), inputs.out_dir / "params.json")
        write_json(
            _finite({f"oof_{k}": v for k, v in selected.metrics.items()}), inputs.out_dir / "metrics.json"
        )
        return summarize_cv(inputs, prepared, cvs, selected, extra={"timings": timings})
    results = [fit_job(prepared, job, config) for job in plan_fits(config)]
    evaluations = [evaluate(r, config) for r in results]
    timings["fit_s"] = time.perf_counter() - t0
    for res in results:
        model_graphs(res, inputs.out_dir)
    cmap = coefficient_map(inputs, results)
    if config.register:
        save_pipeline(inputs, best_result(results))
    for note in [*prepared.warnings, *(w for e in evaluations for w in e.warnings)]:
        log.warning("%s", note)
    summary = summarize(inputs, prepared, results, evaluations, coefficients=cmap, extra={"timings": timings})
    write_table(model_rows(results, evaluations), inputs.out_dir / "models.csv")
    write_json(config.to_dict(), inputs.out_dir / "params.json")
    best_eval = next(e for e in evaluations if e.label == summary["best"])
    write_json(_finite(best_eval.metrics), inputs.out_dir / "metrics.json")
    return summary
