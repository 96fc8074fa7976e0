"""Frozen, validated run configurations: one dataclass per track, defaults declared once.

:func:`config_from_mapping` builds any such dataclass from a plain mapping (CLI options, a JSON/YAML
file, Prefect flow parameters) and rejects unknown keys and wrong types with one line naming the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from components.common.errors import InputError

__all__ = ["config_from_mapping", "config_to_dict", "check_keys"]

C = TypeVar("C")


def check_keys(
    given: Mapping[str, Any] | typing.Iterable[str],
    known: typing.Iterable[str],
    what: str,
    context: str = "",
) -> None:
    """Raise :class:`InputError` naming the first key of ``given`` not in ``known`` (with a close match)."""
    known = list(known)
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where = f" {context}" if context else ""
            raise InputError(f"unknown {what} {key!r}{where}{hint}; known: {', '.join(sorted(known))}")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, key: str, what: str) -> Any:
    """``value`` checked against the annotation ``tp`` (paths become strings, lists tuples)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, what)
            except InputError as exc:
                errors.append(exc)
        raise errors[0]
    if tp is Any:
        return value
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, list | tuple):
            raise InputError(f"{what} {key!r} must be a list, got {type(value).__name__} {value!r}")
        return tuple(_coerce(v, args[0], key, what) for v in value)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise InputError(f"{what} {key!r} must be a mapping, got {type(value).__name__} {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise InputError(f"{what} {key!r} must be true or false, got {type(value).__name__} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():  # MLproject passes numbers as floats
                return int(value)
            raise InputError(f"{what} {key!r} must be an integer, got {type(value).__name__} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{what} {key!r} must be a number, got {type(value).__name__} {value!r}")
        return float(value)
    if tp is str:
        if isinstance(value, Path):
            return str(value)
        if not isinstance(value, str):
            raise InputError(f"{what} {key!r} must be a string, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"unsupported config annotation {_type_name(tp)} for {key!r}")


def config_from_mapping(cls: type[C], mapping: Mapping[str, Any], *, what: str = "option") -> C:
    """An instance of the dataclass ``cls`` from ``mapping``; unset fields keep their defaults.

    Raises
    ------
    InputError
        An unknown key, a missing required key or a value of the wrong type, naming the key.
    """
    if not isinstance(mapping, Mapping):
        raise InputError(f"a configuration must be a mapping, got {type(mapping).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    check_keys(mapping, fields, what)
    hints = typing.get_type_hints(cls)
    values = {k: _coerce(v, hints[k], k, what) for k, v in mapping.items()}
    for name, f in fields.items():
        if (
            name not in values
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            raise InputError(f"{what} {name!r} is required")
    return cls(**values)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass (tuples as lists)."""

    def plain(v: Any) -> Any:
        if isinstance(v, tuple | list):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {str(k): plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}
