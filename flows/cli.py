"""The ``dynamotif`` command line.

Every subcommand lives in ``flows/commands/<name>.py``. Errors are one line on stderr with exit
code 2; ``--verbose`` (before the subcommand) shows the traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import traceback

import typer

from components.common.errors import DynamotifError
from flows.commands import COMMAND_MODULES

app = typer.Typer(
    name="dynamotif",
    help=(
        "Learn how biomolecular variants change function, and explain why.\n\n"
        "Structure track: mutate -> signatures -> dynasig. Sequence track: sequence -> motifs. "
        "Every result goes to MLflow (`dynamotif ui` to browse); `predict` runs registered models."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_STATE = {"verbose": False}


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks and debug logs."),
) -> None:
    _STATE["verbose"] = verbose
    if verbose:
        os.environ["DYNAMOTIF_VERBOSE"] = "1"


for _name in COMMAND_MODULES:
    try:
        _mod = importlib.import_module(f"flows.commands.{_name}")
    except ModuleNotFoundError as _exc:  # a command whose module is not written yet
        if _exc.name != f"flows.commands.{_name}":
            raise
        continue
    _mod.register(app)


def _not_a_run_failure(record: logging.LogRecord) -> bool:
    """False for Prefect's reports of a failing task or flow run.

    Prefect logs a failure three times at ERROR, twice with the whole traceback, before the exception
    reaches :func:`main`, which prints it as one line. The records still reach the Prefect API (the
    filter sits on the terminal's handler only), so the Prefect UI keeps them; ``--verbose`` shows them.
    """
    return not (record.levelno >= logging.ERROR and record.name.startswith(_RUN_LOGGERS))


_RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


def _is_usage_error(exc: BaseException) -> bool:
    """A bad command line (missing/unknown option, bad value) as click or typer reports it."""
    return any(
        c.__name__ == "ClickException" and c.__module__.endswith("click.exceptions")
        for c in type(exc).__mro__
    )


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, DynamotifError):
        return exc.one_line()
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the app, turn any failure into one line + exit 2."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args[:1] or os.environ.get("DYNAMOTIF_VERBOSE") == "1"
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s")
    if not verbose:
        from flows import NOISY_LOGGERS

        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # mlflow resets its logger on import
        for handler in logging.getLogger().handlers:
            handler.addFilter(_not_a_run_failure)
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    try:
        app(args=args, standalone_mode=False)
        return 0
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001
        if _is_usage_error(exc):  # click's own, or the copy typer vendors (typer._click)
            print(f"error: {exc.format_message()} (see --help)", file=sys.stderr)  # type: ignore[attr-defined]
            return 2
        if verbose:
            traceback.print_exc()
        hint = "" if verbose or isinstance(exc, DynamotifError) else " (run with --verbose for the traceback)"
        print(f"error: {_one_line(exc)}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
