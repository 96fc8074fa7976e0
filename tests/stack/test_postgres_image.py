"""The entry point of the ``postgres`` image (``docker/postgres-entrypoint.sh``) run on the host with
Debian's PostgreSQL, as the container runs it: first start initialises the cluster from the
environment and ``docker/postgres-init.sql``, logins need the password, a restart keeps the data."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, _stop, free_port
from tests.stack import services

pytestmark = pytest.mark.integration

ENTRYPOINT = REPO / "docker" / "postgres-entrypoint.sh"


@pytest.fixture
def pg_env():
    try:
        bindir = services.postgres_bindir()
    except services.StackUnavailable as exc:
        from tests.stack.conftest import _unavailable

        _unavailable(str(exc))
    root = Path(tempfile.mkdtemp(prefix="dynamotif-pgimage-"))
    (root / "init").mkdir()
    shutil.copy(REPO / "docker" / "postgres-init.sql", root / "init" / "10-dynamotif.sql")
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        for p in (root, root / "init"):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    env = {
        "PATH": f"{bindir}:{os.environ.get('PATH', '')}",
        "PGDATA": str(root / "data" / "pgdata"),
        "PGPORT": str(free_port()),
        "POSTGRES_INITDB_DIR": str(root / "init"),
        "POSTGRES_USER": "dynamotif",
        "POSTGRES_PASSWORD": "s3cret-for-tests",
    }
    yield env
    shutil.rmtree(root, ignore_errors=True)


def _run_entrypoint(env: dict[str, str], *args: str, background: bool = False):
    cmd = ["env", *(f"{k}={v}" for k, v in env.items()), "bash", str(ENTRYPOINT), *args]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _connect(env: dict[str, str], password: str, dbname: str, timeout_s: float = 60):
    import psycopg2

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return psycopg2.connect(
                host="127.0.0.1", port=int(env["PGPORT"]), user="dynamotif", password=password, dbname=dbname
            )
        except psycopg2.OperationalError as exc:
            if "password authentication failed" in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_first_start_initialises_and_restart_keeps_data(pg_env) -> None:
    import psycopg2

    proc = _run_entrypoint(pg_env, "postgres", "-c", "listen_addresses=127.0.0.1", background=True)
    try:
        conn = _connect(pg_env, pg_env["POSTGRES_PASSWORD"], "mlflow")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT datname FROM pg_database WHERE datname IN ('mlflow', 'prefect', 'dynamotif')")
            assert sorted(r[0] for r in cur.fetchall()) == ["dynamotif", "mlflow", "prefect"]
            cur.execute("CREATE TABLE kept (x int)")
        conn.close()
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            _connect(pg_env, "wrong", "mlflow")
    finally:
        _stop(proc)
    log = proc.stdout.read().decode() if proc.stdout else ""
    assert "initialised" in log, log
    # second start: no initialisation, the table is still there
    proc = _run_entrypoint(pg_env, "postgres", "-c", "listen_addresses=127.0.0.1", background=True)
    try:
        conn = _connect(pg_env, pg_env["POSTGRES_PASSWORD"], "mlflow")
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM kept")
            assert cur.fetchone() == (0,)
        conn.close()
    finally:
        _stop(proc)
    assert "initialised" not in (proc.stdout.read().decode() if proc.stdout else "")


def test_missing_password_is_one_line_and_exit_2(pg_env) -> None:
    env = {k: v for k, v in pg_env.items() if k != "POSTGRES_PASSWORD"}
    res = _run_entrypoint(env, "postgres")
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "postgres-entrypoint: POSTGRES_PASSWORD is not set (the server accepts password logins only)"
    ]
    assert not Path(env["PGDATA"], "PG_VERSION").exists()
