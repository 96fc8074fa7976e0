"""``dynamotif sequence``: train (and tune) a sequence model; tracked in MLflow, optionally registered."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("sequence")
    def sequence(
        data: list[str] = typer.Option(
            ...,
            "--data",
            help="FASTA per class (NAME=FILE or FILE; with two files "
            "the FIRST is the positive class), one multi-label FASTA, or table(s).",
        ),
        test: list[str] = typer.Option(
            None,
            "--test",
            help="Test file(s), same layout as --data; without it a seeded 80/10/10 split is made.",
        ),
        target: list[str] = typer.Option(None, "--target", help="Target column(s) of a table."),
        task: str = typer.Option("auto", "--task", help="auto|binary|multiclass|multilabel|regression"),
        arch: str = typer.Option("cnn", "--arch", help="cnn (pysster-style) | cnn_gru (Saluki-style)"),
        fold: bool = typer.Option(False, "--fold", help="Add RNA secondary structure (ViennaRNA, cached)."),
        trials: int = typer.Option(0, "--trials", help="Optuna trials (0 = train the defaults once)."),
        name: str = typer.Option(
            None,
            "--name",
            help="Register the model under this name (alias champion when it beats the current one).",
        ),
        epochs: int = typer.Option(None, "--epochs", help="Maximum epochs (early stopping on validation)."),
        seed: int = typer.Option(0, "--seed"),
        out_dir: Path = typer.Option(None, "--out-dir", help="Also write bundle/summary here."),
        alphabet: str = typer.Option("auto", "--alphabet", help="auto|DNA|RNA|protein|LETTERS"),
        length: int = typer.Option(None, "--length", help="Model input length (default: longest sequence)."),
        policy: str = typer.Option(None, "--policy", help="Pad/crop policy, e.g. pad=right,crop=error."),
        search_space: Path = typer.Option(None, "--search-space", help="Optuna search-space YAML."),
        storage: str = typer.Option(
            None,
            "--storage",
            help="Optuna storage URL (sqlite:///optuna.db, postgresql+psycopg2://...); default in memory.",
        ),
        study_name: str = typer.Option(None, "--study-name", help="Optuna study name (to share a study)."),
        cache_dir: str = typer.Option(
            None, "--cache-dir", help="Folding cache (default ~/.cache/dynamotif/fold)."
        ),
        experiment: str = typer.Option(None, "--experiment", help="MLflow experiment."),
    ) -> None:
        """Train a CNN / CNN+GRU on sequences (± structure), tune with Optuna, log to MLflow."""
        import json
        import logging
        import os

        if os.environ.get("DYNAMOTIF_VERBOSE") != "1":
            for lg in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
                logging.getLogger(lg).setLevel(logging.CRITICAL)
        from flows.sequence import sequence_flow

        summary = sequence_flow(
            data=list(data),
            test=list(test or []) or None,
            target=list(target or []),
            task_type=task,
            arch=arch,
            fold=fold,
            trials=trials,
            name=name,
            epochs=epochs,
            seed=seed,
            out_dir=None if out_dir is None else str(out_dir),
            alphabet=alphabet,
            length=length,
            policy=policy,
            search_space=None if search_space is None else str(search_space),
            storage=storage,
            study_name=study_name,
            cache_dir=cache_dir,
            experiment=experiment,
            progress=True,
        )
        brief = {k: summary.get(k) for k in ("run_id", "model_uri", "test_metrics", "registered", "seconds")}
        typer.echo(json.dumps(brief, default=str))
