"""Bad tracking configuration gives one clear line, not a stack of tracebacks."""

from __future__ import annotations

import pytest

from flows import tracking
from tests.conftest import free_port, run_cli


def test_unreachable_server_is_one_line():
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(tracking.TrackingError, match="unreachable"):
        tracking.check_tracking(uri, timeout_s=1)


@pytest.mark.parametrize(
    "uri, match",
    [
        ("./mlruns", "file store"),
        ("ftp://x", "unsupported scheme"),
        ("sqlite:////nonexistent-dir/x/mlflow.db", "does not exist"),
    ],
)
def test_bad_uris(uri, match):
    with pytest.raises(tracking.TrackingError, match=match):
        tracking.check_tracking(uri)


def test_default_uri_is_sqlite_in_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert tracking.tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"


def test_cli_bad_tracking_uri_exit_2_one_line(tmp_path):
    """Through the real console entry point: one line on stderr, exit code 2."""
    env = {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{free_port()}", "PATH": "/usr/bin:/bin"}
    proc = run_cli("check", env=env)
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0], proc.stderr
