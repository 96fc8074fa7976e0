#!/usr/bin/env bash
# make container-test: the production images built and run for real with podman.
#
#  1. installs podman/buildah/runc/debootstrap with apt when missing (root);
#  2. builds the registry-free base image (docker/make_base_image.sh: debootstrap + podman import);
#  3. builds the component images (docker/Dockerfile targets) with podman: runc runtime, explicit
#     ulimits (a private containers.conf), the host CA bundle and wheel folders mounted at build time
#     only;
#  4. runs the `encom` image on a test structure and compares its signatures with the in-process ones;
#  5. serves a registered model with the `serve` image and checks a good request (200) and the
#     malformed ones (4xx);
#  6. starts an MLflow server and a Prefect server on 127.0.0.1, podman's Docker-compatible API
#     socket and a Prefect worker on the docker pool, deploys `stack-check-docker` from prefect.yaml,
#     runs it, and checks the flow run completed in a container and its MLflow run (tagged with the
#     flow-run id) holds signatures equal to the in-process ones.
# Prints one JSON line of timings at the end. Environment: TAG (dev), BASE_IMAGE, TARGETS
# (default "encom flows serve"), PYTHON (.venv/bin/python), KEEP=1 keeps the work folder, STEPS (default
# "base build signatures serve flow"; e.g. STEPS=flow reuses images already built), SIGNATURES=0 runs the
# flow without a structure (a wiring check only).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-$REPO/.venv/bin/python}"
BIN="$(dirname "$PY")"
TAG="${TAG:-dev}"
BASE_IMAGE="${BASE_IMAGE:-localhost/dynamotif-base:bookworm}"
TARGETS="${TARGETS:-encom flows serve}"
STEPS=" ${STEPS:-base build signatures serve flow} "
SIGNATURES="${SIGNATURES:-1}"
STRUCTURE="${STRUCTURE:-$REPO/../shared/data/nrgten_test_structures/test_medium.pdb}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/dynamotif-ct.XXXXXX")"
PIDS=()
T0=$(date +%s)
declare -A TIMES=([tools]=0 [base_image]=0 [build]=0 [signatures_container]=0 [serve_container]=0 [services]=0 [flow_docker_pool]=0)

log() { printf '[container-test %4ss] %s\n' "$(($(date +%s) - T0))" "$*" >&2; }
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    kill -INT "$pid" 2>/dev/null || true
  done
  sleep 2
  for pid in "${PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ "${KEEP:-0}" == 1 || $rc -ne 0 ]]; then
    log "work folder kept: $WORK (logs: $WORK/*.log)"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
timed() { # timed NAME CMD...: run and record seconds
  local name=$1 t
  shift
  t=$(date +%s)
  "$@"
  TIMES[$name]=$(($(date +%s) - t))
  log "$name: ${TIMES[$name]} s"
}
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # wait_http URL SECONDS
  local deadline=$(($(date +%s) + $2))
  until "$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=3)" "$1" 2>/dev/null; do
    if (($(date +%s) > deadline)); then
      log "timeout waiting for $1"
      return 1
    fi
    sleep 1
  done
}

[[ $(id -u) -eq 0 ]] || { log "run as root (apt, debootstrap, root podman)"; exit 2; }
[[ -x "$PY" ]] || { log "no python at $PY (make install first, or set PYTHON)"; exit 2; }
[[ -f "$STRUCTURE" ]] || { log "test structure $STRUCTURE missing (set STRUCTURE)"; exit 2; }

# --- 1. tools ----------------------------------------------------------------------------------------
install_tools() {
  local need=() c
  for c in podman buildah runc debootstrap; do
    command -v "$c" >/dev/null || need+=("$c")
  done
  if ((${#need[@]})); then
    log "apt-get install ${need[*]}"
    apt-get update -q >"$WORK/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >>"$WORK/apt.log" 2>&1
  fi
}
timed tools install_tools

# podman's default runtime (crun) cannot set rlimits here; runc with explicit ulimits works.
cat >"$WORK/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"
RUN_FLAGS=(--runtime runc --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

# --- 2. base image ---------------------------------------------------------------------------------
want() { [[ "$STEPS" == *" $1 "* ]]; }
want base && timed base_image "$REPO/docker/make_base_image.sh" "$BASE_IMAGE"

# --- 3. component images -----------------------------------------------------------------------------
# Build-time only: the host's CA bundle (TLS-intercepting proxies) and local wheel folders/indexes of
# the host's pip configuration, mounted read-only; nothing of them lands in an image layer.
BUILD=(podman build "${RUN_FLAGS[@]}" --build-arg "BASE_IMAGE=$BASE_IMAGE" -f "$REPO/docker/Dockerfile")
CA="$("$PY" -m pip config get global.cert 2>/dev/null || true)"
CA="${PIP_CERT:-${CA:-/etc/ssl/certs/ca-certificates.crt}}"
[[ -f "$CA" ]] && BUILD+=(-v "$CA:/run/host-ca.crt:ro")
WHEELS="${PIP_FIND_LINKS:-$("$PY" -m pip config get global.find-links 2>/dev/null || true)}"
[[ -n "$WHEELS" && -d "$WHEELS" ]] && BUILD+=(-v "$WHEELS:/run/host-wheels:ro")
EXTRA_INDEX=()
for url in ${PIP_EXTRA_INDEX_URL:-$("$PY" -m pip config get global.extra-index-url 2>/dev/null || true)}; do
  dir="${url#file://}"
  dir="${dir%/simple}"
  if [[ "$url" == file://* && -d "$dir" ]]; then
    BUILD+=(-v "$dir:$dir:ro")
    EXTRA_INDEX+=("$url")
  fi
done
((${#EXTRA_INDEX[@]})) && BUILD+=(--build-arg "PIP_EXTRA_INDEX_URL=${EXTRA_INDEX[*]}")

build_images() {
  local target
  for target in $TARGETS; do
    log "podman build --target $target"
    "${BUILD[@]}" --target "$target" -t "localhost/dynamotif-$target:$TAG" "$REPO" >"$WORK/build-$target.log" 2>&1 \
      || { tail -n 30 "$WORK/build-$target.log" >&2; return 1; }
  done
}
want build && timed build build_images
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep dynamotif >&2 || true

# --- 4. signatures in a container vs in process --------------------------------------------------------
mkdir -p "$WORK/in" "$WORK/sig"
cp "$STRUCTURE" "$WORK/in/"
chmod 0777 "$WORK/sig" # the image runs as uid 10001
NAME="$(basename "$STRUCTURE")"
run_signatures() {
  local out=(--out /out/signatures.parquet)
  # The component CLI takes `--out FILE` (long table); accept an `--out-dir` variant too.
  if podman run --rm "${RUN_FLAGS[@]}" --network none "localhost/dynamotif-encom:$TAG" --help 2>&1 | grep -q -- "--out-dir"; then
    out=(--out-dir /out)
  fi
  podman run --rm "${RUN_FLAGS[@]}" --network none -v "$WORK/in:/data:ro" -v "$WORK/sig:/out" \
    "localhost/dynamotif-encom:$TAG" "/data/$NAME" "${out[@]}" >"$WORK/encom-run.log" 2>&1 \
    || { cat "$WORK/encom-run.log" >&2; return 1; }
}
want signatures && timed signatures_container run_signatures
want signatures && "$PY" - "$STRUCTURE" "$WORK/sig" <<'PY'
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from components.encom import compute_signatures

structure, out = Path(sys.argv[1]), Path(sys.argv[2])
files = sorted(p for p in out.rglob("*") if p.suffix in (".parquet", ".csv", ".tsv", ".npz"))
if not files:
    sys.exit(f"the encom container wrote no signature table into {out}: {sorted(out.rglob('*'))}")
local = compute_signatures(structure)
table = files[0]
if table.suffix == ".npz":
    data = np.load(table)
    got = np.asarray(data["entropic"])
else:
    df = pd.read_parquet(table) if table.suffix == ".parquet" else pd.read_csv(table, sep=None, engine="python")
    if {"beta", "bead", "value"} <= set(df.columns):  # long table (structure, beta, bead, value)
        wide = df.pivot_table(index="beta", columns="bead", values="value", sort=False)
        got = wide.loc[sorted(wide.index)].to_numpy()
        order = [list(wide.columns).index(lab) for lab in local.labels] if set(local.labels) <= set(wide.columns) else None
        if order is not None:
            got = got[:, order]
    else:
        sys.exit(f"unrecognised signature table {table.name}: columns {list(df.columns)}")
np.testing.assert_allclose(got, local.entropic, rtol=1e-9, atol=1e-12)
print(f"container signatures == in-process ({table.name}, {local.entropic.shape[1]} beads x {local.entropic.shape[0]} betas)")
PY

# --- 5. the serving image: a registered model behind `mlflow models serve` in a container -----------------
serve_in_container() {
  local port model="$WORK/model"
  cd "$REPO"
  port=$(free_port)
  "$PY" - "$WORK" "$model" <<'PY'
import importlib.util
import sys
from pathlib import Path

import mlflow

work, model = Path(sys.argv[1]), Path(sys.argv[2])
spec = importlib.util.spec_from_file_location("serve_load", Path.cwd() / "benchmarks" / "serve_load.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
(work / "registry").mkdir()
uri = bench.register_stand_in_model(f"sqlite:///{work / 'registry' / 'mlflow.db'}", work / "registry")
mlflow.artifacts.download_artifacts(uri, dst_path=str(model))
PY
  chmod -R a+rX "$model"
  local cid
  cid=$(podman run -d --rm "${RUN_FLAGS[@]}" -p "127.0.0.1:$port:8080" -v "$model:/model:ro" \
    -e DYNAMOTIF_SERVE_MAX_ROWS=100 "localhost/dynamotif-serve:$TAG")
  wait_http "http://127.0.0.1:$port/ping" 240 || { podman logs "$cid" >&2; podman stop "$cid" >/dev/null; return 1; }
  "$PY" - "http://127.0.0.1:$port" <<'PY' || { podman logs "$cid" >&2; podman stop "$cid" >/dev/null; return 1; }
import importlib.util
import json
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location("serve_load", Path.cwd() / "benchmarks" / "serve_load.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)
url = sys.argv[1]
status, text = bench.post(url, json.dumps({"dataframe_records": [{"variant": "A12C;C74A"}]}).encode())
assert status == 200 and json.loads(text)["predictions"][0]["variant"] == "A12C;C74A", (status, text[:300])
bad = {case: bench.post(url, body, ctype)[0] for case, (body, ctype) in bench.malformed_cases(100).items()}
assert all(400 <= s < 500 for s in bad.values()), bad
print(f"serve image: 200 for a valid request, 4xx for {len(bad)} malformed ones {bad}", file=sys.stderr)
PY
  podman stop "$cid" >/dev/null
}
want serve && timed serve_container serve_in_container

# --- 6. a flow through a Prefect docker work pool on podman's socket, visible in MLflow ---------------------
export PREFECT_HOME="$WORK/prefect-home" PREFECT_SERVER_ANALYTICS_ENABLED=false DO_NOT_TRACK=1
export PREFECT_WORKER_QUERY_SECONDS=2 PREFECT_WORKER_PREFETCH_SECONDS=5 PATH="$BIN:$PATH"
MLPORT=$(free_port)
PFPORT=$(free_port)
export MLFLOW_TRACKING_URI="http://127.0.0.1:$MLPORT"
export PREFECT_API_URL="http://127.0.0.1:$PFPORT/api"
export DOCKER_HOST="unix://$WORK/podman.sock"

start_services() {
  mlflow server --backend-store-uri "sqlite:///$WORK/mlflow.db" --artifacts-destination "$WORK/mlartifacts" \
    --host 127.0.0.1 --port "$MLPORT" --workers 1 >"$WORK/mlflow.log" 2>&1 &
  PIDS+=($!)
  prefect server start --host 127.0.0.1 --port "$PFPORT" >"$WORK/prefect-server.log" 2>&1 &
  PIDS+=($!)
  podman system service --time=0 "$DOCKER_HOST" >"$WORK/podman-service.log" 2>&1 &
  PIDS+=($!)
  wait_http "$MLFLOW_TRACKING_URI/health" 180
  wait_http "$PREFECT_API_URL/health" 180
  for _ in $(seq 60); do [[ -S "$WORK/podman.sock" ]] && break; sleep 0.5; done
  [[ -S "$WORK/podman.sock" ]]
}
want flow && timed services start_services

deploy_and_run() {
  cd "$REPO"
  prefect work-pool create dynamotif-docker --type docker --overwrite >"$WORK/deploy.log" 2>&1
  DYNAMOTIF_IMAGE="localhost/dynamotif-flows:$TAG" MLFLOW_TRACKING_URI_FOR_CONTAINERS="$MLFLOW_TRACKING_URI" \
    DYNAMOTIF_DOCKER_NETWORK=host \
    prefect --no-prompt deploy --prefect-file "$REPO/prefect.yaml" --name stack-check-docker >>"$WORK/deploy.log" 2>&1 \
    || { cat "$WORK/deploy.log" >&2; return 1; }
  prefect worker start --pool dynamotif-docker --type docker >"$WORK/worker.log" 2>&1 &
  PIDS+=($!)
  "$PY" - "$STRUCTURE" "$WORK" "$SIGNATURES" <<'PY'
import json
import sys
import time
from pathlib import Path

import mlflow
import numpy as np
from prefect.deployments import run_deployment

structure, work, with_signatures = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3] == "1"
t0 = time.time()
params = {"pdb_text": structure.read_text(), "name": structure.stem} if with_signatures else {}
fr = run_deployment("stack-check/stack-check-docker", parameters=params, timeout=900)
state = fr.state
print(f"flow run {fr.id}: {state.type.value} after {time.time() - t0:.0f} s", file=sys.stderr)
if not state.is_completed():
    log = (work / "worker.log").read_text()[-4000:]
    sys.exit(f"flow run did not complete: {state.type.value} {state.message}\n--- worker log ---\n{log}")
runs = mlflow.search_runs(
    search_all_experiments=True, filter_string=f"tags.`prefect.flow_run_id` = '{fr.id}'", output_format="list"
)
if len(runs) != 1:
    sys.exit(f"expected one MLflow run tagged with flow run {fr.id}, found {len(runs)}")
run = runs[0]
tags = run.data.tags
assert run.info.status == "FINISHED", run.info.status
assert tags.get("stack.in_container") == "true", tags
assert tags.get("stack.uid") == "10001", tags
assert run.info.artifact_uri.startswith("mlflow-artifacts:"), run.info.artifact_uri
if not with_signatures:
    print(f"flow run in a container logged MLflow run {run.info.run_id} (wiring only)", file=sys.stderr)
    sys.exit(0)
sig = mlflow.artifacts.load_dict(f"{run.info.artifact_uri}/signatures.json")
from components.encom import compute_signatures

local = compute_signatures(structure, msf=True)
assert sig["labels"] == list(local.labels)
np.testing.assert_allclose(np.asarray(sig["entropic"]), local.entropic, rtol=1e-9, atol=1e-12)
np.testing.assert_allclose(np.asarray(sig["msf"]), local.msf, rtol=1e-9, atol=1e-12)
print(json.dumps({"flow_run": str(fr.id), "mlflow_run": run.info.run_id, "experiment": run.info.experiment_id,
                  "host": tags.get("stack.host")}), file=sys.stderr)
print(f"flow run in a container logged to MLflow run {run.info.run_id}; signatures == in-process", file=sys.stderr)
PY
}
want flow && timed flow_docker_pool deploy_and_run

TOTAL=$(($(date +%s) - T0))
printf '{"benchmark": "container_test", "total_s": %d, "tools_s": %d, "base_image_s": %d, "build_s": %d, "signatures_container_s": %d, "serve_container_s": %d, "services_s": %d, "flow_docker_pool_s": %d, "targets": "%s"}\n' \
  "$TOTAL" "${TIMES[tools]}" "${TIMES[base_image]}" "${TIMES[build]}" "${TIMES[signatures_container]}" \
  "${TIMES[serve_container]}" "${TIMES[services]}" "${TIMES[flow_docker_pool]}" "$TARGETS"
