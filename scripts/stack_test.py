#!/usr/bin/env python3
"""make stack-test: the production stack of docker/compose.yaml brought up for real with podman, used
through the Prefect API, and put through three faults.

Steps (wall time of each in the JSON line printed at the end):

1. ``tools``: apt-get install of podman, buildah, runc, debootstrap, uidmap, slirp4netns and
   fuse-overlayfs when missing; ``podman-compose`` into this venv when missing. podman runs with runc
   and explicit ulimits (a private ``containers.conf``: the default runtime cannot set rlimits here).
2. ``base_image``: the registry-free Debian base image (``docker/make_base_image.sh``).
3. ``build``: the ``postgres``, ``flows`` and ``serve`` targets of ``docker/Dockerfile`` (the host CA
   bundle and local wheel folders mounted at build time only).
4. ``compose_up``: ``podman-compose up`` of PostgreSQL, then MLflow (artifact proxy) and the Prefect
   server, then the worker on the docker pool, each waited for on its own healthcheck (podman 4.3
   runs healthchecks on demand only: ``podman healthcheck run``).
5. ``deploy``: ``prefect deploy --all`` of ``prefect.yaml``.
6. ``runs``: a DynaSig and a sequence run created through the Prefect REST API (what the UI's *Run*
   button sends) on ``dynasig-docker`` / ``sequence-docker``; both must complete.
7. ``readback``: their MLflow runs (PostgreSQL-backed), an artifact of each downloaded through the
   artifact proxy, the registered versions and their ``champion`` alias.
8. ``serve``: the ``serve`` image serves ``models:/stack-dynasig@champion`` and answers a real request
   (and a malformed one with a 4xx).
9. Faults: ``crash`` (the flow-run container of a DynaSig run is killed while it computes signature
   chunks: the run ends CRASHED; a new run of the deployment completes, reusing the chunks already
   written), ``postgres_restart`` (PostgreSQL restarted while idle: MLflow and Prefect answer again by
   themselves, nothing lost), ``mlflow_outage`` (the MLflow server stopped while a flow logs: the flow
   fails with one line and its run ends FAILED once the server is back).

Root only. Environment: TAG (image tag, default ``latest``), BASE_IMAGE, KEEP=1 (keep the work folder
and leave the stack up), SKIP_BUILD=1 (use the images already built). Prints one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMPOSE_FILE = REPO / "docker" / "compose.yaml"
PROJECT = "dynamotif"
NETWORK = "dynamotif-net"
DOCKER_POOL = "dynamotif-docker"
TAG = os.environ.get("TAG", "latest")
BASE_IMAGE = os.environ.get("BASE_IMAGE", "localhost/dynamotif-base:bookworm")
TARGETS = ("postgres", "flows", "serve")
APT_PACKAGES = {  # package -> a file it installs
    "podman": "/usr/bin/podman",
    "buildah": "/usr/bin/buildah",
    "runc": "/usr/sbin/runc",
    "debootstrap": "/usr/sbin/debootstrap",
    "uidmap": "/usr/bin/newuidmap",
    "slirp4netns": "/usr/bin/slirp4netns",
    "fuse-overlayfs": "/usr/bin/fuse-overlayfs",
}
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""
DYNASIG_MODEL = "stack-dynasig"
SEQUENCE_MODEL = "stack-sequence"
#: a request to the served DynaSig model: two variants of examples/mir125a (mutated and scored inside)
SERVE_ROWS = [
    {"variant": "U9G;G77U;G79U", "mcfold_energy": -88.881},
    {"variant": "U9G;C10G;G77C;C78A;G79U", "mcfold_energy": -90.45},
]

T0 = time.monotonic()
TIMES: dict[str, float] = {}
RESULT: dict[str, Any] = {"benchmark": "stack_test", "steps_s": TIMES}


class StackTestError(RuntimeError):
    """A step of the stack test failed (the message says which and why)."""


def log(msg: str) -> None:
    print(f"[stack-test {time.monotonic() - T0:6.0f}s] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(name: str) -> Iterator[None]:
    log(f"--- {name}")
    t0 = time.monotonic()
    yield
    TIMES[name] = round(time.monotonic() - t0, 1)
    log(f"{name}: {TIMES[name]} s")


def sh(
    cmd: list[str],
    *,
    out: Path | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
    **kw: Any,
) -> subprocess.CompletedProcess:
    """Run ``cmd``; its output goes to ``out`` (a log file) or is captured. Raises with the output's tail."""
    if out is not None:
        with open(out, "a") as fh:
            res = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, env=env, **kw)
        text = out.read_text(errors="replace")[-3000:]
    else:
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)
        text = (res.stdout or "") + (res.stderr or "")
    if check and res.returncode != 0:
        raise StackTestError(f"{' '.join(cmd[:6])} ... exited {res.returncode}:\n{text[-3000:]}")
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 30) -> tuple[int, str]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 - our own servers
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def wait_until(what: str, probe, timeout_s: float, every: float = 1.0) -> Any:
    """Call ``probe()`` until it returns a truthy value (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - not ready yet
            last = exc
        time.sleep(every)
    raise StackTestError(f"timed out after {timeout_s:.0f} s waiting for {what} (last error: {last})")


# --------------------------------------------------------------------------------------------------
# the stack


class Stack:
    """The compose project and the addresses the host reaches it on."""

    def __init__(self, work: Path):
        self.work = work
        self.mlflow_port = free_port()
        self.prefect_port = free_port()
        self.socket = work / "podman.sock"
        self.data = work / "data"  # mounted at /data in flow-run containers
        self.env_file = work / "stack.env"
        self.mlflow = f"http://127.0.0.1:{self.mlflow_port}"
        self.prefect = f"http://127.0.0.1:{self.prefect_port}/api"
        self.service_proc: subprocess.Popen | None = None

    def container(self, service: str) -> str:
        return f"{PROJECT}_{service}_1"

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(BIN / "podman-compose"), "--in-pod", "false", "-f", str(COMPOSE_FILE)]
        return sh([*cmd, "--env-file", str(self.env_file), *args], out=self.work / "compose.log", check=check)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        status, text = http(method, self.prefect + path, body)
        if status >= 400:
            raise StackTestError(f"Prefect API {method} {path}: HTTP {status} {text[:300]}")
        return json.loads(text) if text else None

    def healthy(self, service: str) -> bool:
        res = sh(["podman", "healthcheck", "run", self.container(service)], check=False)
        return res.returncode == 0

    def wait_healthy(self, *services: str, timeout_s: float = 300) -> None:
        for service in services:
            wait_until(f"{service} healthy", lambda s=service: self.healthy(s), timeout_s, every=2)


def install_tools() -> None:
    missing = [pkg for pkg, path in APT_PACKAGES.items() if not Path(path).exists()]
    if missing:
        log(f"apt-get install {' '.join(missing)}")
        sh(["apt-get", "update", "-q"])
        sh(
            ["apt-get", "install", "-y", "-q", *missing],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    if not (BIN / "podman-compose").exists():
        log("pip install podman-compose")
        sh([str(BIN / "pip"), "install", "-q", "-c", str(REPO / "constraints.txt"), "podman-compose>=1.6,<2"])


def pip_config(key: str) -> str:
    res = sh([sys.executable, "-m", "pip", "config", "get", f"global.{key}"], check=False)
    return res.stdout.strip() if res.returncode == 0 else ""


def build_images(work: Path) -> None:
    """podman build of the stack's targets; the CA bundle and wheel folders are mounted, never copied."""
    cmd = [
        "podman",
        "build",
        "--runtime",
        "runc",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=4096:4096",
    ]
    cmd += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "-f", str(REPO / "docker" / "Dockerfile")]
    ca = os.environ.get("PIP_CERT") or pip_config("cert") or "/etc/ssl/certs/ca-certificates.crt"
    if Path(ca).is_file():
        cmd += ["-v", f"{ca}:/run/host-ca.crt:ro"]
    wheels = os.environ.get("PIP_FIND_LINKS") or pip_config("find-links")
    if wheels and Path(wheels).is_dir():
        cmd += ["-v", f"{wheels}:/run/host-wheels:ro"]
    local_indexes = []
    for url in (os.environ.get("PIP_EXTRA_INDEX_URL") or pip_config("extra-index-url")).split():
        folder = url.removeprefix("file://").removesuffix("/simple")
        if url.startswith("file://") and Path(folder).is_dir():
            cmd += ["-v", f"{folder}:{folder}:ro"]
            local_indexes.append(url)
    if local_indexes:
        cmd += ["--build-arg", f"PIP_EXTRA_INDEX_URL={' '.join(local_indexes)}"]
    for target in TARGETS:
        t0 = time.monotonic()
        sh(
            [*cmd, "--target", target, "-t", f"localhost/dynamotif-{target}:{TAG}", str(REPO)],
            out=work / f"build-{target}.log",
        )
        TIMES[f"build_{target}"] = round(time.monotonic() - t0, 1)
        log(f"built dynamotif-{target}:{TAG} in {TIMES[f'build_{target}']} s")
    sh(["podman", "image", "prune", "-f"], check=False)  # dangling layers of replaced tags


def image_sizes() -> dict[str, float]:
    """Sizes (GB) of the project's images present."""
    res = sh(
        [
            "podman",
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}} {{.Size}}",
            "--filter",
            "reference=localhost/dynamotif-*",
        ]
    )
    sizes: dict[str, float] = {}
    for line in res.stdout.splitlines():
        ref = line.split()[0]
        raw = sh(["podman", "image", "inspect", "--format", "{{.Size}}", ref]).stdout.strip()
        sizes[ref.removeprefix("localhost/")] = round(int(raw) / 1e9, 2)
    return sizes


def start_socket(stack: Stack) -> None:
    """podman's Docker-compatible API, which the worker container starts flow-run containers through."""
    log_file = open(stack.work / "podman-service.log", "w")  # noqa: SIM115 - closed with the process
    stack.service_proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{stack.socket}"],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until("podman API socket", stack.socket.exists, 60, every=0.5)
    os.chmod(stack.socket, 0o660)  # the worker runs as uid 10001 with group 0 (DOCKER_GID)


def write_env(stack: Stack) -> None:
    values = {
        "POSTGRES_USER": "dynamotif",
        "POSTGRES_PASSWORD": secrets.token_hex(12),
        "POSTGRES_IMAGE": f"localhost/dynamotif-postgres:{TAG}",
        "BASE_IMAGE": BASE_IMAGE,
        "DYNAMOTIF_IMAGE": f"localhost/dynamotif-flows:{TAG}",
        "MLFLOW_PORT": str(stack.mlflow_port),
        "PREFECT_PORT": str(stack.prefect_port),
        "MLFLOW_WORKERS": "2",
        "PREFECT_UI_API_URL": stack.prefect,
        "DOCKER_SOCKET": str(stack.socket),
        "DOCKER_GID": "0",
        "DOCKER_POOL": DOCKER_POOL,
    }
    stack.env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    stack.env_file.chmod(0o600)


def compose_up(stack: Stack) -> None:
    """Up in dependency order, each service waited for on its own healthcheck."""
    stack.compose("down", "-v", check=False)  # leftovers of an interrupted run
    t0 = time.monotonic()
    stack.compose("up", "-d", "--no-build", "--no-deps", "postgres")
    stack.wait_healthy("postgres")
    TIMES["up_postgres"] = round(time.monotonic() - t0, 1)
    stack.compose("up", "-d", "--no-build", "--no-deps", "mlflow", "prefect-server")
    stack.wait_healthy("prefect-server")
    TIMES["up_prefect_server"] = round(time.monotonic() - t0, 1)
    stack.wait_healthy("mlflow")
    TIMES["up_mlflow"] = round(time.monotonic() - t0, 1)
    stack.compose("up", "-d", "--no-build", "--no-deps", "prefect-worker")

    def worker_online() -> bool:
        workers = stack.api("POST", f"/work_pools/{DOCKER_POOL}/workers/filter", {})
        return any(w.get("status") == "ONLINE" for w in workers)

    wait_until("a worker of the docker pool online", worker_online, 300, every=2)
    stack.wait_healthy("prefect-worker")
    TIMES["up_worker"] = round(time.monotonic() - t0, 1)


def host_env(stack: Stack) -> dict[str, str]:
    """The environment of the Prefect CLI / MLflow client on the host, talking to the stack."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PREFECT_API_URL": stack.prefect,
        "PREFECT_HOME": str(stack.work / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_TRACKING_URI": stack.mlflow,
        "DYNAMOTIF_REPO": str(REPO),
        "DYNAMOTIF_IMAGE": f"localhost/dynamotif-flows:{TAG}",
        "DYNAMOTIF_DOCKER_NETWORK": NETWORK,
        "MLFLOW_TRACKING_URI_FOR_CONTAINERS": "http://mlflow:5000",
    }
    return env


def deploy(stack: Stack) -> int:
    env = host_env(stack)
    prefect = str(BIN / "prefect")
    sh(
        [
            prefect,
            "--no-prompt",
            "work-pool",
            "create",
            "dynamotif-process",
            "--type",
            "process",
            "--overwrite",
        ],
        env=env,
        cwd=REPO,
        out=stack.work / "deploy.log",
    )
    sh(
        [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(REPO / "prefect.yaml")],
        env=env,
        cwd=REPO,
        out=stack.work / "deploy.log",
    )
    # flow runs that die without a word are marked CRASHED once their heartbeats stop
    sh(
        [
            prefect,
            "--no-prompt",
            "automation",
            "create",
            "--from-file",
            str(REPO / "prefect-automations.yaml"),
        ],
        env=env,
        cwd=REPO,
        out=stack.work / "deploy.log",
    )
    deployments = stack.api("POST", "/deployments/filter", {})
    return len(deployments)


# --------------------------------------------------------------------------------------------------
# inputs and flow runs


def stage_inputs(stack: Stack) -> None:
    """Inputs of the runs, in the folder flow-run containers see at /data (they run as uid 10001)."""
    import pandas as pd

    for sub in ("mir125a", "rbp", "work"):
        (stack.data / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "examples" / "mir125a" / "mir125a_WT.pdb", stack.data / "mir125a")
    df = pd.read_csv(REPO / "examples" / "mir125a" / "variants.csv")
    # as tests/stack: 16 triple mutants train, 24 with 4-6 mutations test; LASSO with 4-fold CV promotes
    pd.concat([df[df.n_mut == 3].head(16), df[df.n_mut > 3].head(24)]).to_csv(
        stack.data / "mir125a" / "variants40.csv", index=False
    )
    # the crash fault: all 300 variants in 60 chunks of 5, killed after 3
    df.to_csv(stack.data / "mir125a" / "variants300.csv", index=False)
    for f in (REPO / "examples" / "rbp").iterdir():
        if f.name.endswith((".fasta.gz", ".yaml")):
            shutil.copy(f, stack.data / "rbp")
    for path in [stack.data, *stack.data.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)


def dynasig_params(name: str, variants: str, work_dir: str, chunk_size: int = 20) -> dict[str, Any]:
    import math

    return {
        "config": {
            "structure": "/data/mir125a/mir125a_WT.pdb",
            "variants": f"/data/mir125a/{variants}",
            "target": "eff",
            "features": ["mcfold_energy"],
            "split": "n_mut:3",
            "models": ["lasso"],
            "predictors": ["both", "features"],
            "validation": "cv:4",
            "betas": [math.e**-1, 1.0, math.e],
            "chunk_size": chunk_size,
            "name": name,
            "experiment": name,
            "work_dir": f"/data/work/{work_dir}",
        }
    }


def sequence_params(name: str, trials: int = 1, epochs: int = 4) -> dict[str, Any]:
    rbp = "/data/rbp"
    return {
        "config": {
            "data": [
                f"PUM2={rbp}/pum2.train.positive.fasta.gz",
                f"background={rbp}/pum2.train.negative.fasta.gz",
            ],
            "test": [
                f"PUM2={rbp}/pum2.test.positive.fasta.gz",
                f"background={rbp}/pum2.test.negative.fasta.gz",
            ],
            "arch": "cnn",
            "trials": trials,
            "epochs": epochs,
            "name": name,
            "experiment": name,
            "search_space": f"{rbp}/search_space.yaml",
            "out_dir": f"/data/work/{name}",
            "motifs": False,
        }
    }


def start_run(
    stack: Stack,
    flow: str,
    deployment: str,
    params: dict[str, Any],
    env: dict[str, str] | None = None,
) -> str:
    """A flow run created as the UI's *Run* button does (``POST /deployments/{id}/create_flow_run``)."""
    dep = stack.api("GET", f"/deployments/name/{flow}/{deployment}")
    job_variables: dict[str, Any] = {"volumes": [f"{stack.data}:/data"]}
    if env:
        job_variables["env"] = {**dep["job_variables"].get("env", {}), **env}
    run = stack.api(
        "POST",
        f"/deployments/{dep['id']}/create_flow_run",
        {"parameters": params, "job_variables": job_variables},
    )
    log(f"flow run {run['id']} ({run['name']}) of {flow}/{deployment}")
    return str(run["id"])


FINAL = ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")


def wait_run(stack: Stack, flow_run_id: str, timeout_s: float = 1500) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        run = stack.api("GET", f"/flow_runs/{flow_run_id}")
        return run if run["state_type"] in FINAL else None

    return wait_until(f"flow run {flow_run_id} to end", final, timeout_s, every=2)


def flow_container(flow_run_id: str) -> str | None:
    res = sh(["podman", "ps", "-q", "--filter", f"label=io.prefect.flow-run-id={flow_run_id}"], check=False)
    ids = res.stdout.split()
    return ids[0] if ids else None


def expect_completed(stack: Stack, run: dict[str, Any], what: str) -> None:
    if run["state_type"] != "COMPLETED":
        logs = stack.api(
            "POST",
            "/logs/filter",
            {"logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 30, "sort": "TIMESTAMP_DESC"},
        )
        lines = "\n".join(entry["message"][:300] for entry in reversed(logs))
        raise StackTestError(f"{what} flow run ended {run['state_type']}: {run['state']['message']}\n{lines}")


# --------------------------------------------------------------------------------------------------
# MLflow read-back


def mlflow_client(stack: Stack):
    from mlflow import MlflowClient

    return MlflowClient(stack.mlflow, registry_uri=stack.mlflow)


def parent_run_of(stack: Stack, experiment: str, flow_run_id: str):
    client = mlflow_client(stack)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return None
    runs = client.search_runs(
        [exp.experiment_id], filter_string=f"tags.`prefect.flow_run_id` = '{flow_run_id}'"
    )
    return runs[0] if runs else None


def psql(stack: Stack, database: str, sql: str) -> str:
    res = sh(
        [
            "podman",
            "exec",
            stack.container("postgres"),
            "psql",
            "-U",
            "dynamotif",
            "-d",
            database,
            "-tAc",
            sql,
        ]
    )
    return res.stdout.strip()


def read_back(stack: Stack, experiment: str, flow_run_id: str, artifact: str, work: Path) -> dict[str, Any]:
    """The flow run's parent run, its children, one artifact through the proxy and the registered model."""
    client = mlflow_client(stack)
    parent = parent_run_of(stack, experiment, flow_run_id)
    if parent is None:
        raise StackTestError(f"no MLflow run of experiment {experiment} tagged with flow run {flow_run_id}")
    if parent.info.status != "FINISHED" or not parent.info.artifact_uri.startswith("mlflow-artifacts:"):
        raise StackTestError(
            f"MLflow run {parent.info.run_id}: {parent.info.status}, artifacts at {parent.info.artifact_uri}"
        )
    children = client.search_runs(
        [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    dst = work / "artifacts" / experiment
    dst.mkdir(parents=True, exist_ok=True)
    path = Path(client.download_artifacts(parent.info.run_id, artifact, str(dst)))
    if not path.is_file() or path.stat().st_size == 0:
        raise StackTestError(f"artifact {artifact} of run {parent.info.run_id} came back empty")
    versions = client.search_model_versions(f"name = '{experiment}'")
    mine = [v for v in versions if v.run_id == parent.info.run_id]
    if not mine:
        raise StackTestError(f"run {parent.info.run_id} registered no version of {experiment}")
    try:
        champion = client.get_model_version_by_alias(experiment, "champion")
    except Exception:  # noqa: BLE001 - no alias set
        champion = None
    in_pg = psql(stack, "mlflow", f"SELECT status FROM runs WHERE run_uuid = '{parent.info.run_id}'")
    out = {
        "mlflow_run": parent.info.run_id,
        "status": parent.info.status,
        "nested_runs": len(children),
        "artifact": artifact,
        "artifact_bytes": path.stat().st_size,
        "registered_version": int(mine[0].version),
        "champion_version": int(champion.version) if champion else None,
        "champion_is_this_run": bool(champion and champion.run_id == parent.info.run_id),
        "run_in_postgres": in_pg,
    }
    if not out["champion_is_this_run"]:
        out["no_champion_reason"] = parent.data.tags.get("champion_hold") or parent.data.tags.get("reliable")
    log(f"{experiment}: {json.dumps(out)}")
    return out


# --------------------------------------------------------------------------------------------------
# serving


def serve_champion(stack: Stack) -> dict[str, Any]:
    """The serve image on the stack's network, loading the champion from the MLflow server."""
    port = free_port()
    name = f"{PROJECT}-serve-check"
    sh(["podman", "rm", "-f", name], check=False)
    sh(
        ["podman", "run", "-d", "--name", name, "--network", NETWORK, "-p", f"127.0.0.1:{port}:8080"]
        + ["-e", "MLFLOW_TRACKING_URI=http://mlflow:5000", f"localhost/dynamotif-serve:{TAG}"]
        + ["-m", f"models:/{DYNASIG_MODEL}@champion"]
    )
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.monotonic()
        wait_until(
            "the serve container's /ping",
            lambda: http("GET", url + "/ping", timeout=5)[0] == 200,
            600,
            every=2,
        )
        ready = time.monotonic() - t0
        t0 = time.monotonic()
        status, text = http(
            "POST",
            url + "/invocations",
            {"dataframe_records": SERVE_ROWS},
            300,
        )
        latency = time.monotonic() - t0
        if status != 200:
            raise StackTestError(f"serve: HTTP {status} {text[:300]}")
        preds = json.loads(text)["predictions"]
        bad_status, bad_text = http(
            "POST", url + "/invocations", {"dataframe_records": [{**SERVE_ROWS[0], "variant": "Z99Q"}]}, 60
        )
        if not 400 <= bad_status < 500:
            raise StackTestError(f"serve: a malformed variant got HTTP {bad_status} {bad_text[:300]}")
        out = {
            "ready_s": round(ready, 1),
            "request_s": round(latency, 2),
            "predictions": preds,
            "malformed_status": bad_status,
        }
        log(f"serve: {json.dumps(out)[:400]}")
        return out
    except Exception:
        log(sh(["podman", "logs", "--tail", "40", name], check=False).stdout)
        raise
    finally:
        sh(["podman", "rm", "-f", name], check=False)


# --------------------------------------------------------------------------------------------------
# faults


def fault_crash(stack: Stack) -> dict[str, Any]:
    """Kill the flow-run container while it writes signature chunks; then run the deployment again."""
    params = dynasig_params(f"{DYNASIG_MODEL}-resume", "variants300.csv", "resume", chunk_size=5)
    cache = stack.data / "work" / "resume" / "signature_cache"
    # with the pool's auto_remove, podman may remove the killed container before the worker reads its
    # exit status; the run is then marked CRASHED by prefect-automations.yaml once its heartbeats stop
    fid = start_run(stack, "dynasig", "dynasig-docker", params)
    wait_until("3 signature chunks written", lambda: len(list(cache.glob("*.npz"))) >= 3, 900, every=0.1)
    cid = flow_container(fid)
    if cid is None:
        raise StackTestError(f"no container of flow run {fid}")
    sh(["podman", "kill", cid])
    killed_at = {p.name: p.stat().st_mtime for p in cache.glob("*.npz")}
    log(f"killed flow-run container {cid[:12]} with {len(killed_at)} chunks written")
    t_kill = time.monotonic()
    crashed = wait_run(stack, fid, 300)
    crashed_after_s = round(time.monotonic() - t_kill, 1)
    sh(["podman", "rm", "-f", cid], check=False)
    before = {p.name: p.stat().st_mtime for p in cache.glob("*.npz")}  # a chunk may land while it dies
    t0 = time.monotonic()
    fid2 = start_run(stack, "dynasig", "dynasig-docker", params)
    rerun = wait_run(stack, fid2)
    expect_completed(stack, rerun, "re-run after the crash")
    after = {p.name: p.stat().st_mtime for p in cache.glob("*.npz")}
    reused = sum(1 for k, m in before.items() if after.get(k) == m)
    out = {
        "state_after_kill": crashed["state_type"],
        "state_message": (crashed["state"] or {}).get("message", "")[:200],
        "crashed_after_s": crashed_after_s,
        "chunks_at_kill": len(killed_at),
        "chunks_before_rerun": len(before),
        "chunks_total": len(after),
        "chunks_reused": reused,
        "chunks_computed_by_rerun": len(after) - reused,
        "rerun_state": rerun["state_type"],
        "rerun_s": round(time.monotonic() - t0, 1),
    }
    if crashed["state_type"] != "CRASHED":
        raise StackTestError(f"killed run ended {crashed['state_type']}, not CRASHED: {out}")
    if reused != len(before) or len(after) <= len(before):
        raise StackTestError(f"the re-run did not reuse the chunks already written: {out}")
    return out


def counts(stack: Stack) -> dict[str, int]:
    client = mlflow_client(stack)
    runs = 0
    for exp in client.search_experiments():
        runs += len(client.search_runs([exp.experiment_id], max_results=5000))
    return {
        "mlflow_runs": runs,
        "model_versions": len(client.search_model_versions(max_results=1000)),
        "prefect_flow_runs": int(stack.api("POST", "/flow_runs/count", {})),
        "prefect_deployments": len(stack.api("POST", "/deployments/filter", {})),
    }


def fault_postgres_restart(stack: Stack) -> dict[str, Any]:
    """Restart PostgreSQL while the stack is idle; MLflow and Prefect must answer again by themselves."""
    before = counts(stack)
    t0 = time.monotonic()
    sh(["podman", "restart", stack.container("postgres")])
    stack.wait_healthy("postgres")
    pg_s = time.monotonic() - t0
    failures = {"mlflow": 0, "prefect": 0}

    def mlflow_answers() -> bool:
        try:
            mlflow_client(stack).search_experiments(max_results=5)
            return True
        except Exception:
            failures["mlflow"] += 1
            raise

    def prefect_answers() -> bool:
        try:
            stack.api("POST", "/flow_runs/count", {})
            return True
        except Exception:
            failures["prefect"] += 1
            raise

    wait_until("MLflow answering after the PostgreSQL restart", mlflow_answers, 300)
    ml_s = time.monotonic() - t0
    wait_until("Prefect answering after the PostgreSQL restart", prefect_answers, 300)
    pf_s = time.monotonic() - t0
    after = counts(stack)
    out = {
        "postgres_back_s": round(pg_s, 1),
        "mlflow_back_s": round(ml_s, 1),
        "prefect_back_s": round(pf_s, 1),
        "failed_calls": failures,
        "before": before,
        "after": after,
        "nothing_lost": before == after,
    }
    if before != after:
        raise StackTestError(f"counts changed across the PostgreSQL restart: {out}")
    return out


def fault_mlflow_outage(stack: Stack) -> dict[str, Any]:
    """Stop the MLflow server while a sequence flow logs; the flow must fail with one line and its run
    end FAILED once the server is back."""
    name = f"{SEQUENCE_MODEL}-outage"
    env = {  # short client retries, so the outage shows up within seconds
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
        "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "10",
        "DYNAMOTIF_MLFLOW_RECOVERY_S": "600",
    }
    fid = start_run(stack, "sequence", "sequence-docker", sequence_params(name, trials=2, epochs=6), env)
    parent = wait_until("the flow's MLflow run", lambda: parent_run_of(stack, name, fid), 600, every=1)
    cid = flow_container(fid)
    sh(["podman", "stop", "-t", "5", stack.container("mlflow")])
    t_stop = time.monotonic()
    log(f"stopped MLflow while run {parent.info.run_id} ({parent.info.status}) logs")

    def noticed() -> bool:
        if cid is None:
            return False
        return (
            "does not answer"
            in sh(["podman", "logs", cid], check=False).stdout
            + sh(["podman", "logs", cid], check=False).stderr
        )

    try:
        wait_until("the flow to notice the outage", noticed, 300, every=2)
    finally:
        noticed_s = time.monotonic() - t_stop
        sh(["podman", "start", stack.container("mlflow")])
    stack.wait_healthy("mlflow")
    run = wait_run(stack, fid, 600)
    message = (run["state"] or {}).get("message") or ""
    status = mlflow_client(stack).get_run(parent.info.run_id).info.status
    out = {
        "flow_state": run["state_type"],
        "flow_message": message[:300],
        "message_lines": len(message.strip().splitlines()),
        "noticed_after_s": round(noticed_s, 1),
        "mlflow_run_status": status,
    }
    if run["state_type"] != "FAILED" or status != "FAILED" or out["message_lines"] != 1:
        raise StackTestError(f"MLflow outage: {out}")
    return out


# --------------------------------------------------------------------------------------------------


def main() -> int:
    if os.geteuid() != 0:
        print("stack-test: run as root (apt, debootstrap, root podman)", file=sys.stderr)
        return 2
    keep = os.environ.get("KEEP") == "1"
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped test still tears the stack down
    work = Path(tempfile.mkdtemp(prefix="dynamotif-stack-"))
    work.chmod(0o755)
    os.environ["CONTAINERS_CONF"] = str(work / "containers.conf")
    (work / "containers.conf").write_text(CONTAINERS_CONF)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    stack = Stack(work)
    ok = False
    try:
        with step("tools"):
            install_tools()
        if os.environ.get("SKIP_BUILD") != "1":
            with step("base_image"):
                sh([str(REPO / "docker" / "make_base_image.sh"), BASE_IMAGE], out=work / "base-image.log")
            with step("build"):
                build_images(work)
        RESULT["image_sizes_gb"] = image_sizes()
        start_socket(stack)
        write_env(stack)
        stage_inputs(stack)
        with step("compose_up"):
            compose_up(stack)
        with step("deploy"):
            RESULT["deployments"] = deploy(stack)
        with step("runs"):
            t0 = time.monotonic()
            dyn = start_run(
                stack, "dynasig", "dynasig-docker", dynasig_params(DYNASIG_MODEL, "variants40.csv", "dynasig")
            )
            seq = start_run(stack, "sequence", "sequence-docker", sequence_params(SEQUENCE_MODEL))
            dyn_run = wait_run(stack, dyn)
            TIMES["run_dynasig"] = round(time.monotonic() - t0, 1)
            seq_run = wait_run(stack, seq)
            TIMES["run_sequence"] = round(time.monotonic() - t0, 1)
            expect_completed(stack, dyn_run, "DynaSig")
            expect_completed(stack, seq_run, "sequence")
        with step("readback"):
            RESULT["dynasig"] = read_back(stack, DYNASIG_MODEL, dyn, "coefficients/coefficients.pdb", work)
            RESULT["sequence"] = read_back(stack, SEQUENCE_MODEL, seq, "plots/curves.png", work)
        with step("serve"):
            RESULT["serve"] = serve_champion(stack)
        faults: dict[str, Any] = {}
        RESULT["faults"] = faults
        failed = []
        for name, fault in (
            ("crash", fault_crash),
            ("postgres_restart", fault_postgres_restart),
            ("mlflow_outage", fault_mlflow_outage),
        ):
            with step(f"fault_{name}"):
                try:
                    faults[name] = fault(stack)
                except Exception as exc:  # noqa: BLE001 - the next fault still runs
                    log(f"fault {name} FAILED: {exc}")
                    faults[name] = {"error": str(exc).splitlines()[0][:500]}
                    failed.append(name)
        if failed:
            raise StackTestError(f"faults not survived: {', '.join(failed)}")
        ok = True
    except Exception as exc:  # noqa: BLE001 - reported in the JSON line, the stack torn down
        log(f"FAILED: {type(exc).__name__}: {exc}")
        RESULT["error"] = str(exc).splitlines()[0][:500]
    finally:
        RESULT["ok"] = ok
        RESULT["total_s"] = round(time.monotonic() - T0, 1)
        if not (keep and ok):
            shutdown(stack, keep)
        if keep or not ok:
            log(f"work folder kept: {work} (logs: compose.log, build-*.log; stack left up: {keep and ok})")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print(json.dumps(RESULT), flush=True)
    return 0 if ok else 1


def shutdown(stack: Stack, keep_volumes: bool) -> None:
    log("podman-compose down")
    if stack.env_file.exists():
        stack.compose("down", *([] if keep_volumes else ["-v"]), check=False)
    if stack.service_proc is not None:
        stack.service_proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            stack.service_proc.wait(10)
        if stack.service_proc.poll() is None:
            stack.service_proc.kill()


if __name__ == "__main__":
    sys.exit(main())
