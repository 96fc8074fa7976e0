"""``SequenceConfig``: every option of the sequence track, its default declared here once.

The typer command (``dynamotif sequence``), ``python -m components.seqmodels``, the Prefect flow
(``flows/sequence.py``), ``mlproject/MLproject`` and the benchmarks all build one of these and hand
it to :mod:`components.seqmodels.run`. :meth:`SequenceConfig.from_mapping` rejects unknown keys and
wrong types with one line naming the key; unknown network/training parameters in ``params`` (e.g.
``droput_conv``) are rejected the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.common.errors import InputError
from components.common.typed_config import check_keys, coerce_fields, config_from_mapping, config_to_dict

__all__ = [
    "SequenceConfig",
    "TASK_CHOICES",
    "ARCH_CHOICES",
    "DEFAULTS",
    "network_param_names",
    "check_params",
]

TASK_CHOICES = ("auto", "binary", "multiclass", "multilabel", "regression")
#: the architectures of :mod:`components.seqmodels.networks` (not imported here: the CLI stays light)
ARCH_CHOICES = ("cnn", "cnn_gru")


def network_param_names(arch: str) -> list[str]:
    """The keys ``params`` may hold for ``arch``: network, training, and ``ensemble``."""
    from components.seqmodels.networks import CNN_DEFAULTS, CNN_GRU_DEFAULTS
    from components.seqmodels.training import TRAIN_DEFAULTS

    net = {"cnn": CNN_DEFAULTS, "cnn_gru": CNN_GRU_DEFAULTS}[arch]
    return [*net, *TRAIN_DEFAULTS, "ensemble"]


def check_params(params: Mapping[str, Any], arch: str, *, what: str = "network/training parameter") -> None:
    """Raise :class:`InputError` naming the first key of ``params`` that ``arch`` does not know."""
    check_keys(params, network_param_names(arch), what, f"for --arch {arch}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"option {name!r} must be one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class SequenceConfig:
    """One sequence-track run (training data to registered model and motif report).

    Attributes
    ----------
    data
        FASTA per class (``NAME=FILE`` or ``FILE``), one multi-label FASTA, or tables.
    test
        Test files, same layout; empty: a seeded 80/10/10 split of ``data``.
    target
        Target column(s) of a table.
    task
        ``auto`` or one of binary, multiclass, multilabel, regression.
    arch
        ``cnn`` (pysster-style) or ``cnn_gru`` (Saluki-style).
    fold
        Add RNA secondary structure (ViennaRNA MFE).
    trials
        Optuna trials (0: train ``params`` over the defaults once).
    ensemble
        The final model is a seed ensemble of this many members (1: a single model).
    missing_targets
        ``error`` or ``mask`` (regression tables: NaN targets left out of loss and metrics).
    name
        The run's name, and the registered model's when tracked.
    epochs
        Maximum epochs (None: the training default).
    seed
        Seed of the split, the initialisation and the study.
    out_dir
        Where the bundle, ``summary.json`` and (component CLI) the tables and plots go.
    alphabet, length, policy
        ``auto``/DNA/RNA/protein/letters; input length (None: the longest training sequence);
        pad/crop policy.
    params
        Fixed network/training parameters over the defaults (keys checked against ``arch``).
    search_space, storage, study_name, pruner, initial_configs
        Optuna: search-space YAML, storage URL, shared study name, ``median``/``none``, trials
        enqueued first.
    cache_dir
        Folding cache (None: ``~/.cache/dynamotif/fold``).
    experiment
        MLflow experiment (None: ``dynamotif-sequence``).
    progress
        Show progress bars.
    motifs, motif_sequences, motif_db, motif_params
        Interpret the final model on at most ``motif_sequences`` test sequences with this motif
        database and :class:`components.motifs.config.MotifConfig` overrides.
    """

    data: tuple[str, ...]
    test: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    task: str = "auto"
    arch: str = "cnn"
    fold: bool = False
    trials: int = 0
    ensemble: int = 1
    missing_targets: str = "error"
    name: str | None = None
    epochs: int | None = None
    seed: int = 0
    out_dir: str | None = None
    alphabet: str = "auto"
    length: int | None = None
    policy: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    search_space: str | None = None
    storage: str | None = None
    study_name: str | None = None
    pruner: str = "median"
    initial_configs: tuple[dict[str, Any], ...] = ()
    cache_dir: str | None = None
    experiment: str | None = None
    progress: bool = False
    motifs: bool = True
    motif_sequences: int = 500
    motif_db: str | None = None
    motif_params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        coerce_fields(self)
        if not self.data:
            raise InputError("option 'data' needs at least one file (--data FILE ...)")
        _choice("task", self.task, TASK_CHOICES)
        _choice("arch", self.arch, ARCH_CHOICES)
        _choice("missing_targets", self.missing_targets, ("error", "mask"))
        _choice("pruner", self.pruner, ("median", "none"))
        for key, low in (("trials", 0), ("ensemble", 1), ("motif_sequences", 0)):
            if getattr(self, key) < low:
                raise InputError(f"option {key!r} must be >= {low}, got {getattr(self, key)}")
        for key in ("epochs", "length"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise InputError(f"option {key!r} must be >= 1, got {value}")
        check_params(self.params, self.arch)
        for cfg in self.initial_configs:
            check_params(cfg, self.arch, what="parameter of an initial trial")
        from components.motifs.config import MotifConfig

        MotifConfig.from_mapping(self.motif_params)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> SequenceConfig:
        """Build from a plain mapping; unknown keys and wrong types are one-line errors naming the key."""
        return config_from_mapping(cls, mapping)

    def replace(self, **changes: Any) -> SequenceConfig:
        """A copy with ``changes`` (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (lists for tuples); ``from_mapping(c.to_dict()) == c``."""
        return config_to_dict(self)

    def fixed_params(self) -> dict[str, Any]:
        """``params`` with ``epochs`` applied (``max_epochs``) and ``ensemble`` taken out."""
        base = {k: v for k, v in self.params.items() if k != "ensemble"}
        if self.epochs:
            base["max_epochs"] = self.epochs
        return base

    def n_members(self) -> int:
        """The final model's ensemble size: ``ensemble``, else an ``ensemble`` inside ``params``."""
        return int(self.params.get("ensemble", 1)) if self.ensemble == 1 else self.ensemble


#: every option's default (from the dataclass: declared once); ``data`` has none
DEFAULTS: dict[str, Any] = {
    f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
    for f in dataclasses.fields(SequenceConfig)
    if f.name != "data"
}
