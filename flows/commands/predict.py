"""``dynamotif predict``: a registered model + a table of variants or sequences -> predictions."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands import ListConventionCommand


def register(app: typer.Typer) -> None:
    @app.command("predict", cls=ListConventionCommand)
    def predict(
        model: str = typer.Option(
            ...,
            "--model",
            help="models:/NAME@champion, models:/NAME/3, runs:/..., NAME, or a local sequence bundle folder "
            "(what `sequence --out-dir` writes).",
        ),
        input: Path = typer.Option(
            ..., "--input", help="Table with a 'variant' (DynaSig) or 'sequence' column, or a FASTA file."
        ),
        out: Path = typer.Option(
            ..., "--out", help="Output table (CSV/TSV/Parquet): the input plus predictions."
        ),
    ) -> None:
        """Predict with a registered model (DynaSig models run mutation + signatures first).

        \b
        Example:
          dynamotif predict --model models:/mir125a@champion --input new_variants.csv --out preds.csv
          dynamotif predict --model pum2-out/bundle --input new.fa --out preds.csv
        """
        from flows.predict import predict_table

        result = predict_table(model, input, out)
        typer.echo(f"wrote {len(result)} predictions to {out}")
