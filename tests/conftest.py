"""Shared test fixtures.

``SHARED_DATA`` is the project's ``../shared/data`` (real datasets with provenance). Tests that need
it are skipped with a clear reason when it is absent (e.g. a clone without ``shared/`` beside it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data"))
EXAMPLES = REPO / "examples"

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def _terminate_like_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_configure(config) -> None:
    """SIGTERM (a CI time limit, ``kill``) ends the run the way Ctrl-C does: pytest then tears the
    fixtures down, so the servers they started in their own sessions (MLflow, Prefect, PostgreSQL,
    model servers) are stopped instead of outliving the run."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate_like_interrupt)


def shared(*parts: str) -> Path:
    """Path under ``../shared/data``; skips the test when it is missing."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not available: {p}")
    return p


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared data not available: {SHARED_DATA}")
    return SHARED_DATA


# --------------------------------------------------------------------------------------------------
# real services


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout_s: float, proc=None) -> None:
    """Poll ``url`` until it answers 200, the process dies, or ``timeout_s`` passes."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001
            last = exc
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout_s:.0f} s ({last})")


def _stop(proc) -> None:
    import signal
    import subprocess

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real ``mlflow server`` on a free 127.0.0.1 port (sqlite backend, proxied artifacts).

    Yields the tracking URI (``http://127.0.0.1:PORT``). Started once per test session.
    """
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("mlflow_server")
    port = free_port()
    log = open(root / "server.log", "w")  # noqa: SIM115
    mlflow_bin = Path(sys.executable).with_name("mlflow")
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "server",
            "--backend-store-uri",
            f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination",
            str(root / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=root,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_http(uri + "/health", 180, proc)
    except Exception:
        _stop(proc)
        log.close()
        raise RuntimeError((root / "server.log").read_text()[-3000:]) from None
    yield uri
    _stop(proc)
    log.close()


@pytest.fixture
def mlflow_env(mlflow_server, monkeypatch, tmp_path):
    """Point MLflow (env + client) at the session's real server; cwd is a fresh tmp dir."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(mlflow_server)
    mlflow.set_registry_uri(mlflow_server)
    yield mlflow_server
    while mlflow.active_run() is not None:
        mlflow.end_run("FAILED")


@pytest.fixture(scope="session")
def prefect_harness():
    """Prefect's test harness: a temporary Prefect database/API for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture
def serve_model():
    """Factory: ``serve_model(model_uri, env) -> base_url`` runs ``mlflow models serve
    --env-manager local`` on a free 127.0.0.1 port; stopped at the end of the test."""
    import subprocess
    import sys

    procs = []

    def _serve(model_uri: str, env: dict | None = None, timeout_s: float = 180) -> str:
        port = free_port()
        mlflow_bin = Path(sys.executable).with_name("mlflow")
        proc = subprocess.Popen(
            [
                str(mlflow_bin),
                "models",
                "serve",
                "-m",
                model_uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "--workers",
                "1",
            ],
            env={
                **os.environ,
                # the scoring server execs `uvicorn`: the venv's bin must be on PATH
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
                **(env or {}),
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http(url + "/ping", timeout_s, proc)
        except Exception:
            _stop(proc)
            out = proc.stdout.read().decode(errors="replace")[-3000:] if proc.stdout else ""
            raise RuntimeError(f"model server failed: {out}") from None
        return url

    yield _serve
    for p in procs:
        _stop(p)


def post_json(url: str, payload, timeout: float = 60):
    """POST JSON; returns (status, parsed body or text)."""
    import json
    import urllib.error
    import urllib.request

    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
            body = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


_MLFLOW_ENV_KEYS = (
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
)


@pytest.fixture(autouse=True)
def _isolate_mlflow_globals():
    """MLflow keeps process-wide state (``set_experiment`` even writes ``MLFLOW_EXPERIMENT_ID`` into
    ``os.environ``; tracking/registry URIs are module globals). Put it back as it was before each
    test, so one test's store never leaks into the next test or its subprocesses."""
    import sys

    saved = {k: os.environ.get(k) for k in _MLFLOW_ENV_KEYS}
    uris = None
    if "mlflow" in sys.modules:
        from mlflow.tracking import _model_registry, _tracking_service

        uris = (_tracking_service.utils._tracking_uri, _model_registry.utils._registry_uri)
    yield
    for key, value in saved.items():
        if key in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_RUN_ID"):
            os.environ.pop(key, None)  # written by mlflow.set_experiment/start_run, never by the user
        elif value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if "mlflow" in sys.modules:
        import mlflow
        from mlflow.tracking import _model_registry, _tracking_service

        while mlflow.active_run() is not None:
            mlflow.end_run("FAILED")
        _tracking_service.utils._tracking_uri, _model_registry.utils._registry_uri = uris or (None, None)


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: int = 120, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """Run ``python -m flows.cli ARGS`` in ``cwd`` (default: the repository root) as a user would
    (text output captured)."""
    return subprocess.run(
        [sys.executable, "-m", "flows.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
