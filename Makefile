# dynamotif: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install
# pip on this machine prints one harmless line per local-index location; hide only those
QUIET_PIP := grep -v "^WARNING: Location '" || true

.PHONY: install demo test lint typecheck pytest clean container-test stack-test

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@echo "==> installing into $(VENV) (torch first, from the local CPU wheel)"
	@$(BIN)/python -m pip install -q --upgrade pip 2>&1 | $(QUIET_PIP)
	@$(BIN)/pip install -q torch==2.13.0 2>&1 | $(QUIET_PIP)
	@$(BIN)/pip install -q -c constraints.txt -e ".[dev]" 2>&1 | $(QUIET_PIP)
	@$(BIN)/python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"
	@touch $@

install: $(STAMP)

demo: install
	@PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/dynamotif demo --out-dir demo-out

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy components flows

pytest: install
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf demo-out mlflow.db mlruns .pytest_cache .mypy_cache .ruff_cache

# --- container-test -------------------------------------------------------------------------------
# Builds the base image (debootstrap + podman import), the encom and flows images with podman,
# runs `encom` in a container and a flow through a Prefect docker work pool on podman's socket,
# checked against in-process results and MLflow. Root; about 25 min (see benchmarks/README.md); not in CI.
container-test: install
	bash scripts/container_test.sh
# --- end container-test ----------------------------------------------------------------------------

# --- stack-test -----------------------------------------------------------------------------------
# The whole docker/compose.yaml stack with podman (podman-compose): images built, services up on their
# healthchecks, every deployment of prefect.yaml deployed, a DynaSig and a sequence run started through
# the Prefect API on the docker pool and read back from MLflow, the champion served, and three faults
# (a killed flow-run container, a PostgreSQL restart, an MLflow outage). Root; not in CI; prints one
# JSON line (figures in benchmarks/README.md).
stack-test: install
	$(BIN)/python scripts/stack_test.py
# --- end stack-test -------------------------------------------------------------------------------
