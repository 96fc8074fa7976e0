"""Optuna search: the space as YAML data, seeded TPE, Lightning pruning.

The flow owns the study loop and the tracking; this module only turns a YAML file into
``trial.suggest_*`` calls and builds studies/pruners.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import yaml

from components.common.errors import InputError

__all__ = ["DEFAULT_SEARCH_SPACE", "load_search_space", "suggest", "make_study", "pruning_callback"]

DEFAULT_SEARCH_SPACE = Path(__file__).with_name("search_space.yaml")
_TYPES = ("float", "int", "categorical")


def load_search_space(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check a search-space YAML (default: the packaged ``search_space.yaml``)."""
    p = Path(path) if path else DEFAULT_SEARCH_SPACE
    if not p.exists():
        raise InputError("search-space file does not exist", file=p)
    try:
        space = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {str(exc).splitlines()[0]}", file=p) from exc
    if not isinstance(space, dict):
        raise InputError("search space must be a mapping of sections", file=p)
    for section, entries in space.items():
        if section == "fixed":
            continue
        if not isinstance(entries, dict):
            raise InputError(f"section {section!r} must map names to distributions", file=p)
        for name, spec in entries.items():
            if not isinstance(spec, dict) or spec.get("type") not in _TYPES:
                raise InputError(f"{section}.{name}: needs type one of {', '.join(_TYPES)}", file=p)
            if spec["type"] == "categorical" and not spec.get("choices"):
                raise InputError(f"{section}.{name}: categorical needs choices", file=p)
            if spec["type"] != "categorical" and ("low" not in spec or "high" not in spec):
                raise InputError(f"{section}.{name}: {spec['type']} needs low and high", file=p)
    return space


def suggest(
    trial: optuna.Trial | optuna.trial.FixedTrial, space: dict[str, Any], arch: str
) -> dict[str, Any]:
    """One configuration: ``fixed`` values + suggestions from ``common`` and the ``arch`` section."""
    params: dict[str, Any] = dict(space.get("fixed") or {})
    for section in ("common", arch):
        for name, spec in (space.get(section) or {}).items():
            kind = spec["type"]
            if kind == "float":
                params[name] = trial.suggest_float(
                    name,
                    float(spec["low"]),
                    float(spec["high"]),
                    log=bool(spec.get("log", False)),
                    step=spec.get("step"),
                )
            elif kind == "int":
                params[name] = trial.suggest_int(
                    name,
                    int(spec["low"]),
                    int(spec["high"]),
                    log=bool(spec.get("log", False)),
                    step=int(spec.get("step", 1)),
                )
            else:
                params[name] = trial.suggest_categorical(name, list(spec["choices"]))
    return params


def make_study(
    *,
    seed: int,
    storage: str | None = None,
    study_name: str | None = None,
    pruner: str = "median",
) -> optuna.Study:
    """A seeded-TPE study minimising validation loss.

    ``storage``: None (in memory), or an RDB URL (``sqlite:///optuna.db``,
    ``postgresql+psycopg2://...``) so several workers share the study (``load_if_exists``).
    ``pruner``: ``median`` (MedianPruner after 1 complete trial) or ``none``.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if pruner == "median":
        p: optuna.pruners.BasePruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    elif pruner == "none":
        p = optuna.pruners.NopPruner()
    else:
        raise InputError(f"unknown pruner {pruner!r}; choose median or none")
    try:
        return optuna.create_study(
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=p,
            storage=storage,
            study_name=study_name,
            load_if_exists=storage is not None,
        )
    except (ValueError, ImportError) as exc:
        raise InputError(f"cannot open Optuna storage {storage!r}: {str(exc).splitlines()[0]}") from exc


def pruning_callback(trial: optuna.Trial, monitor: str = "val_loss") -> Any:
    """Optuna's Lightning pruning callback (reports ``monitor`` every validation epoch)."""
    from optuna_integration import PyTorchLightningPruningCallback

    return PyTorchLightningPruningCallback(trial, monitor=monitor)
