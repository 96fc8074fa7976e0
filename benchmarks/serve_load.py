"""Load test of ``mlflow models serve`` on 127.0.0.1: N concurrent clients for T seconds.

    .venv/bin/python benchmarks/serve_load.py                      # 50 clients, 30 s, stand-in model
    MLFLOW_TRACKING_URI=... .venv/bin/python benchmarks/serve_load.py --model-uri models:/dynasig@champion \
        --payload-table examples/mir125a/variants.csv --batch 1 --workers 2   # a registered project model

Without ``--model-uri`` it registers ``benchmarks/serve_model.py`` (an additive variant model behind
the project's pyfunc input contract, see that file) in a temporary sqlite registry, sets the
``champion`` alias and serves ``models:/<name>@champion``. Before the load it sends the malformed
requests of :func:`malformed_cases` and records their status codes (each must be 4xx with a message).
With ``--model-uri`` the requests are ``--batch`` rows drawn from ``--payload-table`` (a CSV/TSV whose
columns are the model's inputs: ``variant`` for DynaSig models, ``sequence`` for sequence models; extra
columns the model does not take are dropped with ``--columns``), and after the load the same requests
are predicted one after another in this process (``mlflow.pyfunc.load_model``): the model's own
single-process rate, against which the server's requests/s is reported as ``ratio``.
The peak memory is the largest summed RSS of the server's processes (all its workers) during the load.
Traffic goes to 127.0.0.1 only; the load loop is bounded in time (``--duration``) and count
(``--max-requests``). Prints ONE JSON line: requests, errors, throughput, p50/p95/p99 latency,
malformed statuses, single-process rate and ratio, peak memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODEL_CODE = REPO / "benchmarks" / "serve_model.py"
HOST = "127.0.0.1"  # never anything else: the load goes to this machine only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def register_stand_in_model(tracking_uri: str, workdir: Path, name: str = "serve-load") -> str:
    """Log ``serve_model.py`` with seeded per-position weights, register it, alias ``champion``."""
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.models import infer_signature

    rng = random.Random(0)
    weights = {"intercept": 0.5, "positions": {str(p): round(rng.gauss(0.0, 0.3), 4) for p in range(1, 200)}}
    wfile = workdir / "weights.json"
    wfile.write_text(json.dumps(weights))
    example = pd.DataFrame({"variant": ["A12C;C74A", "G10U"]})
    out = pd.DataFrame({"variant": ["A12C;C74A", "G10U"], "prediction": [0.1, 0.2]})
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    mlflow.set_experiment("serve-load")
    with mlflow.start_run(run_name="serve-load-model"):
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(MODEL_CODE),
            artifacts={"weights": str(wfile)},
            signature=infer_signature(example, out),
            input_example=example,
            pip_requirements=["mlflow", "pandas"],
        )
    mv = mlflow.register_model(info.model_uri, name)
    MlflowClient().set_registered_model_alias(name, "champion", mv.version)
    return f"models:/{name}@champion"


def start_server(
    model_uri: str,
    port: int,
    *,
    tracking_uri: str | None,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """``mlflow models serve --env-manager local`` on 127.0.0.1:port (the repo importable)."""
    penv = dict(os.environ)
    penv["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), penv.get("PYTHONPATH", "")]))
    # mlflow starts `uvicorn` by name: the interpreter's bin directory must be on PATH.
    penv["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), penv.get("PATH", "")])
    penv.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
    if tracking_uri:
        penv["MLFLOW_TRACKING_URI"] = tracking_uri
    penv.update(env or {})
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow_cli), "models", "serve", "-m", model_uri, "--env-manager", "local"]
    cmd += ["-h", HOST, "-p", str(port), "-w", str(workers)]
    return subprocess.Popen(
        cmd, cwd=REPO, env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def wait_ready(proc: subprocess.Popen, url: str, timeout_s: float = 120.0) -> float:
    """Poll ``/ping`` until 200; returns seconds waited. Raises if the server dies or times out."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
            raise RuntimeError(f"model server exited with {proc.returncode}: {err}")
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"model server not ready after {timeout_s} s")


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server's process group (uvicorn workers included), SIGKILL after 10 s."""
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if proc.stderr:
        proc.stderr.close()


def post(
    url: str, body: bytes, content_type: str = "application/json", timeout: float = 30.0
) -> tuple[int, str]:
    """POST ``body`` to ``url/invocations``; returns (status, response text)."""
    req = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def malformed_cases(max_rows: int, column: str = "variant") -> dict[str, tuple[bytes, str]]:
    """Requests a served model with input ``column`` (``variant`` or ``sequence``) must refuse with a
    4xx: name -> (body, content type)."""

    def js(obj: Any) -> bytes:
        return json.dumps(obj).encode()

    good = "A12C" if column == "variant" else "ACGUACGUAC"
    other = "sequence" if column == "variant" else "variant"
    huge = [{column: good}] * (max_rows + 1)
    cases = {
        "empty_body": (b"", "application/json"),
        "invalid_json": (b'{"dataframe_records": [{"%s": "A12C"' % column.encode(), "application/json"),
        "unknown_payload_key": (js({"rows": [{column: good}]}), "application/json"),
        "wrong_columns": (js({"dataframe_records": [{other: good}]}), "application/json"),
        "empty_batch": (js({"dataframe_records": []}), "application/json"),
        f"null_{column}": (js({"dataframe_records": [{column: None}]}), "application/json"),
        f"number_as_{column}": (js({"dataframe_records": [{column: 12}]}), "application/json"),
        "huge_batch": (js({"dataframe_records": huge}), "application/json"),
        "wrong_content_type": (f"{column}\n{good}\n".encode(), "text/plain"),
    }
    if column == "variant":
        cases["invalid_variant"] = (
            js({"dataframe_records": [{"variant": "A12C"}, {"variant": "hello"}]}),
            "application/json",
        )
        cases["position_twice"] = (js({"dataframe_records": [{"variant": "A12C;A12G"}]}), "application/json")
    else:
        cases["invalid_letters"] = (
            js({"dataframe_records": [{"sequence": good}, {"sequence": "AC-GZ!"}]}),
            "application/json",
        )
        cases["empty_sequence"] = (js({"dataframe_records": [{"sequence": ""}]}), "application/json")
    return cases


def check_malformed(url: str, max_rows: int, column: str) -> dict[str, dict[str, Any]]:
    """Send every malformed case; the status and the message of each answer."""
    out = {}
    for case, (body, ctype) in malformed_cases(max_rows, column).items():
        status, text = post(url, body, ctype)
        try:
            message = str(json.loads(text).get("message", ""))
        except (ValueError, AttributeError):
            message = text
        # MLflow puts the failing rows before the model's own message ("Failed to predict data ...
        # Error: <message>"): keep the message, on one line
        message = " ".join(message.split())
        if "Error: " in message:
            message = message.split("Error: ", 1)[1]
        out[case] = {"status": status, "message": message[:200]}
    return out


def table_payloads(
    path: Path, batch: int, columns: list[str] | None, n: int = 64, seed: int = 0
) -> tuple[list[bytes], str]:
    """``n`` request bodies of ``batch`` random rows of a CSV/TSV table; returns (bodies, input column)."""
    import pandas as pd

    table = pd.read_csv(path, sep="\t" if path.suffix in (".tsv", ".tab") else ",")
    if columns:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise SystemExit(
                f"serve_load: {path} has no column(s) {missing} (columns: {list(table.columns)})"
            )
        table = table[columns]
    column = "variant" if "variant" in table.columns else "sequence" if "sequence" in table.columns else None
    if column is None:
        raise SystemExit(f"serve_load: {path} needs a 'variant' or a 'sequence' column")
    rng = random.Random(seed)
    rows = table.to_dict(orient="records")
    bodies = [
        json.dumps({"dataframe_records": rng.sample(rows, min(batch, len(rows)))}).encode() for _ in range(n)
    ]
    return bodies, column


def single_process_rate(model_uri: str, payloads: list[bytes], seconds: float) -> dict[str, float]:
    """The model's own rate: the same requests predicted one after another in this process."""
    import mlflow
    import pandas as pd

    model = mlflow.pyfunc.load_model(model_uri)
    frames = [pd.DataFrame(json.loads(b)["dataframe_records"]) for b in payloads]
    model.predict(frames[0])  # warm-up (first-call compilation, caches)
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        model.predict(frames[done % len(frames)])
        done += 1
    wall = time.perf_counter() - t0
    return {"single_process_requests": done, "single_process_rps": round(done / wall, 2)}


class PeakRss:
    """Samples the summed RSS of a process and its children (MB) in a thread; ``peak_mb`` after stop."""

    def __init__(self, pid: int, every_s: float = 0.25):
        import threading

        self.pid, self.every_s, self.peak_mb = pid, every_s, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak_mb = max(self.peak_mb, rss / 2**20)
            except psutil.Error:
                pass
            self._stop.wait(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def good_payloads(n: int = 64, batch: int = 8, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    bases = "ACGU"

    def variant() -> str:
        positions = rng.sample(range(1, 90), rng.randint(1, 3))
        return ";".join(f"{rng.choice(bases)}{p}{rng.choice(bases)}" for p in sorted(positions))

    payloads = []
    for _ in range(n):
        records = []
        for _ in range(batch):
            v = variant()
            while any(t[0] == t[-1] for t in v.split(";")):  # no identity substitutions
                v = variant()
            records.append({"variant": v})
        payloads.append(json.dumps({"dataframe_records": records}).encode())
    return payloads


async def _load(url: str, payloads: list[bytes], clients: int, duration_s: float, max_requests: int) -> dict:
    import httpx

    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + duration_s
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(i: int, http: httpx.AsyncClient) -> None:
        nonlocal sent
        k = i
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            body = payloads[k % len(payloads)]
            k += clients
            t0 = time.perf_counter()
            try:
                r = await http.post(
                    f"{url}/invocations", content=body, headers={"Content-Type": "application/json"}
                )
                if r.status_code != 200:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                else:
                    latencies.append(time.perf_counter() - t0)
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    t_start = time.perf_counter()
    async with httpx.AsyncClient(timeout=60.0, limits=limits, trust_env=False) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    wall = time.perf_counter() - t_start
    latencies.sort()

    def pct(q: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))], 1)

    n_err = sum(errors.values())
    return {
        "requests": len(latencies) + n_err,
        "ok": len(latencies),
        "errors": n_err,
        "error_kinds": errors,
        "wall_s": round(wall, 2),
        "rps": round((len(latencies) + n_err) / wall, 1),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * latencies[-1], 1) if latencies else None,
    }


def run_load(url: str, payloads: list[bytes], clients: int, duration_s: float, max_requests: int) -> dict:
    return asyncio.run(_load(url, payloads, clients, duration_s, max_requests))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    ap.add_argument("--max-requests", type=int, default=200_000, help="hard cap on requests sent")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn workers of the model server")
    ap.add_argument("--batch", type=int, default=8, help="rows (variants / sequences) per request")
    ap.add_argument("--max-rows", type=int, default=1000, help="DYNAMOTIF_SERVE_MAX_ROWS of the server")
    ap.add_argument(
        "--keep-alive",
        type=int,
        default=30,
        help="seconds the server keeps an idle connection (UVICORN_TIMEOUT_KEEP_ALIVE; uvicorn's own is 5)",
    )
    ap.add_argument(
        "--model-uri", help="serve this model instead of the stand-in (needs MLFLOW_TRACKING_URI)"
    )
    ap.add_argument("--payload-table", type=Path, help="CSV/TSV of input rows for --model-uri")
    ap.add_argument("--columns", nargs="+", help="the table's columns to send (default: all)")
    ap.add_argument(
        "--single-process-seconds", type=float, default=10.0, help="time of the in-process rate (0: skip)"
    )
    args = ap.parse_args(argv)
    if args.clients < 1 or args.clients > 500 or args.duration <= 0 or args.duration > 600:
        ap.error("--clients must be 1..500 and --duration 0..600 s")
    if args.model_uri and not args.payload_table:
        ap.error("--payload-table is required with --model-uri")
    if args.payload_table and not args.payload_table.exists():
        ap.error(f"--payload-table {args.payload_table} does not exist")

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        work = Path(tmp)
        if args.model_uri:
            model_uri, tracking_uri = args.model_uri, os.environ.get("MLFLOW_TRACKING_URI")
            payloads, column = table_payloads(args.payload_table, args.batch, args.columns)
        else:
            tracking_uri = f"sqlite:///{work / 'mlflow.db'}"
            model_uri = register_stand_in_model(tracking_uri, work)
            payloads, column = good_payloads(batch=args.batch), "variant"
        port = free_port()
        url = f"http://{HOST}:{port}"
        proc = start_server(
            model_uri,
            port,
            tracking_uri=tracking_uri,
            workers=args.workers,
            env={
                "DYNAMOTIF_SERVE_MAX_ROWS": str(args.max_rows),
                "UVICORN_TIMEOUT_KEEP_ALIVE": str(args.keep_alive),
            },
        )
        try:
            ready_s = wait_ready(proc, url)
            status, text = post(url, payloads[0])
            if status != 200:
                raise RuntimeError(f"a valid request failed with {status}: {text[:300]}")
            malformed = check_malformed(url, args.max_rows, column)
            with PeakRss(proc.pid) as mem:
                result = run_load(url, payloads, args.clients, args.duration, args.max_requests)
        finally:
            stop_server(proc)
        single: dict[str, float] = {}
        if args.single_process_seconds > 0:
            if tracking_uri:
                os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
            single = single_process_rate(model_uri, payloads, args.single_process_seconds)
    statuses = {k: v["status"] for k, v in malformed.items()}
    record = {
        "benchmark": "serve_load",
        "model_uri": model_uri if args.model_uri else "stand-in models:/serve-load@champion",
        "clients": args.clients,
        "duration_s": args.duration,
        "server_workers": args.workers,
        "keep_alive_s": args.keep_alive,
        "batch": args.batch,
        "server_ready_s": round(ready_s, 1),
        **result,
        "server_peak_rss_mb": round(mem.peak_mb, 1),
        **single,
        "ratio": round(result["rps"] / single["single_process_rps"], 2) if single else None,
        "malformed_status": statuses,
        "malformed_all_4xx": all(400 <= s < 500 for s in statuses.values()),
        "malformed_all_with_message": all(v["message"] for v in malformed.values()),
        "malformed_messages": {k: v["message"] for k, v in malformed.items()},
        "cpus": os.cpu_count(),
        "loadavg_1min": round(os.getloadavg()[0], 1),
    }
    print(json.dumps(record))
    ok = result["errors"] == 0 and record["malformed_all_4xx"] and record["malformed_all_with_message"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
