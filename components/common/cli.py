"""The contract every command line of the project follows.

parse -> validate -> call the core -> write outputs. A :class:`DynamotifError` becomes one line on
stderr and exit code 2; any other exception too, unless ``--verbose`` asks for the traceback.

One convention for options, in the ``dynamotif`` commands and every ``python -m components.<name>``
alike: a list option takes a repeated flag (``--data a.fa --data b.fa``) or several values after one
flag (``--data a.fa b.fa``), or both mixed; a scalar option given twice is an error (never "the last
one wins"). :func:`normalize_list_args` implements it on the raw argument list, so the typer commands
(``flows/commands``) and the argparse parsers here share one definition.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Collection, Sequence

from components.common.errors import DynamotifError, InputError

__all__ = [
    "run_main",
    "add_common_flags",
    "add_list_option",
    "normalize_list_args",
    "argparse_flags",
    "positive_int",
]


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer >= 1 (counts of seeds, ensemble members, folds); argparse turns
    the refusal into one line naming the option and exits with 2."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks and debug logs")


def add_list_option(parser: argparse.ArgumentParser, flag: str, **kwargs: object) -> None:
    """An argparse list option following the convention (several values and/or a repeated flag)."""
    kwargs.setdefault("default", [])
    parser.add_argument(flag, action="extend", nargs="+", **kwargs)  # type: ignore[arg-type]


def _flag_of(token: str) -> str | None:
    """``--data`` for ``--data`` and ``--data=x``; None for a value (``-`` alone or a negative number)."""
    if not token.startswith("-") or token == "-":
        return None
    if len(token) > 1 and (token[1].isdigit() or token[1] == "."):
        return None
    return token.split("=", 1)[0]


def normalize_list_args(
    args: Sequence[str],
    list_flags: Collection[str],
    scalar_flags: Collection[str | tuple[str, ...]],
    *,
    command: str = "",
) -> list[str]:
    """Rewrite ``args`` so that each value of a list option follows its own flag.

    Parameters
    ----------
    args
        The command's arguments (after the command name).
    list_flags
        Flags of list options (every spelling: ``--data``, ``-d``).
    scalar_flags
        Flags of scalar options; a tuple groups the spellings of one option (``("--motifs",
        "--no-motifs")``), which count together.
    command
        Named in the error message.

    Returns
    -------
    list of str
        ``--data a b --data c`` becomes ``--data a --data b --data c``; everything after ``--`` is
        left alone.

    Raises
    ------
    InputError
        A scalar option given twice (its flag named).
    """
    groups: dict[str, str] = {}
    for entry in scalar_flags:
        spellings = (entry,) if isinstance(entry, str) else tuple(entry)
        for s in spellings:
            groups[s] = spellings[0]
    seen: set[str] = set()
    out: list[str] = []
    current: str | None = None  # the list flag whose values are being read
    items = list(args)
    for i, token in enumerate(items):
        if token == "--":
            out += items[i:]
            break
        flag = _flag_of(token)
        if flag is None:
            if current is not None and out and out[-1] != current:
                out.append(current)
            out.append(token)
            continue
        current = None
        if flag in list_flags:
            if "=" in token:
                out.append(token)
            else:
                current = flag
                out.append(token)
            continue
        key = groups.get(flag)
        if key is not None:
            if key in seen:
                prefix = f"{command}: " if command else ""
                raise InputError(f"{prefix}option {flag} given more than once (it takes one value)")
            seen.add(key)
        out.append(token)
    return out


def argparse_flags(parser: argparse.ArgumentParser) -> tuple[set[str], list[tuple[str, ...]]]:
    """(list flags, scalar flag groups) of an argparse parser (help and append/extend/count excluded)."""
    lists: set[str] = set()
    scalars: list[tuple[str, ...]] = []
    for action in parser._actions:  # noqa: SLF001 - argparse has no public accessor
        if not action.option_strings or isinstance(action, argparse._HelpAction):  # noqa: SLF001
            continue
        if isinstance(action, argparse._ExtendAction | argparse._AppendAction):  # noqa: SLF001
            lists.update(action.option_strings)
        elif not isinstance(action, argparse._CountAction):  # noqa: SLF001
            scalars.append(tuple(action.option_strings))
    return lists, scalars


def run_main(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` with ``parser`` and run ``body``, mapping errors to exit code 2."""
    raw = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in raw or "-v" in raw
    lists, scalars = argparse_flags(parser)
    try:
        args = parser.parse_args(normalize_list_args(raw, lists, scalars, command=parser.prog))
    except DynamotifError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    verbose = bool(getattr(args, "verbose", verbose))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s")
    try:
        rc = body(args)
        return int(rc or 0)
    except DynamotifError as exc:
        if verbose:
            traceback.print_exc()
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last-resort: one readable line
        if verbose:
            traceback.print_exc()
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"error: {type(exc).__name__}: {msg} (run with --verbose for the traceback)", file=sys.stderr)
        return 2
