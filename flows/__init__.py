"""dynamotif flows: Prefect orchestration + MLflow tracking (no numerics here).

Importing this package sets quiet, offline-safe defaults for Prefect and MLflow before either is
imported: no telemetry (no host is reachable), Prefect logs at WARNING so a user sees our progress,
not the engine's chatter. Every default can be overridden by setting the variable yourself.
"""

import os

for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_UI_ENABLED": "true",
    # the ephemeral API server needs more than the default 20 s on a busy 2-core machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "DO_NOT_TRACK": "1",
    "MLFLOW_ENABLE_TELEMETRY": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "GIT_PYTHON_REFRESH": "quiet",
    # fail fast against an unreachable tracking server instead of retrying for minutes
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}.items():
    os.environ.setdefault(_key, _value)

# MLflow nags about type hints / cloudpickle on every pyfunc log; our pyfunc models carry explicit
# signatures and input examples, so these say nothing to a user.
import warnings as _warnings  # noqa: E402

for _pattern in (
    r".*Add type hints to the `predict` method",  # MLflow prefixes ANSI colour codes
    r".*Type hint used in the model.s predict function",
    r".*Passing a Python object as `python_model`",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",  # lightning 2.6 on torch 2.13
):
    _warnings.filterwarnings("ignore", message=_pattern)

#: loggers that are chatty at INFO; the CLI keeps them at WARNING unless --verbose
NOISY_LOGGERS = (
    "mlflow",
    "httpx",
    "httpcore",
    "prefect",
    "alembic",
    "urllib3",
    "numba",
    "lightning",
    "lightning.pytorch",
    "lightning.fabric",
    "pytorch_lightning",
    "distributed",
    "asyncio",
)
