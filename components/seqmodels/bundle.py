"""The trained-model bundle (:class:`SequenceModel`): network + everything needed to use it.

``save_bundle`` writes ``weights.pt`` (a torch ``state_dict``, loaded with ``weights_only``) and
``bundle.json`` (metadata): no pickled classes. ``predict`` takes raw sequences and folds them
itself when the model uses structure.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from components.common.errors import InputError
from components.common.io import atomic_path
from components.seqmodels.alphabet import Alphabet, LengthPolicy, one_hot
from components.seqmodels.data import SequenceData
from components.seqmodels.networks import build_network, valid_conv_mask
from components.seqmodels.structure import FoldOptions, annotate, fold
from components.seqmodels.training import EncodedSet, predict_outputs

__all__ = [
    "SequenceModel",
    "make_bundle",
    "structure_contexts",
    "encode",
    "encode_data",
    "predict",
    "prediction_columns",
    "predict_frame",
    "first_layer_activations",
    "save_bundle",
    "load_bundle",
    "BUNDLE_VERSION",
]

BUNDLE_VERSION = 1


@dataclass
class SequenceModel:
    """A trained sequence model with its metadata (the unit passed to ``components.motifs``).

    ``net.first_conv`` is the first ``nn.Conv1d`` (valid convolution; activation ``p`` covers
    input positions ``[p, p + kernel_size)``).
    """

    net: nn.Module
    arch: str
    params: dict[str, Any]
    alphabet: Alphabet
    length: int
    policy: LengthPolicy
    task: str
    output_names: list[str]
    class_names: list[str] | None = None
    uses_structure: bool = False
    fold_options: FoldOptions = field(default_factory=FoldOptions)
    target_mean: list[float] | None = None
    target_std: list[float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    def metadata(self) -> dict[str, Any]:
        return {
            "bundle_version": BUNDLE_VERSION,
            "arch": self.arch,
            "params": self.params,
            "alphabet": self.alphabet.to_dict(),
            "length": self.length,
            "policy": str(self.policy),
            "task": self.task,
            "output_names": self.output_names,
            "class_names": self.class_names,
            "uses_structure": self.uses_structure,
            "fold_options": {
                "temperature": self.fold_options.temperature,
                "no_lonely_pairs": self.fold_options.no_lonely_pairs,
                "max_bp_span": self.fold_options.max_bp_span,
            },
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            "extra": self.extra,
        }


def make_bundle(
    arch: str,
    params: dict[str, Any],
    alphabet: Alphabet,
    length: int,
    data: SequenceData,
    *,
    policy: LengthPolicy | str | None = None,
    uses_structure: bool = False,
    fold_options: FoldOptions | None = None,
) -> SequenceModel:
    """A fresh (untrained) bundle for ``data``'s task; regression targets get standardised."""
    alph = alphabet.with_structure() if uses_structure else alphabet.with_structure(None)
    net = build_network(arch, alph.n_channels, length, len(data.output_names), params)
    mean = std = None
    if data.task == "regression":
        # NaN = not measured (multi-target data with missing entries)
        sd = np.nan_to_num(np.nanstd(data.y, axis=0))
        mean = np.nan_to_num(np.nanmean(data.y, axis=0)).astype(float).tolist()
        std = np.where(sd > 0, sd, 1.0).astype(float).tolist()
    return SequenceModel(
        net,
        arch,
        dict(params),
        alph,
        length,
        LengthPolicy.parse(policy),
        data.task,
        list(data.output_names),
        None if data.class_names is None else list(data.class_names),
        uses_structure,
        fold_options or FoldOptions(),
        mean,
        std,
    )


def structure_contexts(
    bundle_or_options: SequenceModel | FoldOptions,
    sequences: Sequence[str],
    dotbrackets: Sequence[str] | None = None,
    *,
    cache_dir: str | Path | None = "default",
    processes: int | None = None,
    stats: dict | None = None,
) -> list[str]:
    """Loop-context strings (``SHIME``) from given dot-brackets or by folding ``sequences``."""
    opts = (
        bundle_or_options.fold_options if isinstance(bundle_or_options, SequenceModel) else bundle_or_options
    )
    dbs = (
        list(dotbrackets)
        if dotbrackets is not None
        else fold(sequences, options=opts, cache_dir=cache_dir, processes=processes, stats=stats)
    )
    return [annotate(db) for db in dbs]


def _one_hot(
    bundle: SequenceModel,
    sequences: Sequence[str],
    contexts: Sequence[str] | None,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    seqs = [s.upper() for s in sequences]
    return one_hot(
        seqs,
        bundle.alphabet,
        bundle.length,
        bundle.policy,
        structures=contexts if bundle.uses_structure else None,
        names=names,
    )


def encode(
    bundle: SequenceModel,
    sequences: Sequence[str],
    *,
    dotbrackets: Sequence[str] | None = None,
    cache_dir: str | Path | None = "default",
) -> torch.Tensor:
    """Raw sequences -> one-hot tensor (n, channels, length) as the network expects.

    Folds the sequences (cached) when the model uses structure and no dot-brackets are given.
    Padding columns are all zero (the networks rebuild the mask from that).
    """
    contexts = (
        structure_contexts(bundle, sequences, dotbrackets, cache_dir=cache_dir)
        if bundle.uses_structure
        else None
    )
    X, _ = _one_hot(bundle, sequences, contexts)
    return torch.from_numpy(X)


def encode_data(bundle: SequenceModel, data: SequenceData, contexts: Sequence[str] | None) -> EncodedSet:
    """Training/evaluation tensors for ``data`` (regression targets standardised)."""
    X, mask = _one_hot(bundle, data.sequences, contexts, data.names)
    y: np.ndarray = data.y.astype(np.float32)
    if bundle.task == "regression" and bundle.target_mean is not None and bundle.target_std is not None:
        y = (y - np.asarray(bundle.target_mean, np.float32)) / np.asarray(bundle.target_std, np.float32)
    return EncodedSet(torch.from_numpy(X), torch.from_numpy(mask), torch.from_numpy(y.astype(np.float32)))


def _destandardise(bundle: SequenceModel, out: np.ndarray) -> np.ndarray:
    if bundle.task == "regression" and bundle.target_mean is not None and bundle.target_std is not None:
        return out * np.asarray(bundle.target_std, np.float32) + np.asarray(bundle.target_mean, np.float32)
    return out


def predict_encoded(bundle: SequenceModel, X: torch.Tensor, mask: torch.Tensor | None = None) -> np.ndarray:
    """Predictions in target units for an already encoded batch."""
    return _destandardise(bundle, predict_outputs(bundle.net, bundle.task, X, mask))


def predict(
    bundle: SequenceModel,
    sequences: Sequence[str],
    *,
    dotbrackets: Sequence[str] | None = None,
    cache_dir: str | Path | None = "default",
) -> np.ndarray:
    """Raw sequences -> (n, n_outputs): probabilities (binary: of the positive class) or values."""
    if len(sequences) == 0:
        return np.zeros((0, bundle.n_outputs), dtype=np.float32)
    X = encode(bundle, sequences, dotbrackets=dotbrackets, cache_dir=cache_dir)
    return predict_encoded(bundle, X)


def prediction_columns(output_names: Sequence[str], task: str) -> list[str]:
    """Prediction columns that say what they are: ``p_<class>`` (classification, the probability
    of that class; binary: of the positive class) or ``pred_<target>`` (regression)."""
    prefix = "pred_" if task == "regression" else "p_"
    return [f"{prefix}{n}" for n in output_names]


def predict_frame(
    bundle: SequenceModel, sequences: Sequence[str], *, dotbrackets: Sequence[str] | None = None
) -> pd.DataFrame:
    """:func:`predict` as a table with :func:`prediction_columns` (what the served model answers)."""
    return pd.DataFrame(
        predict(bundle, sequences, dotbrackets=dotbrackets),
        columns=prediction_columns(bundle.output_names, bundle.task),
    )


@torch.no_grad()
def first_layer_activations(
    bundle: SequenceModel, X: torch.Tensor | np.ndarray, batch_size: int = 1024
) -> np.ndarray:
    """Post-ReLU activations of ``net.first_conv``, (n, kernels, L - kernel_size + 1), float32.

    Windows that touch padding are 0.
    """
    net = bundle.net.eval()
    conv = net.first_conv
    if not isinstance(conv, torch.nn.Conv1d):
        raise TypeError("bundle.net.first_conv must be an nn.Conv1d")
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float32)) if isinstance(X, np.ndarray) else X.float()
    outs = []
    for i in range(0, len(Xt), batch_size):
        xb = Xt[i : i + batch_size]
        m = valid_conv_mask((xb.sum(1) > 0).float(), int(conv.kernel_size[0]))
        outs.append((F.relu(conv(xb)) * m.unsqueeze(1)).numpy())
    return np.concatenate(outs) if outs else np.zeros((0, conv.out_channels, 0), np.float32)


def save_bundle(bundle: SequenceModel, directory: str | Path) -> Path:
    """Write ``weights.pt`` + ``bundle.json`` into ``directory``."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    with atomic_path(d / "weights.pt") as tmp:
        torch.save({k: v.detach().cpu() for k, v in bundle.net.state_dict().items()}, tmp)
    with atomic_path(d / "bundle.json") as tmp:
        tmp.write_text(json.dumps(bundle.metadata(), indent=2) + "\n")
    return d


def load_bundle(directory: str | Path) -> SequenceModel:
    """Inverse of :func:`save_bundle`."""
    d = Path(directory)
    meta_path = d / "bundle.json"
    if not meta_path.exists():
        raise InputError("not a sequence-model bundle (bundle.json missing)", file=d)
    meta = json.loads(meta_path.read_text())
    if meta.get("bundle_version") != BUNDLE_VERSION:
        raise InputError(f"unsupported bundle version {meta.get('bundle_version')}", file=meta_path)
    alph = Alphabet.from_dict(meta["alphabet"])
    net = build_network(
        meta["arch"], alph.n_channels, int(meta["length"]), len(meta["output_names"]), meta["params"]
    )
    net.load_state_dict(torch.load(d / "weights.pt", map_location="cpu", weights_only=True))
    net.eval()
    fo = meta.get("fold_options") or {}
    return SequenceModel(
        net=net,
        arch=meta["arch"],
        params=meta["params"],
        alphabet=alph,
        length=int(meta["length"]),
        policy=LengthPolicy.parse(meta["policy"]),
        task=meta["task"],
        output_names=list(meta["output_names"]),
        class_names=meta.get("class_names"),
        uses_structure=bool(meta["uses_structure"]),
        fold_options=FoldOptions(**fo) if fo else FoldOptions(),
        target_mean=meta.get("target_mean"),
        target_std=meta.get("target_std"),
        extra=meta.get("extra") or {},
    )
