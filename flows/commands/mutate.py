"""``dynamotif mutate``: one PDB per variant from a wild-type structure."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands import ListConventionCommand


def register(app: typer.Typer) -> None:
    @app.command("mutate", cls=ListConventionCommand)
    def mutate(
        structure: Path = typer.Option(..., "--structure", help="Wild-type PDB or mmCIF."),
        variants: Path = typer.Option(..., "--variants", help="CSV/TSV/Parquet table of variants."),
        out_dir: Path = typer.Option(..., "--out-dir", help="Output folder (written atomically)."),
        column: str | None = typer.Option(
            None, "--column", help="Variant column (default: 'variant', else 'mutations')."
        ),
        skip_invalid: bool = typer.Option(
            False, "--skip-invalid", help="Write the valid variants and rejected.csv instead of failing."
        ),
    ) -> None:
        """Build one PDB per variant (<wt-stem>_A12C_C74A.pdb): RNA/DNA base exchange, protein side chains."""
        from components.mutation.cli import run_mutate

        m = run_mutate(structure, variants, out_dir, column=column, skip_invalid=skip_invalid)
        typer.echo(f"wrote {m['n_written']} variant(s) to {out_dir} ({m['n_rejected']} rejected)")
