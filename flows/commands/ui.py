"""``dynamotif ui``: the MLflow UI (and optionally the Prefect UI) on the default stores."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from flows.commands import ListConventionCommand


def _bin(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


def register(app: typer.Typer) -> None:
    @app.command("ui", cls=ListConventionCommand)
    def ui(
        host: str = typer.Option("127.0.0.1", help="Interface to bind (keep 127.0.0.1 unless you mean it)."),
        port: int = typer.Option(5000, help="MLflow UI port."),
        prefect: bool = typer.Option(False, "--prefect", help="Also start the Prefect server and UI."),
        prefect_port: int = typer.Option(4200, help="Prefect UI/API port."),
    ) -> None:
        """Start the MLflow UI on the default store (./mlflow.db + ./mlruns) and print its URL.

        Runs until Ctrl-C. With MLFLOW_TRACKING_URI pointing at a server, only prints the URLs.
        One link per experiment opens its runs table, newest first, with the key metrics as
        columns (best validation/test scores); a flow's parent run carries its summary metrics and,
        under best_model/, the best model's plots. Registered models (with their @champion alias)
        are under "Models".

        \b
        Example:
          dynamotif ui --prefect
        """
        from flows import tracking

        uri = tracking.tracking_uri()
        procs: list[subprocess.Popen] = []
        cmd = tracking.ui_command(host, port)
        base = f"http://{host}:{port}" if cmd else uri
        if not cmd:
            tracking.check_tracking(uri)
        tracking.configure()
        views = tracking.runs_table_views(base)
        if cmd:
            cmd[0] = _bin("mlflow")
            procs.append(subprocess.Popen(cmd, start_new_session=True))
            typer.echo(f"MLflow UI:  {base}   (store: {uri})")
        else:
            typer.echo(f"MLflow UI:  {uri}   (MLFLOW_TRACKING_URI)")
        for name, url in views:
            typer.echo(f"  runs of {name}: {url}")
        if prefect:
            env = {**os.environ}
            procs.append(
                subprocess.Popen(
                    [_bin("prefect"), "server", "start", "--host", host, "--port", str(prefect_port)],
                    env=env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            typer.echo(
                f"Prefect UI: http://{host}:{prefect_port}   (set PREFECT_API_URL=http://{host}:{prefect_port}/api to send flow runs there)"
            )
        if not procs:
            return
        typer.echo("Press Ctrl-C to stop.")

        def _stop(signum, frame):  # SIGTERM/SIGHUP stop the servers too, not only Ctrl-C
            raise KeyboardInterrupt

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _stop)
        try:
            while all(p.poll() is None for p in procs):
                time.sleep(1)
            bad = [p for p in procs if p.poll() not in (None, 0)]
            if bad:
                raise typer.Exit(2)
        except KeyboardInterrupt:
            pass
        finally:
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
