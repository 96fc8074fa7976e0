"""High-level steps shared by the component CLI, the Prefect flow and the benchmarks.

``prepare_structures`` -> ``train_model`` (one configuration) -> ``evaluate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
from torch import nn

from components.common.errors import InputError
from components.seqmodels.alphabet import Alphabet, LengthPolicy
from components.seqmodels.bundle import (
    SequenceModel,
    encode_data,
    make_bundle,
    predict_encoded,
    structure_contexts,
)
from components.seqmodels.data import SequenceData
from components.seqmodels.networks import build_network, ensemble_size
from components.seqmodels.structure import FoldOptions
from components.seqmodels.training import (
    TRAIN_DEFAULTS,
    EncodedSet,
    FitResult,
    compute_metrics,
    fit,
    predict_outputs,
    primary_metric,
)

__all__ = ["prepare_structures", "train_model", "evaluate", "input_length", "split_params"]


def prepare_structures(
    datasets: Sequence[SequenceData],
    alphabet: Alphabet,
    *,
    options: FoldOptions | None = None,
    cache_dir: str | Path | None = "default",
    processes: int | None = None,
    stats: dict | None = None,
) -> list[SequenceData]:
    """Attach loop contexts to every dataset: from given dot-brackets, else by folding (one pool)."""
    if alphabet.letters not in ("ACGU", "ACGT"):
        raise InputError(f"--fold needs an RNA/DNA alphabet, got {alphabet.name} ({alphabet.letters})")
    opts = options or FoldOptions()
    to_fold = [s for d in datasets if d.structures is None for s in d.sequences]
    folded = (
        iter(structure_contexts(opts, to_fold, cache_dir=cache_dir, processes=processes, stats=stats))
        if to_fold
        else iter(())
    )
    out = []
    for d in datasets:
        if d.structures is not None:
            ctx = structure_contexts(opts, d.sequences, d.structures)
        else:
            ctx = [next(folded) for _ in d.sequences]
        out.append(replace(d, contexts=ctx))
    return out


def input_length(datasets: Sequence[SequenceData], length: int | None) -> int:
    """The model input length: ``length`` if given, else the longest training sequence."""
    longest = max(max(len(s) for s in d.sequences) for d in datasets)
    return int(length) if length else longest


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a flat configuration into (network params, training params)."""
    train = {k: params[k] for k in TRAIN_DEFAULTS if k in params}
    net = {k: v for k, v in params.items() if k not in TRAIN_DEFAULTS}
    return net, {**TRAIN_DEFAULTS, **train}


def train_model(
    train: SequenceData,
    val: SequenceData,
    alphabet: Alphabet,
    *,
    arch: str = "cnn",
    params: dict[str, Any] | None = None,
    length: int,
    policy: LengthPolicy | str | None = None,
    uses_structure: bool = False,
    fold_options: FoldOptions | None = None,
    seed: int = 0,
    accelerator: str = "auto",
    callbacks: Sequence[L.Callback] = (),
    progress: bool = False,
    history_sink: list[dict[str, float]] | None = None,
) -> tuple[SequenceModel, FitResult]:
    """Build and train one configuration; returns the bundle (best val weights) and the fit record.

    ``params["ensemble"]`` N > 1 trains a seed ensemble: member ``k`` is initialised and trained
    with seed ``seed + k`` (exactly the single model ``train_model(..., seed=seed + k)`` would
    be), each with its own early stopping and best-validation weights. The returned
    :class:`FitResult` is the ensemble's: ``seconds`` summed, ``history`` the members' rows
    (key ``member``), ``best_val_loss`` the members' mean, ``epochs_run`` their total,
    ``best_epoch`` the first member's, ``members`` the per-member fits; ``bundle.extra`` keeps
    per member ``best_epoch``, ``epochs_run``, ``member_val_loss`` and ``member_val_<metric>``,
    and the ensemble's ``val_<metric>`` (ROC-AUC or Pearson r on the validation set).
    """
    net_params, tr = split_params(params or {})
    n_members = ensemble_size(net_params)
    L.seed_everything(seed, verbose=False)
    bundle = make_bundle(
        arch,
        net_params,
        alphabet,
        length,
        train,
        policy=policy,
        uses_structure=uses_structure,
        fold_options=fold_options,
    )
    if uses_structure and (train.contexts is None or val.contexts is None):
        raise ValueError("uses_structure=True needs contexts on train/val (call prepare_structures)")
    enc_tr = encode_data(bundle, train, train.contexts if uses_structure else None)
    enc_va = encode_data(bundle, val, val.contexts if uses_structure else None)
    fit_kw: dict[str, Any] = dict(
        accelerator=accelerator,
        callbacks=callbacks,
        progress=progress,
        history_sink=history_sink,
        lr=float(tr["lr"]),
        weight_decay=float(tr["weight_decay"]),
        batch_size=int(tr["batch_size"]),
        max_epochs=int(tr["max_epochs"]),
        patience=int(tr["patience"]),
        scheduler=str(tr["scheduler"]),
        shift=int(tr["shift"]),
        shift_mode=str(tr["shift_mode"]),
    )
    bundle.params = {**net_params, **{k: tr[k] for k in tr}}
    if n_members == 1:
        result = fit(bundle.net, bundle.task, enc_tr, enc_va, seed=seed, **fit_kw)
        bundle.extra.update(best_epoch=result.best_epoch, epochs_run=result.epochs_run)
        return bundle, result
    return bundle, _fit_ensemble(bundle, net_params, enc_tr, enc_va, seed, fit_kw)


def _fit_ensemble(
    bundle: SequenceModel,
    net_params: dict[str, Any],
    enc_tr: EncodedSet,
    enc_va: EncodedSet,
    seed: int,
    fit_kw: dict[str, Any],
) -> FitResult:
    """Train ``bundle.net``'s members in turn (member ``k``: seed ``seed + k``)."""
    members = bundle.net.members
    assert isinstance(members, nn.ModuleList)
    single = {**net_params, "ensemble": 1}
    fits: list[FitResult] = []
    for k in range(len(members)):
        # re-initialised under its own seed: member k == the single model of seed + k
        L.seed_everything(seed + k, verbose=False)
        net = build_network(bundle.arch, bundle.alphabet.n_channels, bundle.length, bundle.n_outputs, single)
        members[k] = net
        res = fit(net, bundle.task, enc_tr, enc_va, seed=seed + k, **fit_kw)
        for row in res.history:
            row["member"] = k
        fits.append(res)
    metric = primary_metric(bundle.task)
    y_va = enc_va.y.numpy()

    def val_score(net: nn.Module) -> float:
        pred = predict_outputs(net, bundle.task, enc_va.X, enc_va.mask)
        return compute_metrics(bundle.task, y_va, pred)[metric]

    bundle.extra.update(
        ensemble=len(fits),
        member_seeds=[seed + k for k in range(len(fits))],
        best_epoch=[f.best_epoch for f in fits],
        epochs_run=[f.epochs_run for f in fits],
        member_val_loss=[f.best_val_loss for f in fits],
        **{
            f"member_val_{metric}": [val_score(net) for net in members],
            f"val_{metric}": val_score(bundle.net),
        },
    )
    return FitResult(
        bundle.net,
        [row for f in fits for row in f.history],
        fits[0].best_epoch,
        float(np.mean([f.best_val_loss for f in fits])),
        sum(f.epochs_run for f in fits),
        sum(f.seconds for f in fits),
        fits,
    )


def evaluate(bundle: SequenceModel, data: SequenceData) -> tuple[dict[str, float], np.ndarray]:
    """Metrics of ``bundle`` on ``data`` and the predictions (target units)."""
    enc = encode_data(bundle, data, data.contexts if bundle.uses_structure else None)
    pred = predict_encoded(bundle, enc.X, enc.mask)
    return compute_metrics(bundle.task, data.y, pred), pred
