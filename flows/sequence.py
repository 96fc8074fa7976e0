"""Sequence flow: a recipe over :mod:`components.seqmodels.run`.

load (± fold) -> Optuna study (a nested MLflow run per trial) -> final training -> validation and
test evaluation -> model (MLflow "models from code", :mod:`components.seqmodels.serving`) ->
registration (``champion`` on the VALIDATION metric) -> motif interpretation. Each step is a Prefect
task; MLflow is only touched through :mod:`flows.tracking`. :func:`run_sequence` checks every input
(:func:`components.seqmodels.run.preflight`) before any Prefect or MLflow run exists.
``demo(out_dir)`` runs the flow on ``examples/rbp``.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from components.seqmodels import run
from components.seqmodels.bundle import SequenceModel
from components.seqmodels.config import SequenceConfig
from components.seqmodels.data import SequenceData
from flows import tracking

__all__ = ["sequence_flow", "run_sequence", "demo", "EXAMPLE_DIR"]

log = logging.getLogger(__name__)

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "rbp"
#: the served model's code (MLflow "models from code"; not imported here)
SERVING_CODE = Path(run.__file__).with_name("serving.py")

# --------------------------------------------------------------------------------------------------
# tasks: one per step of components.seqmodels.run

load_task = task(name="sequence-load", cache_policy=NO_CACHE)(run.preflight)  # load + every input check
fold_task = task(name="sequence-fold", cache_policy=NO_CACHE)(run.fold)
train_task = task(name="sequence-train", cache_policy=NO_CACHE)(run.train)
evaluate_task = task(name="sequence-evaluate", cache_policy=NO_CACHE)(run.evaluate)


# --------------------------------------------------------------------------------------------------
# tracking helpers


def _log_history(history: Sequence[dict[str, float]]) -> None:
    """Per-epoch curves; an ensemble member's rows (key ``member``) get the suffix ``_m<k>``."""
    for row in history:
        sfx = f"_m{int(row['member'])}" if "member" in row else ""
        tracking.log_metrics(
            {f"{k}{sfx}": v for k, v in row.items() if k not in ("epoch", "member")}, step=int(row["epoch"])
        )


def _member_metrics(extra: dict[str, Any]) -> dict[str, float]:
    """An ensemble's per-member validation figures as metrics ``member_val_<metric>_m<k>``."""
    out: dict[str, float] = {}
    for key, values in extra.items():
        if key.startswith("member_val_") and isinstance(values, list):
            out.update({f"{key}_m{k}": float(v) for k, v in enumerate(values)})
    return out


@contextlib.contextmanager
def _trial_run(number: int, params: dict[str, Any], study: str) -> Iterator[None]:
    """A nested run per Optuna trial; a pruned trial ends it KILLED."""
    import optuna

    with tracking.nested_run(
        f"trial-{number}", params=params, tags={"optuna.trial": str(number), "optuna.study": study}
    ):
        try:
            yield
        except optuna.TrialPruned as exc:
            tracking.set_tags({"pruned": "true"})
            raise tracking.RunKilled("pruned by Optuna", exc) from None


def _log_trial(number: int, trained: run.Trained, val: run.Evaluation | None) -> None:
    _log_history(trained.history)
    if val is not None and trained.result is not None:
        metrics = {f"val_{k}": v for k, v in val.metrics.items()}
        tracking.log_metrics({"best_val_loss": float(trained.result.best_val_loss), **metrics})


def _study(splits: run.Splits, cfg: SequenceConfig, length: int) -> run.StudyResult:
    study = run.search(
        splits, cfg, length=length, train_fn=train_task, trial_scope=_trial_run, on_trial=_log_trial
    )
    tracking.log_metrics({"study_best_val_loss": study.best_value or 0.0, "trials_pruned": study.n_pruned})
    return study


def _log_evaluation(
    trained: run.Trained, splits: run.Splits, test: run.Evaluation, val: run.Evaluation
) -> dict[str, float]:
    from components.seqmodels.plots import curves_figure, evaluation_figures

    bundle, result = trained.bundle, trained.result
    assert bundle is not None and result is not None
    _log_history(result.history)
    tracking.log_figure(curves_figure(result.history), "plots/curves.png")
    metrics = {f"test_{k}": v for k, v in test.metrics.items()} | {
        f"val_{k}": v for k, v in val.metrics.items()
    }
    tracking.log_metrics(
        {
            **metrics,
            "train_seconds": result.seconds,
            "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch,
            **_member_metrics(bundle.extra),
        }
    )
    for fname, fig in evaluation_figures(bundle.task, splits.test.y, test.pred, bundle.output_names).items():
        tracking.log_figure(fig, f"plots/{fname}")
    tracking.log_table(run.predictions_frame(bundle, splits.test, test.pred), "predictions/test.parquet")
    return metrics


def _log_model(bundle: SequenceModel, example: list[str], out_dir: Path) -> Any:
    """The pyfunc as code (:mod:`components.seqmodels.serving`) + the bundle as its artifact."""
    import pandas as pd
    from mlflow.models import infer_signature

    from components.seqmodels.bundle import predict_frame, save_bundle

    bdir = save_bundle(bundle, out_dir / "bundle")
    inp = pd.DataFrame({"sequence": example})
    extra = ("torch", "lightning", "viennarna") if bundle.uses_structure else ("torch", "lightning")
    return tracking.log_pyfunc_model(
        str(SERVING_CODE),
        name="model",
        artifacts={"bundle": str(bdir)},
        input_example=inp,
        signature=infer_signature(inp, predict_frame(bundle, example)),
        extra_requirements=extra,
        metadata={"task": bundle.task, "arch": bundle.arch, "uses_structure": bundle.uses_structure},
    )


def _register(model_uri: str, cfg: SequenceConfig, bundle: SequenceModel, metrics: dict[str, float]) -> dict:
    """Register under ``cfg.name``; ``champion`` moves on the validation metric only."""
    metric = run.selection_metric(bundle)
    split = (
        f"test files, seeded 90/10 (seed {cfg.seed})" if cfg.test else f"seeded 80/10/10 (seed {cfg.seed})"
    )
    reg = tracking.register_and_promote(
        model_uri,
        str(cfg.name),
        metric=metric,
        value=metrics[metric],
        greater_is_better=True,
        tags={
            "run_id": tracking.active_run_id(),
            "test_metric": f"{metrics.get('test_' + metric[4:], 'nan')}",
        },
        comparable={"dataset_hash": _dataset_hash(cfg), "split": split, "validation": "holdout"},
    )
    tracking.set_tags(
        {"registered_model": f"{reg.name}/{reg.version}", "champion": str(reg.promoted).lower()}
    )
    return {**reg.as_dict(), "metric": metric}


def _motif_step(
    bundle: SequenceModel, data: SequenceData, out_dir: Path, cfg: SequenceConfig
) -> dict[str, Any]:
    """The motif stage on a seeded sample of ``data``, logged to the active run.

    An interpretation failure does not undo the trained model: it is logged as a warning and a
    ``motifs_error`` tag, and returned as ``{"error": ...}``.
    """
    from flows.motifs import interpret_task

    seqs, labels = run.interpretation_sample(data, cfg.motif_sequences, cfg.seed)
    t0 = time.perf_counter()
    try:
        res = interpret_task(bundle, seqs, labels, out_dir, cfg.motif_db, **cfg.motif_params)
    except Exception as exc:  # noqa: BLE001 - the model stays logged/registered; the error is recorded
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        log.warning("motif interpretation failed: %s", msg)
        tracking.set_tags({"motifs_error": msg})
        return {"error": msg}
    tracking.log_metrics({"motifs_seconds": time.perf_counter() - t0, "motifs_sequences": len(seqs)})
    return {k: v for k, v in res.items() if k in ("report", "meme", "tomtom", "metrics")}


def _dataset_hash(cfg: SequenceConfig) -> str | None:
    from components.common.io import file_sha256

    existing = [f for f in run.input_files(cfg) if f.is_file()]
    return file_sha256(*existing) if existing else None


# --------------------------------------------------------------------------------------------------
# the flow


@flow(name="sequence", log_prints=False, validate_parameters=False)
def sequence_flow(config: dict[str, Any]) -> dict[str, Any]:
    """Train (and tune) a sequence model on ``config`` (:class:`SequenceConfig` keys); one parent run.

    Returns a summary: ``run_id``, ``model_uri``, ``test_metrics``, ``val_metrics``, ``best_params``,
    ``trials``, ``registered``, ``motifs``, ``seconds``, ``out_dir``.
    """
    from components.common.io import write_json

    cfg = SequenceConfig.from_mapping(config)
    t0 = time.perf_counter()
    work = Path(cfg.out_dir) if cfg.out_dir else Path(tempfile.mkdtemp(prefix="dynamotif-sequence-"))
    work.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    splits = load_task(cfg)  # a deployment calling this flow directly is checked before any MLflow run
    with tracking.parent_run(
        "sequence",
        experiment=cfg.experiment,
        run_name=cfg.name,
        params=cfg.to_dict(),
        dataset_hash=_dataset_hash(cfg),
    ) as parent:
        summary["run_id"] = parent.info.run_id
        tracking.log_params(splits.sizes())
        if splits.n_test_in_train:
            log.warning(
                "%d of %d test sequences also occur in the training data (param n_test_in_train)",
                splits.n_test_in_train,
                len(splits.test),
            )
        if cfg.fold:
            splits = fold_task(splits, cfg)
            tracking.log_metrics(
                {f"fold_{k}": float(splits.fold_stats.get(k, 0)) for k in ("seconds", "cached", "folded")}
            )
        length = run.model_length(splits, cfg)
        study = _study(splits, cfg, length) if cfg.trials > 0 else run.StudyResult(cfg.fixed_params(), [])
        tracking.log_params(
            {"ensemble": cfg.n_members(), **{f"best.{k}": v for k, v in study.best_params.items()}}
        )
        trained = train_task(
            splits, cfg, run.final_params(cfg, study.best_params), length=length, progress=cfg.progress
        )
        bundle = trained.bundle
        assert bundle is not None
        test_ev, val_ev = evaluate_task(bundle, splits.test), evaluate_task(bundle, splits.val)
        metrics = _log_evaluation(trained, splits, test_ev, val_ev)
        info = _log_model(bundle, splits.test.sequences[:2], work)
        summary |= {"model_uri": f"runs:/{parent.info.run_id}/model", "trials": study.trials}
        summary |= {"best_params": study.best_params, "bundle": str(work / "bundle")}
        summary["test_metrics"] = {k: v for k, v in metrics.items() if k.startswith("test_")}
        summary["val_metrics"] = {k: v for k, v in metrics.items() if k.startswith("val_")}
        if cfg.motifs:
            summary["motifs"] = _motif_step(bundle, splits.test, work / "motifs", cfg)
        if cfg.name:
            summary["registered"] = _register(info.model_uri, cfg, bundle, metrics)
        summary["seconds"] = time.perf_counter() - t0
        tracking.log_metrics({"total_seconds": summary["seconds"]})
        write_json(summary, work / "summary.json")
        summary["out_dir"] = str(work)
    return summary


def run_sequence(config: SequenceConfig | Mapping[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """Validate every input, then run :func:`sequence_flow`.

    ``config`` (a :class:`SequenceConfig` or its keys) and ``options`` (keys over it) together
    give the configuration; a bad key, value or input file fails here, before any Prefect flow run
    or MLflow run is created.
    """
    base = config.to_dict() if isinstance(config, SequenceConfig) else dict(config or {})
    cfg = SequenceConfig.from_mapping({**base, **options})
    run.preflight(cfg)
    return sequence_flow(cfg.to_dict())


def demo(out_dir: Path) -> None:
    """Run the flow on the bundled RBP slice (``examples/rbp``): 2 Optuna trials, structure folded,
    registered as ``rbp-demo``, motif report on 200 test sequences. Under 2 minutes on 2 cores."""
    ex = EXAMPLE_DIR
    out_dir = Path(out_dir)
    summary = run_sequence(
        data=[
            f"PUM2={ex / 'pum2.train.positive.fasta.gz'}",
            f"background={ex / 'pum2.train.negative.fasta.gz'}",
        ],
        test=[
            f"PUM2={ex / 'pum2.test.positive.fasta.gz'}",
            f"background={ex / 'pum2.test.negative.fasta.gz'}",
        ],
        arch="cnn",
        fold=True,
        trials=2,
        epochs=8,
        name="rbp-demo",
        search_space=str(ex / "search_space.yaml"),
        out_dir=str(out_dir / "sequence"),
        cache_dir=str(out_dir / "fold-cache"),
        motifs=True,
        motif_sequences=200,
        # pair interactions re-fold shuffled sequences for a structure model: the dominant cost
        motif_params={"attribution_sequences": 100, "pair_kernels": 4, "max_pair_sequences": 60},
    )
    m, reg = summary["test_metrics"], summary.get("registered") or {}
    print(
        f"sequence demo: test ROC-AUC {m['test_roc_auc']:.3f}, PR-AUC {m['test_pr_auc']:.3f}; "
        f"model {summary['model_uri']} registered as {reg.get('name')} version {reg.get('version')}"
        + (" (champion)" if reg.get("promoted") else "")
    )
