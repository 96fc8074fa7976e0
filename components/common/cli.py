"""The contract every ``python -m components.<name>`` entry point follows.

parse -> validate -> call the core -> write outputs. A :class:`DynamotifError` becomes one line on
stderr and exit code 2; any other exception too, unless ``--verbose`` asks for the traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from components.common.errors import DynamotifError

__all__ = ["run_main", "add_common_flags"]


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks and debug logs")


def run_main(
    parser: argparse.ArgumentParser,
    body: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
) -> int:
    """Parse ``argv`` with ``parser`` and run ``body``, mapping errors to exit code 2."""
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
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
