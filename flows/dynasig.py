"""The DynaSig flow: a recipe over :mod:`components.dynasig_ml.run`, tracked in MLflow.

load -> signatures (content-keyed chunks: by default on a process pool sized to the cores inside one task;
or one task per chunk on the flow's task runner: threads, processes or a Dask cluster) -> prepare
-> fit (one task per model, concurrent) -> evaluate -> graphs -> coefficient map -> register the best
model (chosen on validation data; alias ``champion`` only when it beats a comparable champion and its
validation score beats the mean predictor beyond its interval).

Resuming: chunk files live in ``<work_dir>/signature_cache`` (:mod:`components.dynasig_ml.signature_cache`),
so a re-run after a crash computes only the missing chunks; chunk tasks are retried twice on unexpected
errors (never on input errors).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from components.common.errors import DynamotifError, InputError
from components.dynasig_ml import run as steps
from components.dynasig_ml.config import DynasigConfig
from components.dynasig_ml.crossval import CVResult
from components.dynasig_ml.fit import ModelResult, best_result
from components.dynasig_ml.signature_cache import SignatureChunk, compute_signature_chunks

__all__ = ["dynasig_flow", "run_dynasig", "signature_chunk", "demo", "make_task_runner", "register_best"]

log = logging.getLogger("dynamotif.dynasig")

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "mir125a"


def _retry_unless_input_error(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except DynamotifError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient (worker lost, OOM...)
        return True
    return True


@task(name="load-inputs", cache_policy=NO_CACHE)
def load_task(config: DynasigConfig) -> steps.Inputs:
    return steps.load_inputs(config)


@task(
    name="signatures-chunk",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_unless_input_error,
    cache_policy=NO_CACHE,
)
def signature_chunk(chunk: SignatureChunk) -> str:
    """Mutation + ENCoM signatures of one chunk, written to its cache file (skipped when it exists)."""
    return str(steps.compute_chunk(chunk).path)


@task(
    name="signatures",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_unless_input_error,
    cache_policy=NO_CACHE,
)
def signature_pool(chunks: list[SignatureChunk], processes: int) -> dict[str, float]:
    """Mutation + ENCoM signatures of every missing chunk on ``processes`` worker processes (a retry
    resumes from the chunk files already written); returns what it cost per stage."""
    return compute_signature_chunks(chunks, jobs=processes)[1]


@task(name="prepare-data", cache_policy=NO_CACHE)
def prepare_task(inputs: steps.Inputs, signatures: Any) -> steps.Prepared:
    return steps.prepare_data(inputs, signatures)


@task(name="fit-model", task_run_name="fit-{job.label}", cache_policy=NO_CACHE)
def fit_task(prepared: steps.Prepared, job: steps.FitJob, config: DynasigConfig) -> ModelResult:
    return steps.fit_job(prepared, job, config)


@task(name="cross-validate", task_run_name="cv-{job.label}", cache_policy=NO_CACHE)
def cv_task(prepared: steps.Prepared, job: steps.FitJob, config: DynasigConfig) -> CVResult:
    return steps.cross_validate_job(prepared, job, config)


@task(name="evaluate", task_run_name="evaluate-{result.label}", cache_policy=NO_CACHE)
def evaluate_task(result: ModelResult, config: DynasigConfig) -> steps.Evaluation:
    return steps.evaluate(result, config)


@task(name="graphs", task_run_name="graphs-{result.label}", cache_policy=NO_CACHE)
def graphs_task(result: ModelResult, out_dir: Path) -> dict[str, Path]:
    return steps.model_graphs(result, out_dir)


@task(name="coefficient-map", cache_policy=NO_CACHE)
def coefficient_task(inputs: steps.Inputs, results: list[ModelResult]) -> Any:
    return steps.coefficient_map(inputs, results)


@task(name="register", cache_policy=NO_CACHE)
def register_task(
    inputs: steps.Inputs, prepared: steps.Prepared, best: ModelResult, evaluation: steps.Evaluation
) -> dict[str, Any]:
    return register_best(inputs, prepared, best, evaluation)


#: task runners of :func:`run_dynasig`: ``pool`` is threads for the tasks and a process pool for signatures
RUNNERS = ("pool", "threads", "processes")


def cpu_count() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_task_runner(
    kind: str = "threads", workers: int | None = None, dask_address: str | None = None
) -> Any:
    """``threads`` (also what ``pool`` runs its tasks on), ``processes`` or, with ``dask_address``, an
    existing Dask cluster."""
    if dask_address:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:  # pragma: no cover - prefect-dask is a dependency
            raise InputError("--dask-address needs the prefect-dask package") from None
        return DaskTaskRunner(address=dask_address)
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    n = workers or cpu_count()
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=n)
    if kind in ("threads", "pool"):
        return ThreadPoolTaskRunner(max_workers=n)
    raise InputError(f"unknown task runner {kind!r}: use {', '.join(RUNNERS)}")


def _signatures(inputs: steps.Inputs, processes: int) -> tuple[Any, dict[str, float]]:
    """The run's signatures and what they cost: on ``processes`` worker processes inside one task, or
    (``processes`` = 0) one task per chunk on the flow's task runner."""
    chunks = steps.plan_signatures(inputs)
    if not chunks:
        return (steps.gather_signatures(inputs) if inputs.config.signatures else None), {}
    if processes > 0:
        stats = signature_pool(chunks, processes)
        return steps.gather_signatures(inputs, [c.path for c in chunks]), stats
    futures = [signature_chunk.submit(c) for c in chunks]
    return steps.gather_signatures(inputs, [f.result() for f in futures]), {}


def _log_model(
    result: ModelResult, evaluation: steps.Evaluation, plots: dict[str, Path], config: DynasigConfig
) -> None:
    from flows import tracking

    with tracking.nested_run(result.label):
        tracking.log_params({**result.params(), "split": config.split, "validation": config.validation})
        tracking.log_metrics(
            {**evaluation.metrics, "seconds": result.seconds, "n_not_converged": result.n_not_converged}
        )
        tracking.set_tags({"reliable": str(evaluation.reliable).lower()})
        tracking.log_table(result.curves, "selection_curves.csv")
        tracking.log_table(result.predictions(), "test_predictions.csv")
        for path in plots.values():
            tracking.log_artifact(path, "plots")


def _fit_and_log(
    inputs: steps.Inputs, prepared: steps.Prepared
) -> tuple[list[ModelResult], list[steps.Evaluation]]:
    """Fit every model concurrently, evaluate and draw them, log one nested run per model."""
    cfg = inputs.config
    fits = [fit_task.submit(prepared, job, cfg) for job in steps.plan_fits(cfg)]
    results = [f.result() for f in fits]
    evals = [evaluate_task.submit(r, cfg) for r in results]
    plots = [graphs_task(r, inputs.out_dir) for r in results]  # pyplot: one thread
    evaluations = [e.result() for e in evals]
    for res, ev, pl in zip(results, evaluations, plots, strict=True):
        _log_model(res, ev, pl, cfg)
    return results, evaluations


def _log_best(
    inputs: steps.Inputs, results: list[ModelResult], evaluations: list[steps.Evaluation]
) -> tuple[ModelResult, steps.Evaluation]:
    """The best model on validation: its summary metrics and plots on the parent run."""
    from flows import tracking

    best = best_result(results)
    best_eval = next(e for e in evaluations if e.label == best.label)
    tracking.log_table(steps.model_rows(results, evaluations), "summary.csv")
    tracking.log_metrics({f"best_{k}": v for k, v in best_eval.metrics.items() if not k.startswith("train_")})
    tracking.set_tags({"best_model": best.label, "reliable": str(best_eval.reliable).lower()})
    for png in sorted((inputs.out_dir / best.label).glob("*.png")):
        tracking.log_artifact(png, "plots")
    for note in best_eval.warnings:
        log.warning("%s", note)
    return best, best_eval


def _cross_validate_and_log(
    inputs: steps.Inputs, prepared: steps.Prepared
) -> tuple[list[CVResult], CVResult]:
    """Outer cross-validation: every model over the folds (concurrently), the per-fold selection; one
    nested run per model with its out-of-fold predictions, the selection's on the parent run."""
    from flows import tracking

    cfg = inputs.config
    futures = [cv_task.submit(prepared, job, cfg) for job in steps.plan_fits(cfg)]
    results = [f.result() for f in futures]
    selected = steps.select_cv(prepared, results)
    for res in [*results, selected]:
        png = steps.cv_graph(res, inputs.out_dir)  # pyplot: one thread
        with tracking.nested_run(res.label):
            tracking.log_params({"split": cfg.split, "validation": cfg.validation, "n_folds": len(res.folds)})
            tracking.log_metrics({f"oof_{k}": v for k, v in res.metrics.items()})
            tracking.log_table(res.predictions(), "oof_predictions.csv")
            tracking.log_table(pd.DataFrame(res.chosen()), "folds.csv")
            tracking.log_artifact(png, "plots")
    tracking.log_table(steps.cv_rows([*results, selected]), "summary.csv")
    tracking.log_table(selected.predictions(), "oof_predictions.csv")
    tracking.log_table(pd.DataFrame(selected.chosen()), "selected_per_fold.csv")
    tracking.log_metrics({f"oof_{k}": v for k, v in selected.metrics.items()})
    tracking.log_artifact(inputs.out_dir / selected.label / "out_of_fold.png", "plots")
    tracking.set_tags({"best_model": selected.label, "registered_model": "none (outer cross-validation)"})
    return results, selected


def register_best(
    inputs: steps.Inputs, prepared: steps.Prepared, best: ModelResult, evaluation: steps.Evaluation
) -> dict[str, Any]:
    """Log the best model as a models-from-code pyfunc and register it (alias rules in ``tracking``)."""
    from flows import tracking

    cfg = inputs.config
    pipe_dir = steps.save_pipeline(inputs, best)
    info = tracking.log_pyfunc_model(
        str(steps.MODEL_CODE),
        name="model",
        artifacts={"pipeline": str(pipe_dir)},
        input_example=steps.input_example(prepared, best, cfg.variant_column),
        extra_requirements=("biotite", "skops"),
        metadata={
            "model": best.label,
            "beta": best.fitted.beta,
            "alpha": best.fitted.alpha,
            "target": cfg.target,
        },
    )
    reg = tracking.register_and_promote(
        info.model_uri,
        cfg.name,
        metric="val_r2",
        value=best.val_r2,
        tags={"model": best.label, "test_r2": f"{best.test_metrics['r2']:.4f}"},
        comparable={"dataset_hash": inputs.dataset_hash, "split": cfg.split, "validation": cfg.validation},
        hold=None if evaluation.reliable else evaluation.reason,
    )
    tracking.set_tags(
        {"registered_model": f"{reg.name}/{reg.version}", "champion": str(reg.promoted).lower()}
    )
    return reg.as_dict()


@flow(name="dynasig", validate_parameters=False)
def dynasig_flow(
    config: DynasigConfig | dict[str, Any], signature_processes: int | None = None
) -> dict[str, Any]:
    """Run the DynaSig-ML protocol with honest selection; everything goes to MLflow.

    ``config`` may be a mapping of the config's options (a deployment's JSON parameters).
    ``signature_processes``: worker processes of the signature step (None: one per core; 0: one task
    per chunk on the flow's task runner instead). Returns the summary (also ``<work_dir>/summary.json``):
    parent run id, per-model metrics with intervals, the best model, registration result, warnings and
    the local output folder.
    """
    from flows import tracking

    if not isinstance(config, DynasigConfig):
        config = DynasigConfig.from_mapping(config)
    inputs = load_task(config)
    timings: dict[str, float] = {}
    with tracking.parent_run(
        "dynasig",
        experiment=config.experiment,
        run_name=config.name,
        params=config.to_dict(),
        dataset_hash=inputs.dataset_hash,
    ) as run:
        t0 = time.perf_counter()
        processes = cpu_count() if signature_processes is None else signature_processes
        signatures, cost = _signatures(inputs, processes)
        prepared = prepare_task(inputs, signatures)
        timings["signatures_s"] = time.perf_counter() - t0
        timings.update({f"signatures_{k}": v for k, v in cost.items() if k.endswith("_s")})
        tracking.log_metrics(prepared.counts())
        for note in prepared.warnings:
            log.warning("%s", note)
        t0 = time.perf_counter()
        if prepared.folds:  # outer cross-validation: evaluated, nothing registered
            cvs, selected = _cross_validate_and_log(inputs, prepared)
            timings["fit_s"] = time.perf_counter() - t0
            tracking.log_metrics(timings)
            extra = {"run_id": run.info.run_id, "registration": None, "timings": timings}
            return steps.summarize_cv(inputs, prepared, cvs, selected, extra=extra)
        results, evaluations = _fit_and_log(inputs, prepared)
        timings["fit_s"] = time.perf_counter() - t0
        best, best_eval = _log_best(inputs, results, evaluations)
        cmap: Any = coefficient_task(inputs, results)
        if cmap is not None:
            for p in (cmap[1].pdb, cmap[1].pml, cmap[1].csv):
                tracking.log_artifact(p, "coefficients")
            tracking.log_metrics({"n_nonzero_coefficients": int((cmap[1].table.coefficient != 0).sum())})
        registration = register_task(inputs, prepared, best, best_eval) if config.register else None
        tracking.log_metrics(timings)
        extra = {"run_id": run.info.run_id, "registration": registration, "timings": timings}
        return steps.summarize(inputs, prepared, results, evaluations, coefficients=cmap, extra=extra)


def run_dynasig(
    config: DynasigConfig,
    *,
    runner: str = "pool",
    workers: int | None = None,
    dask_address: str | None = None,
) -> dict[str, Any]:
    """Check the inputs, then run :func:`dynasig_flow` on the chosen task runner.

    ``pool`` (default): tasks on threads, signatures (mutation + ENCoM, the CPU-bound part) on a pool of
    ``workers`` processes (default: one per core). ``threads`` / ``processes`` / a Dask address: one task
    per signature chunk on that runner. Bad input fails before any Prefect or MLflow run exists.
    """
    if runner not in RUNNERS:
        raise InputError(f"unknown task runner {runner!r}: use {', '.join(RUNNERS)}")
    steps.load_inputs(config)
    task_runner = make_task_runner(runner, workers, dask_address)
    processes = (workers or cpu_count()) if runner == "pool" and not dask_address else 0
    return dynasig_flow.with_options(task_runner=task_runner)(config, signature_processes=processes)


def demo(out_dir: Path) -> None:
    """The DynaSig flow on ``examples/mir125a`` (300 variants): LASSO and gradient boosting."""
    config = DynasigConfig(
        structure=EXAMPLE_DIR / "mir125a_WT.pdb",
        variants=EXAMPLE_DIR / "variants.csv",
        target="eff",
        features=("mcfold_energy",),
        split="n_mut:3",
        models=("lasso", "hgb:max_iter=100"),
        predictors=("both", "features"),
        name="mir125a-demo",
        work_dir=Path(out_dir),
    )
    res = run_dynasig(config)
    print(f"DynaSig demo: train {res['n_train']} / test {res['n_test']} variants; best model {res['best']}")
    for row in res["models"]:
        print(
            f"  {row['model']:<22s} val R² {row['val_r2']:.3f}  test R² {row['test_r2']:.3f}  EF10% {row['test_ef10']:.2f}"
        )
    if res["coefficients"]:
        print(f"  coefficient map: {res['coefficients']['pdb']} (+ .pml)")
    if res["registration"]:
        reg = res["registration"]
        print(f"  registered {reg['name']} v{reg['version']} (champion: {reg['promoted']})")
