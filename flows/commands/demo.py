"""``dynamotif demo``: run every flow's demo on the bundled ``examples/`` data."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import typer

from flows.commands import ListConventionCommand

#: flows that provide ``demo(out_dir: Path) -> None``, in the order the demo runs them
DEMO_FLOWS = ["dynasig", "sequence"]


def available_demos() -> list[str]:
    names = []
    for name in DEMO_FLOWS:
        try:
            mod = importlib.import_module(f"flows.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"flows.{name}":
                raise
            continue
        if hasattr(mod, "demo"):
            names.append(name)
    return names


def register(app: typer.Typer) -> None:
    @app.command("demo", cls=ListConventionCommand)
    def demo(
        out_dir: Path = typer.Option(Path("demo-out"), help="Where the demo writes its files."),
        only: list[str] = typer.Option([], "--only", help="Run only these flows (repeatable)."),
    ) -> None:
        """Run the demo flows on the bundled examples/ data and print where to look.

        Runs go to MLflow's default store (./mlflow.db + ./mlruns, or MLFLOW_TRACKING_URI) and
        Prefect runs without a server. Afterwards: `dynamotif ui` opens the MLflow UI.

        \b
        Example:
          dynamotif demo --out-dir demo-out
        """
        from flows import tracking

        uri = tracking.configure()
        names = available_demos()
        if only:
            unknown = sorted(set(only) - set(names))
            if unknown:
                raise typer.BadParameter(
                    f"unknown demo(s) {unknown}; available: {names}", param_hint="--only"
                )
            names = [n for n in names if n in only]
        out_dir.mkdir(parents=True, exist_ok=True)
        timings = {}
        for name in names:
            typer.echo(f"==> demo: {name} flow")
            t0 = time.perf_counter()
            importlib.import_module(f"flows.{name}").demo(out_dir / name)
            timings[name] = time.perf_counter() - t0
            typer.echo(f"    {name} done in {timings[name]:.0f} s")
        typer.echo("")
        typer.echo(f"Demo finished: {', '.join(f'{k} {v:.0f} s' for k, v in timings.items()) or 'no flows'}")
        typer.echo(f"  files:           {out_dir.resolve()}")
        typer.echo(f"  MLflow store:    {uri}")
        typer.echo("  browse the runs: dynamotif ui            (MLflow UI on http://127.0.0.1:5000)")
        typer.echo(
            "  flow runs:       dynamotif ui --prefect  (adds the Prefect UI on http://127.0.0.1:4200)"
        )
