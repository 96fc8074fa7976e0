"""Hardening for the project's served models: bad input is a 4xx with a clear message.

``mlflow models serve`` (MLflow 3.17) answers ``POST /invocations`` like this (measured, see
``tests/serving``):

* schema violations (a missing column of the model signature, an empty ``dataframe_records``
  list), unparsable JSON, an empty body or an unknown payload key are rejected by MLflow itself
  with **400** before the model runs; a content type other than JSON/CSV/Parquet gets **415**;
* an :class:`~mlflow.exceptions.MlflowException` raised inside ``predict`` is answered with the HTTP
  status of its ``error_code``: ``INVALID_PARAMETER_VALUE`` gives **400** and the JSON body carries
  our message;
* any other exception inside ``predict`` is also turned into a 400, but with the generic text
  "Encountered an unexpected error while evaluating the model" and the server-side traceback in the
  body: useless to the client and a leak;
* a request still running after ``MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT`` seconds (60) gets a 504 while
  the worker thread keeps computing, so a huge batch must be refused *before* the work starts.

The project's pyfunc wrappers therefore validate at the boundary with these helpers::

    from components.common.serving import check_batch, validate_column

    class DynasigModel(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            df = check_batch(model_input, columns=["variant"])
            keys = validate_column(df["variant"], canonical_variant, column="variant")
            ...

or wrap a whole ``predict`` with :func:`guarded_predict`. Every refusal is an ``MlflowException`` with
``INVALID_PARAMETER_VALUE`` (HTTP 400) whose message names the column, the rows and the reason.
The batch cap is ``DYNAMOTIF_SERVE_MAX_ROWS`` (default :data:`DEFAULT_MAX_ROWS`) unless given.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

from components.common.errors import DynamotifError

__all__ = [
    "DEFAULT_MAX_ROWS",
    "MAX_ROWS_ENV",
    "bad_request",
    "batch_limit",
    "check_batch",
    "guarded_predict",
    "input_errors_as_bad_request",
    "validate_column",
]

T = TypeVar("T")

DEFAULT_MAX_ROWS = 10_000
MAX_ROWS_ENV = "DYNAMOTIF_SERVE_MAX_ROWS"
_LISTED = 5  # invalid rows quoted in one message


def bad_request(message: str) -> MlflowException:
    """An exception MLflow's scoring server answers with HTTP 400 and ``message`` in the body."""
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def batch_limit(default: int = DEFAULT_MAX_ROWS) -> int:
    """The batch cap: ``$DYNAMOTIF_SERVE_MAX_ROWS`` when set (a positive integer), else ``default``."""
    raw = os.environ.get(MAX_ROWS_ENV, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_ROWS_ENV} must be a positive integer, got {raw!r}") from None
    if value < 1:
        raise ValueError(f"{MAX_ROWS_ENV} must be a positive integer, got {raw!r}")
    return value


def _example(columns: Sequence[str]) -> str:
    record = ", ".join(f'"{c}": ...' for c in columns)
    return f'{{"dataframe_records": [{{{record}}}]}}'


def _as_frame(model_input: Any, columns: Sequence[str]) -> pd.DataFrame:
    if isinstance(model_input, pd.DataFrame):
        return model_input
    if isinstance(model_input, pd.Series):
        return model_input.to_frame()
    if isinstance(model_input, dict):
        try:
            return pd.DataFrame(model_input)
        except ValueError:
            return pd.DataFrame([model_input])
    if isinstance(model_input, list) and all(isinstance(r, dict) for r in model_input):
        return pd.DataFrame(model_input)
    kind = type(model_input).__name__
    if isinstance(model_input, np.ndarray):
        kind = f"an array of shape {model_input.shape}"
    raise bad_request(
        f"expected a table with column(s) {', '.join(repr(c) for c in columns)}, got {kind}; "
        f"send e.g. {_example(columns)}"
    )


def check_batch(
    model_input: Any,
    *,
    columns: Sequence[str],
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Validate the shape of a request before any work is done.

    Parameters
    ----------
    model_input
        What MLflow passes to ``predict``: normally a ``pandas.DataFrame``; a list of records or a
        dict of columns is converted.
    columns
        Columns the model needs; each must be present and non-null in every row.
    max_rows
        The largest batch accepted; ``None`` reads ``$DYNAMOTIF_SERVE_MAX_ROWS`` (default 10,000).

    Returns
    -------
    pandas.DataFrame
        The input as a frame (the same object when it already was one).

    Raises
    ------
    MlflowException
        ``INVALID_PARAMETER_VALUE`` (HTTP 400) for an empty batch, a batch over the cap, missing
        columns or empty cells, with a message naming what is wrong.
    """
    cap = batch_limit() if max_rows is None else int(max_rows)
    df = _as_frame(model_input, columns)
    n = len(df)
    if n == 0:
        raise bad_request(f"empty batch: send at least one row, e.g. {_example(columns)}")
    if n > cap:
        raise bad_request(
            f"batch of {n} rows exceeds the limit of {cap} rows per request; split it into smaller requests"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        got = ", ".join(repr(str(c)) for c in df.columns) or "none"
        raise bad_request(
            f"missing column(s) {', '.join(repr(c) for c in missing)} (got {got}); send e.g. {_example(columns)}"
        )
    for col in columns:
        values = df[col]
        empty = (
            values.isna().to_numpy() | values.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy()
        )
        if empty.any():
            rows = np.flatnonzero(empty)
            listed = ", ".join(str(r) for r in rows[:_LISTED])
            more = f" (and {len(rows) - _LISTED} more)" if len(rows) > _LISTED else ""
            raise bad_request(f"column {col!r} is empty in row(s) {listed}{more}")
    return df


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DynamotifError):
        return exc.one_line()
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def validate_column(
    values: Iterable[Any],
    check: Callable[[Any], T],
    *,
    column: str,
    errors: tuple[type[BaseException], ...] = (DynamotifError, ValueError, TypeError, KeyError),
) -> list[T]:
    """Apply ``check`` to every value; collect all failures into one 400 error.

    ``check`` parses or validates one value (e.g. ``canonical_variant``) and raises one of
    ``errors`` for a bad one. Returns the list of ``check`` results when every value passes;
    otherwise raises ``bad_request`` quoting the first few bad rows, their values and reasons.
    """
    out: list[T] = []
    bad: list[str] = []
    n_bad = 0
    for row, value in enumerate(values):
        try:
            out.append(check(value))
        except errors as exc:
            n_bad += 1
            if len(bad) < _LISTED:
                shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "...'"
                bad.append(f"row {row} {shown}: {_reason(exc)}")
    if n_bad:
        more = f" (and {n_bad - len(bad)} more)" if n_bad > len(bad) else ""
        raise bad_request(f"{n_bad} invalid value(s) in column {column!r}: " + "; ".join(bad) + more)
    return out


@contextmanager
def input_errors_as_bad_request(
    errors: tuple[type[BaseException], ...] = (DynamotifError, ValueError, TypeError, KeyError),
) -> Iterator[None]:
    """Turn domain/value errors raised inside the block into a 400 with their one-line message."""
    try:
        yield
    except MlflowException:
        raise
    except errors as exc:
        raise bad_request(_reason(exc)) from exc


def guarded_predict(
    columns: Sequence[str], *, max_rows: int | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate ``PythonModel.predict``: :func:`check_batch` first, input errors become 400s.

    The decorated ``predict(self, context, model_input, params=None)`` receives the validated
    frame. Errors that are not input errors (bugs) still propagate unchanged.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def predict(self: Any, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
            df = check_batch(model_input, columns=columns, max_rows=max_rows)
            with input_errors_as_bad_request():
                return fn(self, context, df, params)

        return predict

    return decorate
