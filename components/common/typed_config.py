"""Frozen configuration dataclasses built from plain mappings (CLI options, JSON files, flow parameters).

A track declares its options once, as the fields of a frozen dataclass with type hints and defaults;
:func:`config_from_mapping` builds one from a mapping and :func:`coerce_fields` (called from the
dataclass's ``__post_init__``) checks and normalises every value. Unknown keys, missing required keys
and values of the wrong type raise :class:`~components.common.errors.InputError` with one line naming
the key.

Supported field types: ``str``, ``int``, ``float``, ``bool``, ``Path``, ``dict[str, Any]`` (a mapping,
copied), ``Any``, ``tuple[T, ...]`` of those (a list or tuple is accepted; a single string becomes a
one-element tuple) and ``X | None``. :func:`check_keys` names an unknown key of any mapping (with the
closest known one), e.g. a network's parameters.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from components.common.errors import InputError

__all__ = [
    "check_keys",
    "config_from_mapping",
    "coerce_fields",
    "config_to_dict",
    "add_config_arguments",
    "config_args",
    "read_config_file",
]

C = TypeVar("C")

_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", Path: "a path"}


def check_keys(
    given: typing.Iterable[str], known: typing.Iterable[str], what: str = "option", context: str = ""
) -> None:
    """Raise :class:`InputError` naming the first key of ``given`` not in ``known``, with the closest
    known key (``unknown option 'trails' (did you mean 'trials'?)``) and the known ones listed."""
    known = sorted(known)
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where = f" {context}" if context else ""
            raise InputError(f"unknown {what} {key!r}{where}{hint}; known: {', '.join(known)}")


def _coerce(key: str, hint: Any, value: Any) -> Any:
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin is dict or hint is dict:
        if not isinstance(value, Mapping):
            raise InputError(f"option {key!r} must be a mapping, got {value!r}")
        return dict(value)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _coerce(key, args[0], value)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(hint) if a is not Ellipsis}
        if isinstance(value, (str, Path)) or not isinstance(value, (list, tuple)):
            value = [value]
        return tuple(_coerce(key, item, v) for v in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):  # a path given where the option is a plain string
            return str(value)
    elif hint is Path:
        if isinstance(value, (str, Path)) and str(value):
            return Path(value)
    else:  # pragma: no cover - a programming error in a config class
        raise TypeError(f"unsupported config field type {hint!r} for {key!r}")
    raise InputError(f"option {key!r} must be {_NAMES[hint]}, got {value!r}")


def coerce_fields(config: Any) -> None:
    """Check and normalise every field of the frozen dataclass ``config`` in place (``__post_init__``).

    Raises
    ------
    InputError
        Naming the first field whose value has the wrong type.
    """
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        value = _coerce(f.name, hints[f.name], getattr(config, f.name))
        object.__setattr__(config, f.name, value)


def config_from_mapping(cls: type[C], mapping: Mapping[str, Any]) -> C:
    """Build ``cls`` (a frozen dataclass) from ``mapping``; keys may use ``-`` for ``_``.

    A required field (no default) may carry ``metadata={"help": ...}``, quoted when it is missing.

    Raises
    ------
    InputError
        On an unknown key (with the known ones listed), a missing required key, or a wrong type.
    """
    if not isinstance(mapping, Mapping):
        raise InputError(f"configuration must be a mapping of option names to values, got {mapping!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values = {str(k).replace("-", "_"): v for k, v in mapping.items()}
    check_keys(sorted(set(values) - set(fields)), fields)
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and values.get(name) is None:
            help_text = f.metadata.get("help", "")
            raise InputError(f"option {name!r} is required{help_text and f': {help_text}'}")
    return cls(**values)


def config_to_dict(config: Any) -> dict[str, Any]:
    """Plain JSON-ready dict of a config: paths as strings, tuples as lists."""

    def plain(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v

    return {f.name: plain(getattr(config, f.name)) for f in dataclasses.fields(config)}


def _base(hint: Any) -> tuple[Any, bool]:
    """(scalar type, is a tuple) of a field type, ``X | None`` unwrapped."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if typing.get_origin(hint) is tuple:
        return next(a for a in typing.get_args(hint) if a is not Ellipsis), True
    return hint, False


def add_config_arguments(parser: argparse.ArgumentParser, cls: type, *, skip: tuple[str, ...] = ()) -> None:
    """One ``--option`` per field of the config dataclass ``cls`` (``chunk_size`` -> ``--chunk-size``).

    Tuple fields take several values after one flag or a repeated flag alike; booleans are
    ``--flag/--no-flag``. Nothing is defaulted here: an option left out keeps the config's default.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        scalar, many = _base(hints[f.name])
        help_text = f.metadata.get("help")
        if scalar is bool:
            parser.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text
            )
        elif many:
            parser.add_argument(
                flag, dest=f.name, nargs="+", action="extend", type=scalar, default=None, help=help_text
            )
        else:
            parser.add_argument(flag, dest=f.name, type=scalar, default=None, help=help_text)


def config_args(namespace: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config fields given on the command line (parsed by :func:`add_config_arguments`)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(namespace).items() if k in names and v is not None}


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The JSON object of option names to values in ``path`` (a domain error names the file)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("config file does not exist", file=path)
    try:
        mapping = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno})", file=path) from None
    if not isinstance(mapping, dict):
        raise InputError("expected a JSON object of option names to values", file=path)
    return mapping
