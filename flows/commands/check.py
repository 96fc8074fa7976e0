"""``dynamotif check``: verify the tracking store and Prefect settings before a long run."""

from __future__ import annotations

import os

import typer

from flows.commands import ListConventionCommand


def register(app: typer.Typer) -> None:
    @app.command("check", cls=ListConventionCommand)
    def check() -> None:
        """Check that MLflow's tracking store is reachable and show where runs go.

        \b
        Example:
          MLFLOW_TRACKING_URI=http://127.0.0.1:5000 dynamotif check
        """
        from flows import tracking

        uri = tracking.check_tracking()
        prefect = os.environ.get("PREFECT_API_URL") or "none (flows run in Prefect's ephemeral mode)"
        typer.echo(f"MLflow tracking: {uri}\nPrefect API:     {prefect}")
