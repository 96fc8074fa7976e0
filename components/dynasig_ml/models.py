"""Model specifications: ``lasso`` (α grid) or any scikit-learn regressor by short name or dotted path.

Spec grammar: ``NAME[:key=value,key=value]`` where NAME is a short name (:data:`SHORT_NAMES`) or a
dotted path ``package.module.Class``; values are Python literals (``3``, ``0.1``, ``'rbf'``, ``None``)
or bare strings. ``lasso`` takes ``alphas=[...]`` (default 2^-15 ... 2^0, as DynaSig-ML) plus any
:class:`sklearn.linear_model.Lasso` parameter. Every estimator with a ``random_state`` gets the seed.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from typing import Any

from components.common.errors import InputError

__all__ = ["ModelSpec", "parse_model_spec", "make_estimator", "SHORT_NAMES", "DEFAULT_ALPHAS"]

DEFAULT_ALPHAS: tuple[float, ...] = tuple(2.0**k for k in range(-15, 1))

SHORT_NAMES: dict[str, str] = {
    "lasso": "sklearn.linear_model.Lasso",
    "ridge": "sklearn.linear_model.Ridge",
    "enet": "sklearn.linear_model.ElasticNet",
    "rf": "sklearn.ensemble.RandomForestRegressor",
    "et": "sklearn.ensemble.ExtraTreesRegressor",
    "gbr": "sklearn.ensemble.GradientBoostingRegressor",
    "hgb": "sklearn.ensemble.HistGradientBoostingRegressor",
    "svr": "sklearn.svm.SVR",
    "knn": "sklearn.neighbors.KNeighborsRegressor",
    "mlp": "sklearn.neural_network.MLPRegressor",
}


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model specification.

    Attributes
    ----------
    name : str
        Label used in run names and outputs (``lasso``, ``rf``, ``SVR``...).
    path : str
        Dotted path of the estimator class.
    params : dict
        Constructor parameters.
    alphas : tuple of float or None
        The α grid (LASSO only), searched on validation data.
    """

    name: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    alphas: tuple[float, ...] | None = None

    @property
    def is_lasso(self) -> bool:
        return self.alphas is not None

    def describe(self) -> str:
        extra = ",".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.name}({extra})" if extra else self.name


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_model_spec(spec: str) -> ModelSpec:
    """Parse ``NAME[:k=v,...]`` (see module doc)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"bad model spec {spec!r}")
    head, _, tail = spec.strip().partition(":")
    params: dict[str, Any] = {}
    if tail:
        depth, buf, parts = 0, "", []
        for ch in tail:  # split on commas outside brackets
            depth += ch in "([{"
            depth -= ch in ")]}"
            if ch == "," and depth == 0:
                parts.append(buf)
                buf = ""
            else:
                buf += ch
        parts.append(buf)
        for part in parts:
            key, eq, value = part.partition("=")
            if not eq or not key.strip().isidentifier():
                raise InputError(f"bad model parameter {part!r} in {spec!r} (expected key=value)")
            params[key.strip()] = _literal(value.strip())
    low = head.lower()
    if low in SHORT_NAMES:
        path, name = SHORT_NAMES[low], low
    elif "." in head:
        path, name = head, head.rsplit(".", 1)[1]
    else:
        raise InputError(f"unknown model {head!r}: use one of {', '.join(SHORT_NAMES)} or a dotted path")
    alphas = None
    if path == SHORT_NAMES["lasso"]:
        raw = params.pop("alphas", DEFAULT_ALPHAS)
        if isinstance(raw, int | float):
            raw = (raw,)
        try:
            alphas = tuple(sorted((float(a) for a in raw), reverse=True))
        except (TypeError, ValueError):
            raise InputError(f"bad alphas in {spec!r}") from None
        if not alphas or min(alphas) <= 0:
            raise InputError(f"alphas must be positive in {spec!r}")
    spec_obj = ModelSpec(name=name, path=path, params=params, alphas=alphas)
    make_estimator(spec_obj, seed=0)  # fail early on a bad class or parameter
    return spec_obj


def make_estimator(spec: ModelSpec, *, seed: int = 0, alpha: float | None = None) -> Any:
    """Instantiate the estimator of ``spec`` (with ``random_state=seed`` where supported)."""
    module_name, _, cls_name = spec.path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), cls_name)
    except (ImportError, AttributeError, ValueError):
        raise InputError(f"cannot import model class {spec.path!r}") from None
    params = dict(spec.params)
    if spec.is_lasso:
        params.setdefault("max_iter", 2000)
        params.setdefault("selection", "cyclic")
        if alpha is not None:
            params["alpha"] = alpha
    try:
        est = cls(**params)
    except TypeError as exc:
        raise InputError(f"bad parameter for {spec.path}: {exc}") from None
    if not hasattr(est, "fit") or not hasattr(est, "predict"):
        raise InputError(f"{spec.path} is not a regressor (no fit/predict)")
    if "random_state" in est.get_params() and "random_state" not in spec.params:
        est.set_params(random_state=seed)
    return est
