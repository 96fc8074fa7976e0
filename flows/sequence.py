"""Sequence flow: load/validate (± fold) -> Optuna study (a nested MLflow run per trial) ->
final training of the best configuration -> test evaluation -> pyfunc model, registration.

Each step is a component call; inside a Prefect flow run the steps run as Prefect tasks, outside
(``run_sequence`` called directly) as plain functions. MLflow is only touched through
:mod:`flows.tracking`. ``demo(out_dir)`` runs the flow on ``examples/rbp``.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.pyfunc import PythonModel
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import tracking

__all__ = ["sequence_flow", "run_sequence", "demo", "SequencePyfunc", "EXAMPLE_DIR"]

log = logging.getLogger(__name__)

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "rbp"


# --------------------------------------------------------------------------------------------------
# pyfunc: raw sequences in, predictions out


class SequencePyfunc(PythonModel):
    """Serves a :class:`~components.seqmodels.bundle.SequenceModel` (artifact ``bundle``).

    Input: a table with a ``sequence`` column (and optionally ``structure`` dot-brackets); the
    model folds the sequences itself when it uses structure. Output: one column per model output
    (``prediction`` when there is a single one).
    """

    def load_context(self, context: Any) -> None:
        from components.seqmodels.bundle import load_bundle

        self.bundle = load_bundle(context.artifacts["bundle"])

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        from components.seqmodels.bundle import predict
        from flows.serving import check_batch, input_errors_as_bad_request

        df = check_batch(model_input, columns=["sequence"])
        seqs = [str(s).strip().upper() for s in df["sequence"]]
        dbs = [str(s) for s in df["structure"]] if "structure" in df.columns else None
        with input_errors_as_bad_request():
            pred = predict(self.bundle, seqs, dotbrackets=dbs)
        return pd.DataFrame(pred, columns=_output_columns(self.bundle.output_names))


def _output_columns(names: Sequence[str]) -> list[str]:
    return ["prediction"] if len(names) == 1 else [str(n) for n in names]


# --------------------------------------------------------------------------------------------------
# steps (component calls)


def load_step(
    data: Sequence[str],
    test: Sequence[str] | None,
    target: Sequence[str],
    task_: str,
    alphabet: str,
    seed: int,
    missing_targets: str = "error",
) -> dict[str, Any]:
    from components.common.errors import InputError
    from components.seqmodels.data import load_data, split_data

    full, alph = load_data(
        data, targets=target, task=task_, alphabet=alphabet, missing_targets=missing_targets
    )
    if test:
        test_data, _ = load_data(
            test, targets=target, task=full.task, alphabet=alph, missing_targets=missing_targets
        )
        if test_data.output_names != full.output_names:
            raise InputError(
                f"test labels {test_data.output_names} do not match training labels {full.output_names}"
            )
        n_shared = _warn_test_in_train(full.sequences, test_data.sequences, ", ".join(test))
        train, val = split_data(full, (0.9,), seed)
    else:
        n_shared = 0
        train, val, test_data = split_data(full, (0.8, 0.1), seed)
    return {"train": train, "val": val, "test": test_data, "alphabet": alph, "n_test_in_train": n_shared}


def _warn_test_in_train(train: Sequence[str], test: Sequence[str], source: str) -> int:
    """The count of test sequences also in training; the DynamotifWarning goes to the flow's log."""
    import warnings

    from components.common.dedup import warn_shared
    from components.common.errors import DynamotifWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DynamotifWarning)
        count = warn_shared(train, test, source=source)
    for w in caught:
        log.warning("%s", w.message)
    return count


def fold_step(splits: dict[str, Any], cache_dir: str | None) -> dict[str, Any]:
    from components.seqmodels.pipeline import prepare_structures

    stats: dict[str, Any] = {}
    tr, va, te = prepare_structures(
        [splits["train"], splits["val"], splits["test"]],
        splits["alphabet"],
        cache_dir=cache_dir or "default",
        stats=stats,
    )
    return {**splits, "train": tr, "val": va, "test": te, "fold_stats": stats}


def train_step(
    splits: dict[str, Any],
    arch: str,
    params: dict[str, Any],
    *,
    length: int,
    policy: str | None,
    uses_structure: bool,
    seed: int,
    trial: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Train one configuration; a pruned Optuna trial returns ``pruned=True`` (no exception)."""
    import optuna

    from components.seqmodels.pipeline import train_model
    from components.seqmodels.search import pruning_callback

    callbacks = [pruning_callback(trial)] if trial is not None else []
    history: list[dict[str, float]] = []
    try:
        bundle, result = train_model(
            splits["train"],
            splits["val"],
            splits["alphabet"],
            arch=arch,
            params=params,
            length=length,
            policy=policy,
            uses_structure=uses_structure,
            seed=seed,
            callbacks=callbacks,
            progress=progress,
            history_sink=history,
        )
    except optuna.TrialPruned as exc:
        return {"pruned": True, "reason": str(exc), "history": history}
    return {"pruned": False, "bundle": bundle, "result": result, "history": result.history}


def evaluate_step(bundle: Any, data: Any) -> dict[str, Any]:
    from components.seqmodels.pipeline import evaluate

    metrics, pred = evaluate(bundle, data)
    return {"metrics": metrics, "pred": pred}


_STEP_FUNCS: dict[str, Callable[..., Any]] = {
    "load": load_step,
    "fold": fold_step,
    "train": train_step,
    "evaluate": evaluate_step,
}
_TASKS = {name: task(name=f"sequence-{name}", cache_policy=NO_CACHE)(fn) for name, fn in _STEP_FUNCS.items()}


def _step(name: str) -> Callable[..., Any]:
    """The Prefect task inside a flow run, the plain function outside."""
    from prefect.context import FlowRunContext

    return _TASKS[name] if FlowRunContext.get() is not None else _STEP_FUNCS[name]


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


def _log_model(bundle: Any, example: list[str], out_dir: Path) -> Any:
    from mlflow.models import infer_signature

    from components.seqmodels.bundle import predict, save_bundle

    bdir = save_bundle(bundle, out_dir / "bundle")
    inp = pd.DataFrame({"sequence": example})
    out = pd.DataFrame(predict(bundle, example), columns=_output_columns(bundle.output_names))
    extra = ("torch", "lightning", "viennarna") if bundle.uses_structure else ("torch", "lightning")
    return tracking.log_pyfunc_model(
        SequencePyfunc(),
        name="model",
        artifacts={"bundle": str(bdir)},
        input_example=inp,
        signature=infer_signature(inp, out),
        extra_requirements=extra,
        metadata={"task": bundle.task, "arch": bundle.arch, "uses_structure": bundle.uses_structure},
    )


# --------------------------------------------------------------------------------------------------
# the flow


def run_sequence(
    data: Sequence[str],
    *,
    test: Sequence[str] | None = None,
    target: Sequence[str] = (),
    task_type: str = "auto",
    arch: str = "cnn",
    fold: bool = False,
    trials: int = 0,
    name: str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    out_dir: str | Path | None = None,
    alphabet: str = "auto",
    length: int | None = None,
    policy: str | None = None,
    params: dict[str, Any] | None = None,
    search_space: str | Path | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str = "median",
    initial_configs: Sequence[dict[str, Any]] = (),
    cache_dir: str | None = None,
    experiment: str | None = None,
    progress: bool = False,
    motifs: bool = False,
    motif_sequences: int = 500,
    motif_db: str | None = None,
    motif_params: dict[str, Any] | None = None,
    ensemble: int = 1,
    missing_targets: str = "error",
) -> dict[str, Any]:
    """Train (and optionally tune) a sequence model; log everything under one parent run.

    ``ensemble`` N > 1 makes the FINAL model a seed ensemble of N (members with seeds
    ``seed .. seed + N - 1``, probabilities / outputs averaged; Optuna trials stay single
    models; an ``ensemble`` inside ``params`` is used when ``ensemble`` is 1).
    ``missing_targets="mask"``: NaN regression targets are masked out of loss and metrics
    instead of being an error.

    With ``motifs=True`` the final model is interpreted by the motif stage
    (:func:`flows.motifs.interpret_task`) on at most ``motif_sequences`` test sequences (seeded
    sample) and its report is logged under ``motifs/`` of the same run.

    Returns a summary: ``run_id``, ``model_uri``, ``test_metrics``, ``best_params``, ``trials``
    (number/state/value), ``registered`` (name, version, promoted), ``motifs`` and timings.
    """
    from components.common.io import file_sha256, write_json
    from components.seqmodels.data import parse_data_spec
    from components.seqmodels.pipeline import input_length
    from components.seqmodels.plots import curves_figure, evaluation_figures
    from components.seqmodels.training import primary_metric

    t0 = time.perf_counter()
    files = [parse_data_spec(s)[1] for s in [*data, *(test or [])]]
    existing = [f for f in files if f.is_file()]
    run_params = {
        "data": [str(d) for d in data],
        "test": [str(t) for t in test or []],
        "target": list(target),
        "task": task_type,
        "arch": arch,
        "fold": fold,
        "trials": trials,
        "seed": seed,
        "alphabet": alphabet,
        "length": length,
        "policy": policy,
        "missing_targets": missing_targets,
    }
    work = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="dynamotif-sequence-"))
    work.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {}
    with tracking.parent_run(
        "sequence",
        experiment=experiment,
        params=run_params,
        dataset_hash=file_sha256(*existing) if existing else None,
    ) as parent:
        summary["run_id"] = parent.info.run_id
        splits = _step("load")(
            list(data), list(test or []), list(target), task_type, alphabet, seed, missing_targets
        )
        tr, va, te = splits["train"], splits["val"], splits["test"]
        tracking.log_params(
            {
                "n_train": len(tr),
                "n_val": len(va),
                "n_test": len(te),
                "task_resolved": tr.task,
                "alphabet_resolved": splits["alphabet"].letters,
                "outputs": tr.output_names,
                "n_test_in_train": splits["n_test_in_train"],
            }
        )
        if fold:
            splits = _step("fold")(splits, cache_dir)
            st = splits["fold_stats"]
            tracking.log_metrics(
                {
                    "fold_seconds": st.get("seconds", 0.0),
                    "fold_cached": st.get("cached", 0),
                    "fold_folded": st.get("folded", 0),
                }
            )
        L = input_length([tr, va], length)
        base = dict(params or {})
        n_members = int(base.pop("ensemble", 1)) if ensemble == 1 else int(ensemble)
        tracking.log_params({"ensemble": n_members})
        if epochs:
            base["max_epochs"] = epochs
        best_params = dict(base)
        trial_rows: list[dict[str, Any]] = []
        if trials > 0:
            best_params = _study(
                splits,
                arch,
                base,
                L,
                policy,
                fold,
                seed,
                trials,
                search_space,
                storage,
                study_name,
                pruner,
                initial_configs,
                trial_rows,
            )
        summary["trials"] = trial_rows
        summary["best_params"] = best_params
        tracking.log_params({f"best.{k}": v for k, v in best_params.items()})
        res = _step("train")(
            splits,
            arch,
            {**best_params, "ensemble": n_members} if n_members > 1 else best_params,
            length=L,
            policy=policy,
            uses_structure=fold,
            seed=seed,
            progress=progress,
        )
        bundle, result = res["bundle"], res["result"]
        _log_history(result.history)
        tracking.log_figure(curves_figure(result.history), "plots/curves.png")
        ev = _step("evaluate")(bundle, splits["test"])
        test_metrics = {f"test_{k}": v for k, v in ev["metrics"].items()}
        val_metrics = {f"val_{k}": v for k, v in _step("evaluate")(bundle, splits["val"])["metrics"].items()}
        tracking.log_metrics(
            {
                **test_metrics,
                **val_metrics,
                "train_seconds": result.seconds,
                "epochs_run": result.epochs_run,
                "best_epoch": result.best_epoch,
                **_member_metrics(bundle.extra),
            }
        )
        for fname, fig in evaluation_figures(
            bundle.task, splits["test"].y, ev["pred"], bundle.output_names
        ).items():
            tracking.log_figure(fig, f"plots/{fname}")
        pred_df = pd.DataFrame(
            ev["pred"], columns=[f"pred_{c}" for c in _output_columns(bundle.output_names)]
        )
        pred_df.insert(0, "sequence", te.sequences)
        for j, c in enumerate(bundle.output_names):
            pred_df[f"true_{c}"] = splits["test"].y[:, j]
        tracking.log_table(pred_df, "predictions/test.parquet")
        info = _log_model(bundle, te.sequences[:2], work)
        summary["model_uri"] = f"runs:/{parent.info.run_id}/model"
        summary["test_metrics"] = test_metrics
        if motifs:
            summary["motifs"] = _motif_step(
                bundle, te, work / "motifs", motif_sequences, seed, motif_db, motif_params or {}
            )
        metric = f"test_{primary_metric(bundle.task)}"
        if name:
            reg = tracking.register_and_promote(
                info.model_uri,
                name,
                metric=metric,
                value=test_metrics[metric],
                greater_is_better=True,
                tags={"run_id": parent.info.run_id},
            )
            summary["registered"] = {"name": reg.name, "version": reg.version, "promoted": reg.promoted}
            tracking.set_tags({"registered_model": f"{reg.name}/{reg.version}", "champion": reg.promoted})
        summary["seconds"] = time.perf_counter() - t0
        tracking.log_metrics({"total_seconds": summary["seconds"]})
        write_json(
            {k: v for k, v in summary.items() if k != "trials"} | {"trials": trial_rows},
            work / "summary.json",
        )
        summary["out_dir"] = str(work)
    return summary


def _motif_step(
    bundle: Any,
    data: Any,
    out_dir: Path,
    max_sequences: int,
    seed: int,
    motif_db: str | None,
    params: dict[str, Any],
) -> dict[str, Any]:
    """The motifs engineer's stage on (a seeded sample of) ``data``, logged to the active run.

    An interpretation failure does not undo the trained model: it is logged as a warning and a
    ``motifs_error`` tag, and returned as ``{"error": ...}``.
    """
    import numpy as np

    from flows.motifs import interpret_task

    n = len(data)
    idx = np.arange(n)
    if max_sequences and n > max_sequences:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_sequences, replace=False))
    seqs = [data.sequences[i] for i in idx]
    labels = np.asarray(data.y)[idx]
    t0 = time.perf_counter()
    from prefect.context import FlowRunContext

    interpret = interpret_task if FlowRunContext.get() is not None else interpret_task.fn
    try:
        res = interpret(bundle, seqs, labels, out_dir, motif_db, **params)
    except Exception as exc:  # noqa: BLE001 - the model stays logged/registered; the error is recorded
        msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        log.warning("motif interpretation failed: %s", msg)
        tracking.set_tags({"motifs_error": msg})
        return {"error": msg}
    tracking.log_metrics({"motifs_seconds": time.perf_counter() - t0, "motifs_sequences": len(seqs)})
    return {k: v for k, v in res.items() if k in ("report", "meme", "tomtom", "metrics")}


def _study(
    splits: dict[str, Any],
    arch: str,
    base: dict[str, Any],
    length: int,
    policy: str | None,
    fold: bool,
    seed: int,
    trials: int,
    search_space: str | Path | None,
    storage: str | None,
    study_name: str | None,
    pruner: str,
    initial_configs: Sequence[dict[str, Any]],
    rows: list[dict[str, Any]],
) -> dict[str, Any]:
    import optuna

    from components.seqmodels.search import load_search_space, make_study, suggest

    space = load_search_space(search_space)
    study = make_study(seed=seed, storage=storage, study_name=study_name, pruner=pruner)
    for cfg in initial_configs:
        study.enqueue_trial(dict(cfg), skip_if_exists=True)
    train = _step("train")

    def objective(trial: optuna.Trial) -> float:
        cfg = {**suggest(trial, space, arch), **base, **{k: v for k, v in trial.params.items()}}
        if "max_epochs" in base:
            cfg["max_epochs"] = base["max_epochs"]
        with tracking.nested_run(
            f"trial-{trial.number}",
            params=cfg,
            tags={"optuna.trial": str(trial.number), "optuna.study": study.study_name},
        ):
            res = train(
                splits, arch, cfg, length=length, policy=policy, uses_structure=fold, seed=seed, trial=trial
            )
            if res["pruned"]:
                _log_history(res["history"])
                rows.append({"number": trial.number, "state": "PRUNED", "value": None})
                tracking.set_tags({"pruned": "true"})
                raise tracking.RunKilled("pruned by Optuna", optuna.TrialPruned(res["reason"]))
            _log_history(res["history"])
            value = float(res["result"].best_val_loss)
            ev = _STEP_FUNCS["evaluate"](res["bundle"], splits["val"])["metrics"]
            tracking.log_metrics({"best_val_loss": value, **{f"val_{k}": v for k, v in ev.items()}})
            rows.append({"number": trial.number, "state": "COMPLETE", "value": value})
            return value

    study.optimize(objective, n_trials=trials, catch=())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        from components.common.errors import DynamotifError

        raise DynamotifError(f"all {trials} Optuna trials were pruned or failed; nothing to retrain")
    tracking.log_metrics(
        {
            "study_best_val_loss": study.best_value,
            "trials_pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
        }
    )
    best = {**suggest(optuna.trial.FixedTrial(study.best_params), space, arch), **base, **study.best_params}
    return best


@flow(name="sequence", log_prints=False, validate_parameters=False)
def sequence_flow(
    data: list[str],
    test: list[str] | None = None,
    target: list[str] | None = None,
    task_type: str = "auto",
    arch: str = "cnn",
    fold: bool = False,
    trials: int = 0,
    name: str | None = None,
    epochs: int | None = None,
    seed: int = 0,
    out_dir: str | None = None,
    alphabet: str = "auto",
    length: int | None = None,
    policy: str | None = None,
    params: dict[str, Any] | None = None,
    search_space: str | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str = "median",
    initial_configs: list[dict[str, Any]] | None = None,
    cache_dir: str | None = None,
    experiment: str | None = None,
    progress: bool = False,
    motifs: bool = False,
    motif_sequences: int = 500,
    motif_db: str | None = None,
    motif_params: dict[str, Any] | None = None,
    ensemble: int = 1,
    missing_targets: str = "error",
) -> dict[str, Any]:
    """Prefect flow around :func:`run_sequence` (same parameters)."""
    return run_sequence(
        data,
        test=test,
        target=target or (),
        task_type=task_type,
        arch=arch,
        fold=fold,
        trials=trials,
        name=name,
        epochs=epochs,
        seed=seed,
        out_dir=out_dir,
        alphabet=alphabet,
        length=length,
        policy=policy,
        params=params,
        search_space=search_space,
        storage=storage,
        study_name=study_name,
        pruner=pruner,
        initial_configs=initial_configs or (),
        cache_dir=cache_dir,
        experiment=experiment,
        progress=progress,
        motifs=motifs,
        motif_sequences=motif_sequences,
        motif_db=motif_db,
        motif_params=motif_params,
        ensemble=ensemble,
        missing_targets=missing_targets,
    )


def demo(out_dir: Path) -> None:
    """Run the flow on the bundled RBP slice (``examples/rbp``): 2 Optuna trials, structure folded,
    registered as ``rbp-demo``, motif report on 200 test sequences. Under 2 minutes on 2 cores."""
    ex = EXAMPLE_DIR
    out_dir = Path(out_dir)
    summary = sequence_flow(
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
    m = summary["test_metrics"]
    print(
        f"sequence demo: test ROC-AUC {m['test_roc_auc']:.3f}, PR-AUC {m['test_pr_auc']:.3f}; "
        f"model {summary['model_uri']} registered as {summary.get('registered')}"
    )
