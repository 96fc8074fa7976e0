"""``dynamotif sequence``: train (and tune) a sequence model; tracked in MLflow, optionally registered."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from components.seqmodels.config import DEFAULTS as _D
from flows.commands import ListConventionCommand

_DESCRIPTION = "Train a CNN / CNN+GRU on sequences (± RNA structure), tune with Optuna, log to MLflow."

_EPILOG = """\
\b
inputs:
  FASTA, one file per class (pysster style; NAME=FILE names the class, else the file name),
  one multi-label FASTA (header 'labels=A,B'), or a CSV/TSV/Parquet table with a 'sequence'
  column (+ optional 'structure' dot-brackets) and the --target column(s).
\b
outputs:
  one MLflow run named --name (experiment dynamotif-sequence): parameters, per-epoch curves,
  validation and test metrics, ROC/PR or scatter plots, test predictions, the pyfunc model
  (raw sequences in) and, with --motifs, the motif report under motifs/; with --name the model
  is registered and gets the alias 'champion' when it beats the current one on validation data.
  With --out-dir the bundle (for `predict` / `motifs`) and summary.json are written there. The
  last stdout line is a JSON summary (run_id, model_uri, test_metrics, registered, seconds).
\b
examples:
  dynamotif sequence --data PUM2=pum2.pos.fa.gz background=pum2.neg.fa.gz --fold --trials 10 --name pum2
  dynamotif sequence --data bound=pos.fa --data unbound=neg.fa --out-dir pum2-out
  dynamotif sequence --data utr.csv --target stability --task regression --arch cnn_gru --no-motifs
  dynamotif sequence --data utr.csv --target jurkat beas2b --missing-targets mask --ensemble 3
  dynamotif predict --model models:/pum2@champion --input seqs.fa --out preds.csv
"""


class _Task(StrEnum):
    auto = "auto"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"
    regression = "regression"


class _Arch(StrEnum):
    cnn = "cnn"
    cnn_gru = "cnn_gru"


class _Missing(StrEnum):
    error = "error"
    mask = "mask"


def _from_command_line(ctx: typer.Context, key: str) -> bool:
    source = ctx.get_parameter_source(key)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def register(app: typer.Typer) -> None:
    @app.command("sequence", cls=ListConventionCommand, help=_DESCRIPTION, epilog=_EPILOG)
    def sequence(
        ctx: typer.Context,
        config: Path | None = typer.Option(
            None, "--config", help="JSON file of options (SequenceConfig keys); flags given override it."
        ),
        data: list[str] = typer.Option(
            [],
            "--data",
            metavar="FILE",
            help="FASTA per class (NAME=FILE or FILE, gzip ok; with two files the FIRST is the positive "
            "class), one multi-label FASTA, or table(s) (CSV/TSV/Parquet).",
        ),
        test: list[str] = typer.Option(
            [], "--test", metavar="FILE", help="Test file(s), same layout; default: a seeded 80/10/10 split."
        ),
        target: list[str] = typer.Option([], "--target", metavar="COL", help="Target column(s) of a table."),
        task: _Task = typer.Option(_D["task"], "--task"),
        arch: _Arch = typer.Option(_D["arch"], "--arch", help="pysster-style CNN or Saluki-style CNN+GRU."),
        fold: bool = typer.Option(
            _D["fold"], "--fold", help="Add RNA secondary structure (ViennaRNA MFE, noLP, cached)."
        ),
        trials: int = typer.Option(
            _D["trials"], "--trials", help="Optuna trials (0: train the defaults once)."
        ),
        ensemble: int = typer.Option(
            _D["ensemble"],
            "--ensemble",
            metavar="N",
            help="Final model: a seed ensemble of N models (seeds seed..seed+N-1, predictions averaged).",
        ),
        missing_targets: _Missing = typer.Option(
            _D["missing_targets"],
            "--missing-targets",
            help="Regression tables: NaN targets are an error or masked out of loss and metrics.",
        ),
        name: str | None = typer.Option(
            _D["name"],
            "--name",
            help="Run name; register under it (alias champion when it beats the current).",
        ),
        epochs: int | None = typer.Option(_D["epochs"], "--epochs", help="Maximum epochs (early stopping)."),
        seed: int = typer.Option(_D["seed"], "--seed"),
        out_dir: Path | None = typer.Option(
            _D["out_dir"], "--out-dir", help="Also write bundle/ and summary.json here."
        ),
        alphabet: str = typer.Option(_D["alphabet"], "--alphabet", help="auto|DNA|RNA|protein|LETTERS"),
        length: int | None = typer.Option(
            _D["length"], "--length", help="Model input length (default: longest)."
        ),
        policy: str | None = typer.Option(
            _D["policy"], "--policy", help="Pad/crop policy, e.g. pad=right,crop=error."
        ),
        params: str | None = typer.Option(
            None, "--params", help="JSON object of network/training parameters."
        ),
        search_space: Path | None = typer.Option(
            _D["search_space"], "--search-space", help="Optuna search-space YAML."
        ),
        storage: str | None = typer.Option(
            _D["storage"],
            "--storage",
            help="Optuna storage URL (sqlite:///optuna.db, postgresql+psycopg2://...).",
        ),
        study_name: str | None = typer.Option(
            _D["study_name"], "--study-name", help="Optuna study name (shared studies)."
        ),
        cache_dir: Path | None = typer.Option(
            _D["cache_dir"], "--cache-dir", help="Folding cache (default ~/.cache/dynamotif/fold)."
        ),
        experiment: str | None = typer.Option(
            _D["experiment"], "--experiment", help="MLflow experiment (default dynamotif-sequence)."
        ),
        motifs: bool = typer.Option(
            _D["motifs"],
            "--motifs/--no-motifs",
            help="Interpret the final model (kernel motifs, Tomtom, report).",
        ),
        motif_sequences: int = typer.Option(
            _D["motif_sequences"], "--motif-sequences", metavar="N", help="Test sequences interpreted."
        ),
        motif_db: str | None = typer.Option(
            _D["motif_db"], "--motif-db", help="attract | jaspar | MEME file (default by alphabet)."
        ),
    ) -> None:
        import json
        import logging
        import os

        from components.common.errors import InputError

        try:
            fixed = json.loads(params) if params else {}
        except json.JSONDecodeError as exc:
            raise InputError(f"--params is not valid JSON: {exc.msg}") from None
        options = {
            "data": data,
            "test": test,
            "target": target,
            "task": task.value,
            "arch": arch.value,
            "fold": fold,
            "trials": trials,
            "ensemble": ensemble,
            "missing_targets": missing_targets.value,
            "name": name,
            "epochs": epochs,
            "seed": seed,
            "out_dir": out_dir,
            "alphabet": alphabet,
            "length": length,
            "policy": policy,
            "params": fixed,
            "search_space": search_space,
            "storage": storage,
            "study_name": study_name,
            "cache_dir": cache_dir,
            "experiment": experiment,
            "progress": True,
            "motifs": motifs,
            "motif_sequences": motif_sequences,
            "motif_db": motif_db,
        }
        from components.common.typed_config import read_config_file

        # a --config file's values hold unless the option is given on the command line
        base = read_config_file(config) if config is not None else {}
        given = {k: v for k, v in options.items() if k not in base or _from_command_line(ctx, k)}
        options = {**base, **given}
        if not options.get("data"):
            raise InputError("option 'data' is required (--data FILE ...)")
        from components.common.io import json_safe
        from flows.sequence import run_sequence  # imports prefect, which configures its loggers

        if os.environ.get("DYNAMOTIF_VERBOSE") != "1":
            for lg in ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
                logging.getLogger(lg).setLevel(logging.CRITICAL)
            logging.getLogger("mlflow").setLevel(logging.WARNING)

        summary = run_sequence(options)
        brief = {
            k: summary.get(k)
            for k in ("run_id", "model_uri", "val_metrics", "test_metrics", "registered", "bundle", "seconds")
        }
        typer.echo(json.dumps(json_safe(brief), default=str, allow_nan=False))
