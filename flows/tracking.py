"""The one module that talks to MLflow.

Defaults are embedded: without ``MLFLOW_TRACKING_URI`` runs go to ``sqlite:///<cwd>/mlflow.db`` with
artifacts in ``<cwd>/mlruns``; setting ``MLFLOW_TRACKING_URI`` (e.g. ``http://127.0.0.1:5000``)
switches to a real server and nothing else changes.

Layout of what a flow logs: one *parent run* per flow run (tags: Prefect flow-run id, git commit,
dataset hash), *nested runs* per model / trial, and models registered under a name with the alias
``champion`` moved only when a new version beats the current champion on its selection metric
(stored as model-version tags ``selection_metric`` / ``selection_value`` / ``greater_is_better``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flows  # noqa: F401  (sets quiet defaults before mlflow is imported)
from components.common.errors import DynamotifError

__all__ = [
    "TrackingError",
    "tracking_uri",
    "configure",
    "check_tracking",
    "parent_run",
    "nested_run",
    "active_run_id",
    "log_params",
    "log_metrics",
    "log_figure",
    "log_table",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_text",
    "set_tags",
    "log_sklearn_model",
    "log_pyfunc_model",
    "register_and_promote",
    "RegistrationResult",
    "COMPARABLE_TAGS",
    "load_pyfunc",
    "download_artifacts",
    "resolve_model_uri",
    "pip_requirements",
    "git_commit",
    "ui_command",
    "runs_table_views",
]

log = logging.getLogger(__name__)

CHAMPION = "champion"
#: experiment tag the MLflow UI reads to open an experiment on its runs table ("Model training")
EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
TRAINING_KIND = "custom_model_development"


class TrackingError(DynamotifError):
    """The tracking store is unreachable or misconfigured."""


# --------------------------------------------------------------------------------------------------
# configuration


def default_tracking_uri(cwd: str | Path | None = None) -> str:
    """``sqlite:///<cwd>/mlflow.db``: the embedded default store."""
    base = Path(cwd or os.getcwd()).resolve()
    return f"sqlite:///{base / 'mlflow.db'}"


def tracking_uri() -> str:
    """The tracking URI in effect: ``MLFLOW_TRACKING_URI`` or the embedded default."""
    return os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()


_CHECKED: set[str] = set()


def check_tracking(uri: str | None = None, *, timeout_s: float = 5.0) -> str:
    """Fail fast, with one clear line, on a tracking URI that cannot work.

    HTTP servers must answer ``/health``; ``sqlite:`` paths must be in an existing, writable folder;
    file stores are refused (MLflow 3 keeps them in maintenance mode).
    """
    uri = uri or tracking_uri()
    if uri in _CHECKED:
        return uri
    hint = "set MLFLOW_TRACKING_URI to a running server (start one with `dynamotif ui`) or unset it to use ./mlflow.db"
    if uri.startswith(("http://", "https://")):
        url = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (user-configured URL)
                if resp.status != 200:
                    raise TrackingError(
                        f"MLflow tracking server {uri} answered HTTP {resp.status} on /health; {hint}"
                    )
        except urllib.error.HTTPError as exc:
            raise TrackingError(
                f"MLflow tracking server {uri} answered HTTP {exc.code} on /health; {hint}"
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingError(f"MLflow tracking server {uri} is unreachable ({reason}); {hint}") from None
    elif uri.startswith("sqlite:"):
        path = uri.split("sqlite:///", 1)[-1] if uri.startswith("sqlite:///") else None
        if path is not None and path not in ("", ":memory:"):
            folder = Path(path).parent
            if not folder.is_dir():
                raise TrackingError(f"MLflow tracking URI {uri}: folder {folder} does not exist; {hint}")
            if not os.access(folder, os.W_OK):
                raise TrackingError(f"MLflow tracking URI {uri}: folder {folder} is not writable; {hint}")
    elif uri.startswith(("postgresql", "mysql", "mssql", "databricks")):
        pass
    elif "://" not in uri or uri.startswith("file:"):
        raise TrackingError(
            f"MLflow tracking URI {uri!r} is a file store, which MLflow 3 no longer supports by default; {hint}"
        )
    else:
        raise TrackingError(f"MLflow tracking URI {uri!r} has an unsupported scheme; {hint}")
    _CHECKED.add(uri)
    return uri


def configure(uri: str | None = None) -> str:
    """Point MLflow at ``uri`` (or the one in effect), after checking it. Returns the URI."""
    import mlflow

    uri = check_tracking(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


# --------------------------------------------------------------------------------------------------
# runs


def git_commit(repo: str | Path | None = None) -> str:
    """The commit of the dynamotif checkout: ``DYNAMOTIF_GIT_COMMIT`` when set (container builds stamp
    it), else ``git rev-parse HEAD``, else ``unknown``."""
    if os.environ.get("DYNAMOTIF_GIT_COMMIT"):
        return os.environ["DYNAMOTIF_GIT_COMMIT"]
    repo = Path(repo or Path(__file__).resolve().parents[1])
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _prefect_flow_run_id() -> str | None:
    try:
        from prefect.runtime import flow_run

        fid = flow_run.id
        return str(fid) if fid else None
    except Exception:  # noqa: BLE001 - outside a flow / prefect missing
        return None


def _flat(params: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, (list, tuple, dict)):
            text = json.dumps(value, default=str)
        else:
            text = str(value)
        out[str(key)] = text[:6000]
    return out


@contextlib.contextmanager
def parent_run(
    flow_name: str,
    *,
    experiment: str | None = None,
    run_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    dataset_hash: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """One parent MLflow run per flow run.

    Tagged with ``dynamotif.flow``, ``prefect.flow_run_id``, ``git.commit`` and
    ``dataset.hash``. The run ends ``FINISHED`` on success, ``FAILED`` on an exception and
    ``KILLED`` on Ctrl-C: it is never left ``RUNNING``.
    """
    import mlflow

    configure()
    # under `mlflow run` the run already exists (MLFLOW_RUN_ID): attach to it, keep its experiment
    attached = bool(os.environ.get("MLFLOW_RUN_ID"))
    if not attached:
        exp = mlflow.set_experiment(experiment or f"dynamotif-{flow_name}")
        if EXPERIMENT_KIND_TAG not in exp.tags:  # the UI opens it on the runs table, not the GenAI view
            mlflow.MlflowClient().set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND_TAG, TRAINING_KIND)
    all_tags = {
        "dynamotif.flow": flow_name,
        "git.commit": git_commit(),
    }
    fid = _prefect_flow_run_id()
    if fid:
        all_tags["prefect.flow_run_id"] = fid
    if dataset_hash:
        all_tags["dataset.hash"] = dataset_hash
    all_tags.update(dict(tags or {}))
    run = (
        mlflow.start_run(tags=all_tags)
        if attached
        else mlflow.start_run(run_name=run_name or flow_name, tags=all_tags)
    )
    run_id = run.info.run_id
    try:
        if params:
            mlflow.log_params(_flat(params))
        yield run
    except KeyboardInterrupt:
        _end_parent_run(run_id, "KILLED")
        raise
    except BaseException as exc:
        outage = _server_outage(exc)
        if outage is None:
            with contextlib.suppress(Exception):
                mlflow.set_tag("error", str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__)
        ended = _end_parent_run(run_id, "FAILED", reraise=outage is None)
        if outage is not None:
            fate = (
                "the run was marked FAILED once the server answered again"
                if ended
                else f"the run could not be marked FAILED: the server did not answer within {_recovery_s():.0f} s"
            )
            raise TrackingError(f"{outage}; {fate}") from None
        raise
    else:
        if not _end_parent_run(run_id, "FINISHED"):
            raise TrackingError(
                f"the MLflow server {tracking_uri()} did not answer within {_recovery_s():.0f} s "
                f"to end run {run_id} FINISHED"
            )


#: seconds a flow waits for an unreachable MLflow server to return before giving up on ending its run
RECOVERY_ENV = "DYNAMOTIF_MLFLOW_RECOVERY_S"


def _recovery_s() -> float:
    try:
        return max(0.0, float(os.environ.get(RECOVERY_ENV, "600")))
    except ValueError:
        raise TrackingError(
            f"{RECOVERY_ENV} must be a number of seconds, got {os.environ[RECOVERY_ENV]!r}"
        ) from None


def _server_answers(uri: str) -> bool:
    """Whether an HTTP tracking server answers ``/health`` now (other stores: always)."""
    if not uri.startswith(("http://", "https://")):
        return True
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except (urllib.error.URLError, TimeoutError, OSError):
        return False


def _server_outage(exc: BaseException) -> str | None:
    """One line naming the server when ``exc`` came from an MLflow call while the server is down."""
    from mlflow.exceptions import MlflowException

    uri = tracking_uri()
    if not isinstance(exc, MlflowException) or _server_answers(uri):
        return None
    return f"the MLflow server {uri} stopped answering during the run ({type(exc).__name__})"


def _end_parent_run(run_id: str, status: str, *, reraise: bool = True) -> bool:
    """End the active run ``run_id`` with ``status``. When the tracking server does not answer, wait
    for it (up to ``DYNAMOTIF_MLFLOW_RECOVERY_S`` seconds, default 600) so that the run never stays
    ``RUNNING`` after a server restart. Returns whether the run was ended."""
    import mlflow

    uri = tracking_uri()
    deadline = time.monotonic() + _recovery_s()
    try:
        mlflow.end_run(status)  # pops the active run first, then tells the server
        return True
    except Exception:  # noqa: BLE001 - re-raised below unless the server is down
        if _server_answers(uri):
            if reraise:
                raise
            return False
    log.warning("MLflow server %s does not answer: waiting for it to end run %s %s", uri, run_id, status)
    client = mlflow.MlflowClient(uri)
    while time.monotonic() < deadline:
        time.sleep(2)
        if not _server_answers(uri):
            continue
        try:
            client.set_terminated(run_id, status)
            return True
        except Exception:  # noqa: BLE001 - the server may still be starting
            continue
    return False


@contextlib.contextmanager
def nested_run(
    name: str,
    *,
    parent_run_id: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """A child run. Inside the parent's process the parent is the active run; from another
    process (Dask/process workers) pass ``parent_run_id`` explicitly.

    Raise :class:`RunKilled` (e.g. for a pruned Optuna trial, wrap ``optuna.TrialPruned``) to end
    the run ``KILLED`` instead of ``FAILED``; the exception's ``cause`` is re-raised.
    """
    import mlflow

    configure()
    if parent_run_id is not None and mlflow.active_run() is None:
        run = mlflow.start_run(run_name=name, parent_run_id=parent_run_id, tags=dict(tags or {}))
    else:
        run = mlflow.start_run(run_name=name, nested=True, parent_run_id=parent_run_id, tags=dict(tags or {}))
    try:
        if params:
            mlflow.log_params(_flat(params))
        yield run
    except RunKilled as exc:
        mlflow.set_tag("killed_reason", exc.reason)
        mlflow.end_run("KILLED")
        if exc.cause is not None:
            raise exc.cause from None
        raise
    except BaseException:
        mlflow.end_run("FAILED")
        raise
    else:
        mlflow.end_run("FINISHED")


class RunKilled(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside :func:`nested_run` to end the run KILLED (e.g. a pruned trial)."""

    def __init__(self, reason: str, cause: BaseException | None = None):
        super().__init__(reason)
        self.reason = reason
        self.cause = cause


__all__.append("RunKilled")


def active_run_id() -> str | None:
    import mlflow

    run = mlflow.active_run()
    return run.info.run_id if run else None


def set_tags(tags: Mapping[str, Any]) -> None:
    import mlflow

    mlflow.set_tags({k: str(v) for k, v in tags.items()})


def log_params(params: Mapping[str, Any]) -> None:
    import mlflow

    mlflow.log_params(_flat(params))


def log_metrics(metrics: Mapping[str, float], step: int | None = None, *, run_id: str | None = None) -> None:
    """Log finite numeric metrics (NaN/inf are skipped with a debug message) to the active run,
    or to ``run_id`` (e.g. a registered model's run) when given."""
    import math

    import mlflow

    clean: dict[str, float] = {}
    for key, value in metrics.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            clean[str(key)] = v
        else:
            log.debug("metric %s=%s not logged (not finite)", key, value)
    if not clean:
        return
    if run_id is None:
        mlflow.log_metrics(clean, step=step)
    else:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        mlflow.MlflowClient().log_batch(
            run_id, metrics=[Metric(k, v, now, step or 0) for k, v in clean.items()]
        )


def log_figure(fig: Any, artifact_file: str, *, close: bool = True) -> None:
    """Log a matplotlib figure as PNG (``artifact_file`` like ``plots/pred_vs_measured.png``)."""
    import mlflow

    mlflow.log_figure(fig, artifact_file)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)


def log_table(df: Any, artifact_file: str) -> None:
    """Log a DataFrame as CSV/TSV/Parquet artifact, chosen by the extension of ``artifact_file``."""
    import mlflow

    from components.common.io import write_table

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        write_table(df, path)
        parent = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), artifact_path=None if parent in ("", ".") else parent)


def log_artifact(path: str | Path, artifact_path: str | None = None, *, run_id: str | None = None) -> None:
    import mlflow

    if run_id is None:
        mlflow.log_artifact(str(path), artifact_path=artifact_path)
    else:
        mlflow.MlflowClient().log_artifact(run_id, str(path), artifact_path=artifact_path)


def log_artifacts(folder: str | Path, artifact_path: str | None = None, *, run_id: str | None = None) -> None:
    import mlflow

    if run_id is None:
        mlflow.log_artifacts(str(folder), artifact_path=artifact_path)
    else:
        mlflow.MlflowClient().log_artifacts(run_id, str(folder), artifact_path=artifact_path)


def log_dict(obj: Any, artifact_file: str) -> None:
    import mlflow

    mlflow.log_dict(obj, artifact_file)


def log_text(text: str, artifact_file: str) -> None:
    import mlflow

    mlflow.log_text(text, artifact_file)


# --------------------------------------------------------------------------------------------------
# models


_BASE_REQUIREMENTS = ("mlflow", "numpy", "pandas", "scipy", "scikit-learn", "pyarrow")


def pip_requirements(*extra: str) -> list[str]:
    """Explicit, pinned pip requirements for a logged model.

    Inferring them is slow (a subprocess per model) and wrong (it lists torch for a LASSO).
    ``extra`` names further distributions (``"torch"``, ``"biotite"``, ``"viennarna"``) pinned to
    the installed versions.
    """
    from importlib.metadata import PackageNotFoundError, version

    reqs = []
    for dist in (*_BASE_REQUIREMENTS, *extra):
        try:
            v = version(dist)
            v = v.split("+")[0]
            reqs.append(f"{dist}=={v}")
        except PackageNotFoundError:
            reqs.append(dist)
    return reqs


def _code_paths() -> list[str]:
    """The dynamotif packages, shipped inside every pyfunc model so it loads anywhere."""
    root = Path(__file__).resolve().parents[1]
    return [str(root / "components"), str(root / "flows")]


def log_sklearn_model(
    model: Any,
    *,
    name: str = "model",
    input_example: Any = None,
    signature: Any = None,
    extra_requirements: tuple[str, ...] = (),
) -> Any:
    """Log a scikit-learn estimator (skops format, tree types trusted). Returns ``ModelInfo``."""
    import mlflow
    from mlflow.models import infer_signature

    from components.dynasig_ml.pipeline import TRUSTED_TYPES

    if signature is None and input_example is not None:
        signature = infer_signature(input_example, model.predict(input_example))
    return mlflow.sklearn.log_model(
        model,
        name=name,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements(*extra_requirements),
        skops_trusted_types=list(TRUSTED_TYPES),
    )


def log_pyfunc_model(
    python_model: Any,
    *,
    name: str = "model",
    artifacts: Mapping[str, str] | None = None,
    input_example: Any = None,
    signature: Any = None,
    extra_requirements: tuple[str, ...] = (),
    metadata: Mapping[str, Any] | None = None,
    ship_code: bool = False,
) -> Any:
    """Log a ``mlflow.pyfunc.PythonModel`` that takes raw inputs (variants, sequences).

    The model's class lives in the installed ``dynamotif`` distribution (present wherever
    ``mlflow models serve --env-manager local`` runs and in the serving image). ``ship_code=True``
    also copies the ``components`` and ``flows`` packages into the model as ``code_paths`` for
    environments without dynamotif installed. Returns ``ModelInfo``.
    """
    import mlflow

    return mlflow.pyfunc.log_model(
        name=name,
        python_model=python_model,
        artifacts=dict(artifacts or {}),
        input_example=input_example,
        signature=signature,
        pip_requirements=pip_requirements(*extra_requirements),
        code_paths=_code_paths() if ship_code else None,
        metadata=dict(metadata or {}),
    )


@dataclass(frozen=True)
class RegistrationResult:
    """What :func:`register_and_promote` did; ``reason`` says why the alias did not move (or "")."""

    name: str
    version: str
    promoted: bool
    previous_champion: str | None
    previous_value: float | None
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "promoted": self.promoted,
            "previous_champion": self.previous_champion,
            "previous_value": self.previous_value,
            "reason": self.reason,
        }


#: version tags that must match before two versions' selection values are compared
COMPARABLE_TAGS = ("dataset_hash", "split", "validation")


def _promotion(
    current: Any, metric: str, value: float, greater_is_better: bool, comparable: Mapping[str, str]
) -> tuple[bool, float | None, str]:
    """(promote?, champion's value, reason when not) against the current champion version."""
    tags = current.tags
    if tags.get("selection_metric") != metric or "selection_value" not in tags:
        return (
            False,
            None,
            (
                f"champion v{current.version} was selected on {tags.get('selection_metric', 'an unknown metric')!r}, "
                f"not {metric!r}: not comparable"
            ),
        )
    for key, want in comparable.items():
        have = tags.get(key)
        if have != want:
            return (
                False,
                None,
                (f"champion v{current.version} has {key} {have!r}, this version {want!r}: not comparable"),
            )
    previous_value = float(tags["selection_value"])
    better = value > previous_value if greater_is_better else value < previous_value
    if better:
        return True, previous_value, ""
    return (
        False,
        previous_value,
        (f"{metric} {value:.4g} does not beat champion v{current.version} ({previous_value:.4g})"),
    )


def register_and_promote(
    model_uri: str,
    name: str,
    *,
    metric: str,
    value: float,
    greater_is_better: bool = True,
    tags: Mapping[str, Any] | None = None,
    comparable: Mapping[str, Any] | None = None,
    hold: str | None = None,
) -> RegistrationResult:
    """Register ``model_uri`` under ``name``; move the ``champion`` alias to it when it beats the
    current champion on ``metric`` and the two are comparable.

    Parameters
    ----------
    comparable
        Tags such as ``dataset_hash``, ``split`` and ``validation`` (:data:`COMPARABLE_TAGS`) stored on
        the version; a champion is compared only when its tags match all of them and ``metric``.
        Otherwise the version is registered and the alias stays (the result's ``reason`` says why).
    hold
        A reason not to promote at all (e.g. an unreliable validation score): the version is
        registered with the tag ``reliable=false`` and the alias does not move.
    """
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient()
    match = {k: str(v) for k, v in (comparable or {}).items()}
    version_tags = {
        "selection_metric": metric,
        "selection_value": repr(float(value)),
        "greater_is_better": str(bool(greater_is_better)).lower(),
        "reliable": "false" if hold else "true",
        **match,
        **{k: str(v) for k, v in (tags or {}).items()},
    }
    mv = mlflow.register_model(model_uri, name, tags=version_tags)
    previous: str | None = None
    previous_value: float | None = None
    promote, reason = True, ""
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except mlflow.exceptions.MlflowException:
        current = None  # no champion yet
    if current is not None:
        previous = current.version
        promote, previous_value, reason = _promotion(current, metric, value, greater_is_better, match)
    if hold:
        promote, reason = False, hold
    if promote:
        client.set_registered_model_alias(name, CHAMPION, mv.version)
    elif reason:
        log.warning("%s v%s: champion alias not moved: %s", name, mv.version, reason)
    return RegistrationResult(name, str(mv.version), promote, previous, previous_value, reason)


def resolve_model_uri(uri: str) -> str:
    """Accept ``models:/NAME@alias``, ``models:/NAME/3``, ``runs:/...`` or a bare registered name."""
    if "://" in uri or uri.startswith(("models:/", "runs:/")) or Path(uri).exists():
        return uri
    return f"models:/{uri}@{CHAMPION}"


def load_pyfunc(uri: str) -> Any:
    """Load a pyfunc model with a one-line error when it does not exist."""
    import mlflow

    configure()
    uri = resolve_model_uri(uri)
    try:
        return mlflow.pyfunc.load_model(uri)
    except mlflow.exceptions.MlflowException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DynamotifError(f"cannot load model {uri}: {first}") from None


def download_artifacts(uri: str, dst: str | Path | None = None) -> Path:
    """Download a model's or run's artifacts (e.g. ``models:/NAME@champion``) to a local folder."""
    import mlflow

    configure()
    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                resolve_model_uri(uri), dst_path=None if dst is None else str(dst)
            )
        )
    except mlflow.exceptions.MlflowException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DynamotifError(f"cannot download {uri}: {first}") from None


def model_run_id(uri: str) -> str | None:
    """The run id that produced a registered/logged model (to log interpretation next to it)."""
    import mlflow

    configure()
    info = mlflow.models.get_model_info(resolve_model_uri(uri))
    return info.run_id


__all__.append("model_run_id")


#: metrics shown as columns of the runs table, in this order, when an experiment's parent runs have them
KEY_METRICS = (
    "best_val_r2",
    "best_test_r2",
    "best_test_pearson_r",
    "best_test_rmse",
    "best_test_ef10",
    "val_roc_auc",
    "test_roc_auc",
    "test_pr_auc",
    "val_pearson_r",
    "test_pearson_r",
    "test_r2",
    "test_accuracy",
)
VIEW_KEY = "dynamotif"


def runs_table_views(base_url: str, *, max_columns: int = 6) -> list[tuple[str, str]]:
    """Make every experiment with runs open on its runs table with its key metrics as columns.

    MLflow's UI opens an experiment tagged ``mlflow.experimentKind = custom_model_development`` on the
    "Model training" runs table (otherwise it may open the GenAI view), and applies a saved view, the
    experiment tag ``mlflow.sharedViewState.<key>``, when the page URL carries ``viewStateShareKey=<key>``
    (the UI's own "share view" mechanism). The saved view shows the :data:`KEY_METRICS` that the
    experiment's parent runs have, newest run first. Returns ``(experiment name, URL)`` pairs, most
    recently updated experiment first.
    """
    from mlflow import MlflowClient

    client = MlflowClient()
    views = []
    for exp in client.search_experiments(order_by=["last_update_time DESC"]):
        parents = [
            r
            for r in client.search_runs([exp.experiment_id], max_results=200)
            if "mlflow.parentRunId" not in r.data.tags
        ]
        if not parents:
            continue
        have = set().union(*(r.data.metrics for r in parents))
        columns = [m for m in KEY_METRICS if m in have][:max_columns]
        state = {
            "selectedColumns": [f"metrics.`{m}`" for m in columns],
            "orderByKey": "attributes.start_time",
            "orderByAsc": False,
        }
        if exp.tags.get(EXPERIMENT_KIND_TAG) is None:
            client.set_experiment_tag(exp.experiment_id, EXPERIMENT_KIND_TAG, TRAINING_KIND)
        client.set_experiment_tag(exp.experiment_id, f"mlflow.sharedViewState.{VIEW_KEY}", json.dumps(state))
        url = f"{base_url.rstrip('/')}/#/experiments/{exp.experiment_id}/runs?viewStateShareKey={VIEW_KEY}"
        views.append((exp.name, url))
    return views


def ui_command(host: str = "127.0.0.1", port: int = 5000) -> list[str]:
    """The command that serves the MLflow UI on the store in effect."""
    uri = tracking_uri()
    if uri.startswith(("http://", "https://")):
        return []
    art = str(Path(os.getcwd()).resolve() / "mlruns")
    return [
        "mlflow",
        "server",
        "--backend-store-uri",
        uri,
        "--default-artifact-root",
        art,
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        "1",
    ]
