"""``dynamotif signatures``: ENCoM dynamical signatures of structures as one long table."""

from __future__ import annotations

from pathlib import Path

import typer

from components.encom.params import DEFAULT_PARAMS
from flows.commands import ListConventionCommand


def register(app: typer.Typer) -> None:
    @app.command("signatures", cls=ListConventionCommand)
    def signatures(
        structures: list[Path] = typer.Argument(..., help="PDB or mmCIF files."),
        out: Path = typer.Option(..., "--out", help="Output table: .parquet, .csv, .tsv (optionally .gz)."),
        beta: str | None = typer.Option(
            None, "--beta", help="Comma-separated betas (default: DynaSig-ML's 13 values e^(k/2), k=-6..6)."
        ),
        msf: bool = typer.Option(False, "--msf", help="Also write the MSF b-factors (rows with empty beta)."),
        jobs: int = typer.Option(1, "--jobs", "-j", help="Worker processes (one BLAS thread each)."),
        params: str = typer.Option(DEFAULT_PARAMS, "--params", help="ENCoM parameter set."),
        skip_unknown: bool = typer.Option(
            False,
            "--skip-unknown",
            help="Drop residues with unknown names (with a warning) instead of failing.",
        ),
        chunk_dir: Path | None = typer.Option(
            None, "--chunk-dir", help="Keep resumable per-chunk Parquet files in this folder."
        ),
        chunk_size: int = typer.Option(64, "--chunk-size", help="Structures per chunk."),
        skip_failed: bool = typer.Option(
            False, "--skip-failed", help="Leave out (and name) structures that cannot be computed; go on."
        ),
        no_progress: bool = typer.Option(False, "--no-progress", help="Hide the progress bar."),
    ) -> None:
        """ENCoM signatures (NRGTEN 1.2.9 numbers): columns structure, beta, bead, value."""
        from components.encom.cli import parse_betas, run_signatures

        summary = run_signatures(
            structures,
            out,
            betas=parse_betas(beta),
            msf=msf,
            jobs=jobs,
            params=params,
            skip_unknown=skip_unknown,
            chunk_dir=chunk_dir,
            chunk_size=chunk_size,
            progress=not no_progress,
            skip_failed=skip_failed,
        )
        skipped = (
            f" ({len(summary['failed'])} skipped: {', '.join(summary['failed'])})"
            if summary["failed"]
            else ""
        )
        typer.echo(f"wrote signatures of {summary['n_structures']} structure(s) to {out}{skipped}")
