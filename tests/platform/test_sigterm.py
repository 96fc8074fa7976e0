"""A SIGTERM to pytest stops the servers the fixtures started (they run in their own sessions, so the
signal does not reach them): the fixtures are torn down as after Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO

FIXTURE_TEST = """
import os, subprocess, time
from pathlib import Path
import pytest

@pytest.fixture
def server():
    proc = subprocess.Popen(["sleep", "600"], start_new_session=True)
    Path(os.environ["PID_FILE"]).write_text(str(proc.pid))
    yield proc
    proc.terminate()
    proc.wait()

def test_waits(server):
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too (reaped by nobody while this process is its parent's parent)
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[1][0] != "Z"


def test_sigterm_tears_the_fixtures_down(tmp_path: Path) -> None:
    (tmp_path / "test_hang.py").write_text(FIXTURE_TEST)
    pid_file = tmp_path / "pid"
    env = {**os.environ, "PID_FILE": str(pid_file), "PYTHONPATH": str(REPO)}
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_hang.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.2)
    assert pid_file.exists(), run.communicate(timeout=10)[0].decode()[-2000:]
    server = int(pid_file.read_text())
    time.sleep(0.5)  # inside the test's sleep
    run.send_signal(signal.SIGTERM)
    out = run.communicate(timeout=60)[0].decode()
    try:
        assert run.returncode != 0, out
        assert not _alive(server), f"server {server} outlived the run:\n{out[-2000:]}"
    finally:
        if _alive(server):
            os.kill(server, signal.SIGKILL)
