"""The production stack without containers: real processes on 127.0.0.1.

- PostgreSQL from the Debian ``postgresql`` package: ``initdb`` of a temporary cluster (trust
  authentication, 127.0.0.1 only, a free port), one database each for MLflow and Prefect;
- ``mlflow server`` on the ``mlflow`` database with proxied artifacts (``--artifacts-destination``);
- ``prefect server start`` on the ``prefect`` database;
- a Prefect process worker on the ``dynamotif-process`` pool, running flow runs from this checkout.

Used by the fixtures of ``tests/stack`` and by ``benchmarks/stack_startup.py``. Every service is a
child process in its own session, stopped (and its temporary folders removed) on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import REPO, _stop, free_port, wait_http

__all__ = [
    "Stack",
    "StackUnavailable",
    "api",
    "postgres_bindir",
    "postgres_cluster",
    "running_stack",
    "wait_flow_run",
]

PROCESS_POOL = "dynamotif-process"
BIN = Path(sys.executable).parent


class StackUnavailable(RuntimeError):
    """A system package the stack needs (PostgreSQL) is not installed."""


@dataclass
class Stack:
    """Addresses and start-up figures of a running stack."""

    root: Path
    postgres_url: str  # postgresql+psycopg2://postgres@127.0.0.1:PORT (no database)
    mlflow_uri: str
    prefect_api: str
    env: dict[str, str]  # the environment for Prefect/MLflow CLIs that talk to this stack
    timings: dict[str, float] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def database(self, name: str) -> str:
        return f"{self.postgres_url}/{name}"

    def log(self, name: str) -> str:
        """The last lines of a service's log (for failure messages)."""
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else f"(no {path.name})"


# --------------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_bindir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``PG_BINDIR``, Debian's newest ``/usr/lib/postgresql/N/bin``,
    or the PATH. Raises :class:`StackUnavailable` when PostgreSQL is not installed."""
    candidates = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates += debian
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb") or "").resolve().parent)
    for c in candidates:
        if (c / "initdb").exists() and (c / "pg_ctl").exists():
            return c
    raise StackUnavailable("PostgreSQL is not installed (apt-get install postgresql, or set PG_BINDIR)")


def _as_db_owner(cmd: list[str]) -> list[str]:
    """``initdb`` and ``postgres`` refuse to run as root: run them as the ``postgres`` system user."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if runuser is None:
        raise StackUnavailable("running as root needs runuser (util-linux) to start PostgreSQL")
    return [runuser, "-u", "postgres", "--", *cmd]


@contextlib.contextmanager
def postgres_cluster(timings: dict[str, float] | None = None) -> Iterator[str]:
    """A temporary PostgreSQL cluster on a free 127.0.0.1 port with databases ``mlflow`` and
    ``prefect``; yields ``postgresql+psycopg2://postgres@127.0.0.1:PORT``."""
    import psycopg2

    bindir = postgres_bindir()
    timings = {} if timings is None else timings
    # not under pytest's tmp dir: that one is private to root, and the cluster belongs to `postgres`
    root = Path(tempfile.mkdtemp(prefix="dynamotif-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    port = free_port()
    t0 = time.perf_counter()
    try:
        subprocess.run(
            _as_db_owner(
                [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
                + ["--no-locale", "--no-sync"]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        timings["postgres_initdb_s"] = time.perf_counter() - t0
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_db_owner(
                [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w", "-o", opts]
                + ["-t", "60", "start"]
            ),
            check=True,
            capture_output=True,
            text=True,
        )
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}"
        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE DATABASE mlflow")
            cur.execute("CREATE DATABASE prefect")
        conn.close()
        timings["postgres_s"] = time.perf_counter() - t0
    except subprocess.CalledProcessError as exc:
        log = (root / "postgres.log").read_text() if (root / "postgres.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {exc.stderr}\n{log[-2000:]}") from None
    try:
        yield url
    finally:
        subprocess.run(
            _as_db_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# MLflow, Prefect, worker


def _spawn(stack: Stack, name: str, cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    log = open(stack.root / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True
    )
    log.close()
    stack.procs[name] = proc
    return proc


def _prefect(stack: Stack, *args: str, timeout: float = 180) -> str:
    res = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", *args],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if res.returncode != 0:
        raise RuntimeError(f"prefect {' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res.stdout


def deploy(stack: Stack, *names: str) -> None:
    """``prefect deploy`` of deployments from ``prefect.yaml`` (the process pool variants)."""
    args = [a for n in names for a in ("--name", n)]
    _prefect(stack, "deploy", "--prefect-file", str(REPO / "prefect.yaml"), *args)


@contextlib.contextmanager
def running_stack(root: Path, *, worker: bool = True) -> Iterator[Stack]:
    """PostgreSQL, MLflow and Prefect servers on it, and (``worker``) a process worker; all stopped on exit.

    ``stack.timings`` holds the seconds each part took to become ready and ``startup_s``, the total.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with postgres_cluster(timings) as pg:
        mlport, pfport = free_port(), free_port()
        env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "PREFECT_HOME": str(root / "prefect-home"),
            "PREFECT_API_URL": f"http://127.0.0.1:{pfport}/api",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_API_URL": f"http://127.0.0.1:{pfport}/api",
            "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{mlport}",
            "MLFLOW_ENABLE_TELEMETRY": "false",
            "DO_NOT_TRACK": "1",
            "DYNAMOTIF_REPO": str(REPO),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        }
        for key in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME", "MLFLOW_RUN_ID", "MLFLOW_REGISTRY_URI"):
            env.pop(key, None)
        stack = Stack(
            root=root,
            postgres_url=pg,
            mlflow_uri=env["MLFLOW_TRACKING_URI"],
            prefect_api=env["PREFECT_API_URL"],
            env=env,
            timings=timings,
        )
        try:
            t1 = time.perf_counter()
            _spawn(
                stack,
                "mlflow",
                [
                    str(BIN / "mlflow"),
                    "server",
                    "--backend-store-uri",
                    stack.database("mlflow"),
                    "--artifacts-destination",
                    str(root / "mlartifacts"),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mlport),
                    "--workers",
                    "1",
                ],
                env,
                root,
            )
            _spawn(
                stack,
                "prefect-server",
                [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(pfport)],
                {
                    **env,
                    "PREFECT_SERVER_DATABASE_CONNECTION_URL": stack.database("prefect").replace(
                        "+psycopg2", "+asyncpg"
                    ),
                },
                root,
            )
            _wait(stack, "prefect-server", f"{stack.prefect_api}/health")
            timings["prefect_server_s"] = time.perf_counter() - t1
            if worker:
                # the worker creates its process pool on first start; it needs only the Prefect API
                _spawn_worker(stack)
            _wait(stack, "mlflow", f"{stack.mlflow_uri}/health")
            timings["mlflow_server_s"] = time.perf_counter() - t1
            if worker:
                _wait_worker(stack, PROCESS_POOL, 180)
                timings["worker_s"] = time.perf_counter() - t1
            timings["startup_s"] = time.perf_counter() - t0
            yield stack
        finally:
            for proc in reversed(list(stack.procs.values())):
                _stop(proc)


def _spawn_worker(stack: Stack) -> None:
    _spawn(
        stack,
        "worker",
        [str(BIN / "prefect"), "worker", "start", "--pool", PROCESS_POOL, "--type", "process"],
        {**stack.env, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "5"},
        REPO,
    )


def restart_worker(stack: Stack, timeout_s: float = 180) -> None:
    """A fresh process worker (after a test killed the first one), waited for until online."""
    _stop(stack.procs["worker"])
    _spawn_worker(stack)
    _wait_worker(stack, PROCESS_POOL, timeout_s)


def create_automations(stack: Stack) -> str:
    """``prefect automation create`` of the repository's ``prefect-automations.yaml``."""
    return _prefect(stack, "automation", "create", "--from-file", str(REPO / "prefect-automations.yaml"))


def _wait(stack: Stack, name: str, url: str, timeout_s: float = 240) -> None:
    try:
        wait_http(url, timeout_s, stack.procs[name])
    except Exception as exc:  # noqa: BLE001
        raise RuntimeError(f"{name} did not start: {exc}\n{stack.log(name)}") from None


def _wait_worker(stack: Stack, pool: str, timeout_s: float) -> None:
    """Until the pool reports an online worker (the worker has registered its heartbeat)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        proc = stack.procs["worker"]
        if proc.poll() is not None:
            raise RuntimeError(f"the worker exited with {proc.returncode}\n{stack.log('worker')}")
        try:
            workers = api(stack, "POST", f"/work_pools/{pool}/workers/filter", {})
        except LookupError:  # the worker has not created its pool yet
            workers = []
        if any(w.get("status") == "ONLINE" for w in workers):
            return
        time.sleep(0.5)
    raise TimeoutError(f"no worker of {pool} came online in {timeout_s:.0f} s\n{stack.log('worker')}")


# --------------------------------------------------------------------------------------------------
# Prefect REST API (the calls the Prefect UI makes)


def api(stack: Stack, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
    """One JSON call to the Prefect server's REST API; raises with the server's answer on 4xx/5xx
    (:class:`LookupError` for 404)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        stack.prefect_api + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310
            text = r.read().decode()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise LookupError(f"{method} {path}: HTTP 404 {exc.read().decode()[:500]}") from None
        raise RuntimeError(f"{method} {path}: HTTP {exc.code} {exc.read().decode()[:500]}") from None
    return json.loads(text) if text else None


def run_deployment_via_api(stack: Stack, flow: str, deployment: str, parameters: dict[str, Any]) -> str:
    """Create a flow run of ``flow/deployment`` as the UI's *Run* button does; returns its id."""
    dep = api(stack, "GET", f"/deployments/name/{flow}/{deployment}")
    run = api(stack, "POST", f"/deployments/{dep['id']}/create_flow_run", {"parameters": parameters})
    return str(run["id"])


def wait_flow_run(stack: Stack, flow_run_id: str, timeout_s: float) -> dict[str, Any]:
    """Poll the flow run until its state is final; returns the flow run as the API gives it."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = api(stack, "GET", f"/flow_runs/{flow_run_id}")
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"flow run {flow_run_id} still {run['state_type']} after {timeout_s:.0f} s\n{stack.log('worker')}"
            )
        time.sleep(1)
