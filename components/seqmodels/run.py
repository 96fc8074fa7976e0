"""The sequence track, step by step: one place where its pipeline is composed.

``load`` -> ``fold`` -> ``search`` (optional) -> ``train`` -> ``evaluate`` -> ``write_outputs``, each a
plain typed function of a :class:`~components.seqmodels.config.SequenceConfig`. The Prefect flow
(``flows/sequence.py``) wraps each step in a task and logs what it returns; :func:`run` chains them
without Prefect or MLflow (``python -m components.seqmodels``, the benchmarks).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.dedup import warn_shared
from components.common.errors import DynamotifError, InputError
from components.seqmodels.alphabet import Alphabet
from components.seqmodels.bundle import SequenceModel, prediction_columns
from components.seqmodels.config import SequenceConfig, check_params
from components.seqmodels.data import SequenceData, load_data, parse_data_spec, split_data
from components.seqmodels.training import FitResult, primary_metric

__all__ = [
    "Splits",
    "Trained",
    "Evaluation",
    "StudyResult",
    "input_files",
    "preflight",
    "load_inputs",
    "split",
    "load",
    "fold",
    "model_length",
    "train",
    "search",
    "final_params",
    "evaluate",
    "predictions_frame",
    "selection_metric",
    "interpretation_sample",
    "write_outputs",
    "run",
]


@dataclass
class Splits:
    """Train / validation / test data of one run, with the alphabet they are encoded in."""

    train: SequenceData
    val: SequenceData
    test: SequenceData
    alphabet: Alphabet
    fold_stats: dict[str, Any] = field(default_factory=dict)
    #: test sequences that also occur in the training data (a test file given by the user)
    n_test_in_train: int = 0

    def sizes(self) -> dict[str, Any]:
        return {
            "n_train": len(self.train),
            "n_val": len(self.val),
            "n_test": len(self.test),
            "n_test_in_train": self.n_test_in_train,
            "task_resolved": self.train.task,
            "alphabet_resolved": self.alphabet.letters,
            "outputs": self.train.output_names,
        }


@dataclass
class Trained:
    """One training: the bundle and its fit record, or ``pruned`` (an Optuna trial stopped early)."""

    bundle: SequenceModel | None
    result: FitResult | None
    history: list[dict[str, float]]
    pruned: bool = False
    reason: str = ""


@dataclass
class Evaluation:
    """Metrics (``roc_auc``/``pearson``...) and predictions (target units) of a bundle on one split."""

    metrics: dict[str, float]
    pred: np.ndarray


@dataclass
class StudyResult:
    best_params: dict[str, Any]
    trials: list[dict[str, Any]]
    best_value: float | None = None
    n_pruned: int = 0


# --------------------------------------------------------------------------------------------------
# load and split (written once: every caller goes through here)


def input_files(cfg: SequenceConfig) -> list[Path]:
    """The data and test files named by ``cfg`` (``NAME=`` prefixes removed)."""
    return [parse_data_spec(s)[1] for s in (*cfg.data, *cfg.test)]


def load_inputs(cfg: SequenceConfig) -> tuple[SequenceData, SequenceData | None, Alphabet]:
    """Read and validate ``cfg.data`` (and ``cfg.test``, checked against the training labels)."""
    full, alph = load_data(
        cfg.data,
        targets=cfg.target,
        task=cfg.task,
        alphabet=cfg.alphabet,
        missing_targets=cfg.missing_targets,
    )
    if not cfg.test:
        return full, None, alph
    test, _ = load_data(
        cfg.test, targets=cfg.target, task=full.task, alphabet=alph, missing_targets=cfg.missing_targets
    )
    if test.output_names != full.output_names:
        raise InputError(f"test labels {test.output_names} do not match training labels {full.output_names}")
    return full, test, alph


def split(cfg: SequenceConfig, full: SequenceData, test: SequenceData | None, alphabet: Alphabet) -> Splits:
    """Seeded split: 90/10 train/validation with a test file, else 80/10/10.

    Identical sequences never straddle a cut; a test file that repeats training sequences gives a
    :class:`DynamotifWarning` with the count (``Splits.n_test_in_train``).
    """
    if test is not None:
        shared = warn_shared(full.sequences, test.sequences, source=", ".join(map(str, cfg.test)))
        tr, va = split_data(full, (0.9,), cfg.seed)
        return Splits(tr, va, test, alphabet, n_test_in_train=shared)
    tr, va, te = split_data(full, (0.8, 0.1), cfg.seed)
    return Splits(tr, va, te, alphabet)


def load(cfg: SequenceConfig) -> Splits:
    """:func:`load_inputs` then :func:`split`."""
    return split(cfg, *load_inputs(cfg))


def preflight(cfg: SequenceConfig) -> Splits:
    """Validate every input of ``cfg`` before anything is started or tracked.

    Reads and splits the data (letters, labels, structures), reads the search space and a motif
    database file. Returns the splits.
    """
    from components.seqmodels.search import load_search_space

    splits = load(cfg)
    if cfg.fold and splits.alphabet.letters not in ("ACGU", "ACGT"):
        raise InputError(
            f"--fold needs an RNA/DNA alphabet, got {splits.alphabet.name} ({splits.alphabet.letters})"
        )
    if cfg.trials > 0:
        space = load_search_space(cfg.search_space)
        for section in ("fixed", "common", cfg.arch):
            check_params(space.get(section) or {}, cfg.arch, what=f"search-space parameter ({section})")
    if cfg.motifs and cfg.motif_db is not None and cfg.motif_db.lower() not in ("attract", "jaspar"):
        from components.motifs.meme import read_meme

        read_meme(cfg.motif_db)
    return splits


def fold(splits: Splits, cfg: SequenceConfig) -> Splits:
    """Attach RNA structure contexts (given dot-brackets, else ViennaRNA, cached) to every split."""
    from components.seqmodels.pipeline import prepare_structures

    stats: dict[str, Any] = {}
    tr, va, te = prepare_structures(
        [splits.train, splits.val, splits.test],
        splits.alphabet,
        cache_dir=cfg.cache_dir or "default",
        stats=stats,
    )
    return replace(splits, train=tr, val=va, test=te, fold_stats=stats)


def model_length(splits: Splits, cfg: SequenceConfig) -> int:
    """The model input length: ``cfg.length``, else the longest training/validation sequence."""
    from components.seqmodels.pipeline import input_length

    return input_length([splits.train, splits.val], cfg.length)


# --------------------------------------------------------------------------------------------------
# train, search, evaluate


def train(
    splits: Splits,
    cfg: SequenceConfig,
    params: dict[str, Any],
    *,
    length: int,
    trial: Any = None,
    progress: bool = False,
) -> Trained:
    """Train one configuration; a pruned Optuna ``trial`` gives ``pruned=True`` (no exception)."""
    import optuna

    from components.seqmodels.pipeline import train_model
    from components.seqmodels.search import pruning_callback

    callbacks = [pruning_callback(trial)] if trial is not None else []
    history: list[dict[str, float]] = []
    try:
        bundle, result = train_model(
            splits.train,
            splits.val,
            splits.alphabet,
            arch=cfg.arch,
            params=params,
            length=length,
            policy=cfg.policy,
            uses_structure=cfg.fold,
            seed=cfg.seed,
            callbacks=callbacks,
            progress=progress,
            history_sink=history,
        )
    except optuna.TrialPruned as exc:
        return Trained(None, None, history, pruned=True, reason=str(exc))
    return Trained(bundle, result, result.history)


TrialScope = Callable[[int, dict[str, Any], str], contextlib.AbstractContextManager[Any]]
TrialHook = Callable[[int, Trained, "Evaluation | None"], None]


@contextlib.contextmanager
def _no_scope(number: int, params: dict[str, Any], study: str) -> Iterator[None]:
    yield


def search(
    splits: Splits,
    cfg: SequenceConfig,
    *,
    length: int,
    train_fn: Callable[..., Trained] = train,
    trial_scope: TrialScope = _no_scope,
    on_trial: TrialHook | None = None,
) -> StudyResult:
    """Optuna study of ``cfg.trials`` trials minimising the validation loss (seeded TPE, pruning).

    ``trial_scope(number, params, study_name)`` wraps each trial (the flow opens a nested MLflow
    run there; a pruned trial raises ``optuna.TrialPruned`` inside it); ``on_trial(number,
    trained, validation evaluation or None)`` sees each result. The test split is never used.
    """
    import optuna

    from components.seqmodels.search import load_search_space, make_study, suggest

    space = load_search_space(cfg.search_space)
    base = cfg.fixed_params()
    study = make_study(seed=cfg.seed, storage=cfg.storage, study_name=cfg.study_name, pruner=cfg.pruner)
    for initial in cfg.initial_configs:
        study.enqueue_trial(dict(initial), skip_if_exists=True)
    rows: list[dict[str, Any]] = []

    def objective(trial: optuna.Trial) -> float:
        params = {**suggest(trial, space, cfg.arch), **base, **dict(trial.params)}
        if "max_epochs" in base:
            params["max_epochs"] = base["max_epochs"]
        check_params(params, cfg.arch, what="search-space parameter")
        with trial_scope(trial.number, params, study.study_name):
            res = train_fn(splits, cfg, params, length=length, trial=trial)
            if res.pruned:
                rows.append({"number": trial.number, "state": "PRUNED", "value": None})
                if on_trial is not None:
                    on_trial(trial.number, res, None)
                raise optuna.TrialPruned(res.reason)
            assert res.result is not None and res.bundle is not None
            value = float(res.result.best_val_loss)
            ev = evaluate(res.bundle, splits.val)
            rows.append({"number": trial.number, "state": "COMPLETE", "value": value})
            if on_trial is not None:
                on_trial(trial.number, res, ev)
            return value

    study.optimize(objective, n_trials=cfg.trials, catch=())
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise DynamotifError(f"all {cfg.trials} Optuna trials were pruned or failed; nothing to retrain")
    best = {
        **suggest(optuna.trial.FixedTrial(study.best_params), space, cfg.arch),
        **base,
        **study.best_params,
    }
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return StudyResult(best, rows, float(study.best_value), n_pruned)


def final_params(cfg: SequenceConfig, best: dict[str, Any]) -> dict[str, Any]:
    """The final model's parameters: the chosen configuration with the ensemble size."""
    n = cfg.n_members()
    return {**best, "ensemble": n} if n > 1 else dict(best)


def evaluate(bundle: SequenceModel, data: SequenceData) -> Evaluation:
    """Metrics and predictions of ``bundle`` on ``data``."""
    from components.seqmodels.pipeline import evaluate as _evaluate

    metrics, pred = _evaluate(bundle, data)
    return Evaluation(metrics, pred)


def selection_metric(bundle: SequenceModel) -> str:
    """The validation metric that decides the champion (``val_roc_auc`` or ``val_pearson``)."""
    return f"val_{primary_metric(bundle.task)}"


# --------------------------------------------------------------------------------------------------
# outputs


def predictions_frame(bundle: SequenceModel, data: SequenceData, pred: np.ndarray) -> pd.DataFrame:
    """Sequences, predictions (:func:`output_columns`) and true values (``true_<output>``)."""
    df = pd.DataFrame(pred, columns=prediction_columns(bundle.output_names, bundle.task))
    df.insert(0, "sequence", data.sequences)
    for j, c in enumerate(bundle.output_names):
        df[f"true_{c}"] = data.y[:, j]
    return df


def interpretation_sample(data: SequenceData, max_sequences: int, seed: int) -> tuple[list[str], np.ndarray]:
    """At most ``max_sequences`` sequences of ``data`` (seeded sample, in order) and their labels."""
    idx = np.arange(len(data))
    if max_sequences and len(data) > max_sequences:
        idx = np.sort(np.random.default_rng(seed).choice(len(data), max_sequences, replace=False))
    return [data.sequences[i] for i in idx], np.asarray(data.y)[idx]


def write_outputs(
    out_dir: str | Path,
    cfg: SequenceConfig,
    bundle: SequenceModel,
    result: FitResult,
    splits: Splits,
    test_eval: Evaluation,
    val_eval: Evaluation,
) -> Path:
    """Write ``bundle/``, ``predictions.parquet`` (test), ``history.csv``, plots, ``params.json`` and
    ``metrics.json`` into ``out_dir`` (all or nothing)."""
    from components.common.io import atomic_dir, write_json, write_table
    from components.seqmodels.bundle import save_bundle
    from components.seqmodels.plots import curves_figure, evaluation_figures

    with atomic_dir(out_dir) as out:
        save_bundle(bundle, out / "bundle")
        write_table(predictions_frame(bundle, splits.test, test_eval.pred), out / "predictions.parquet")
        write_table(pd.DataFrame(result.history), out / "history.csv")
        figures = {
            **evaluation_figures(bundle.task, splits.test.y, test_eval.pred, bundle.output_names),
            "curves.png": curves_figure(result.history),
        }
        for name, fig in figures.items():
            fig.savefig(out / name, dpi=100)
        write_json(
            {**bundle.params, "arch": cfg.arch, "fold": cfg.fold, "seed": cfg.seed}, out / "params.json"
        )
        write_json(
            {f"test_{k}": v for k, v in test_eval.metrics.items()}
            | {f"val_{k}": v for k, v in val_eval.metrics.items()}
            | {"train_seconds": result.seconds, "epochs_run": result.epochs_run},
            out / "metrics.json",
        )
    return Path(out_dir)


def run(cfg: SequenceConfig, *, splits: Splits | None = None) -> dict[str, Any]:
    """Every step without Prefect or MLflow: train (and tune) on ``cfg``, write ``cfg.out_dir``.

    Returns ``bundle``, ``result``, ``splits``, ``test`` / ``val`` evaluations, ``best_params`` and
    ``seconds``.
    """
    t0 = time.perf_counter()
    splits = splits or load(cfg)
    if cfg.fold:
        splits = fold(splits, cfg)
    length = model_length(splits, cfg)
    best = search(splits, cfg, length=length).best_params if cfg.trials > 0 else cfg.fixed_params()
    trained = train(splits, cfg, final_params(cfg, best), length=length, progress=cfg.progress)
    assert trained.bundle is not None and trained.result is not None
    test_eval = evaluate(trained.bundle, splits.test)
    val_eval = evaluate(trained.bundle, splits.val)
    if cfg.out_dir:
        write_outputs(cfg.out_dir, cfg, trained.bundle, trained.result, splits, test_eval, val_eval)
    return {
        "bundle": trained.bundle,
        "result": trained.result,
        "splits": splits,
        "test": test_eval,
        "val": val_eval,
        "best_params": best,
        "seconds": time.perf_counter() - t0,
    }
