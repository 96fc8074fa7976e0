"""``dynamotif sequence``: train (and tune) a sequence model; tracked in MLflow, optionally registered.

Options take several values (``--data A.fa B.fa --test C.fa D.fa``), so the arguments are parsed
with argparse (``nargs="+"``) inside the typer command.
"""

from __future__ import annotations

import argparse

import typer

_DESCRIPTION = "Train a CNN / CNN+GRU on sequences (± RNA structure), tune with Optuna, log to MLflow."


_EPILOG = """\
inputs:
  FASTA, one file per class (pysster style; NAME=FILE names the class, else the file name),
  one multi-label FASTA (header 'labels=A,B'), or a CSV/TSV/Parquet table with a 'sequence'
  column (+ optional 'structure' dot-brackets) and the --target column(s).

outputs:
  one MLflow run (experiment dynamotif-sequence): parameters, per-epoch curves, test metrics,
  ROC/PR or scatter plots, test predictions, the pyfunc model (raw sequences in) and, with
  --motifs, the motif report under motifs/; with --name the model is registered and gets the
  alias 'champion' when it beats the current one. The last stdout line is a JSON summary
  (run_id, model_uri, test_metrics, registered, seconds).

examples:
  dynamotif sequence --data PUM2=pum2.pos.fa.gz background=pum2.neg.fa.gz --fold --trials 10 --name pum2
  dynamotif sequence --data utr.csv --target stability --task regression --arch cnn_gru --no-motifs
  dynamotif sequence --data utr.csv --target jurkat beas2b --missing-targets mask --ensemble 3
  dynamotif predict --model models:/pum2@champion --input seqs.csv --out preds.csv
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dynamotif sequence",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="FILE",
        help="FASTA per class (NAME=FILE or FILE, gzip ok; with two files the FIRST is the positive "
        "class), one multi-label FASTA, or table(s) (CSV/TSV/Parquet)",
    )
    p.add_argument(
        "--test",
        nargs="+",
        default=None,
        metavar="FILE",
        help="test file(s), same layout; without it a seeded 80/10/10 split is made",
    )
    p.add_argument("--target", nargs="+", default=[], metavar="COL", help="target column(s) of a table")
    p.add_argument(
        "--task", default="auto", choices=["auto", "binary", "multiclass", "multilabel", "regression"]
    )
    p.add_argument(
        "--arch", default="cnn", choices=["cnn", "cnn_gru"], help="pysster-style CNN or Saluki-style CNN+GRU"
    )
    p.add_argument(
        "--fold",
        action="store_true",
        help="add RNA secondary structure (ViennaRNA MFE, noLP, cached by sequence hash)",
    )
    p.add_argument("--trials", type=int, default=0, help="Optuna trials (0: train the defaults once)")
    p.add_argument(
        "--ensemble",
        type=int,
        default=1,
        metavar="N",
        help="final model: a seed ensemble of N models (seeds seed..seed+N-1, predictions averaged; "
        "Optuna trials stay single models; default 1)",
    )
    p.add_argument(
        "--missing-targets",
        default="error",
        choices=["error", "mask"],
        help="regression tables: NaN targets are an error (default) or masked out of loss and metrics",
    )
    p.add_argument(
        "--name", default=None, help="register under this name; alias champion when it beats the current"
    )
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (early stopping on validation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out-dir", default=None, help="also write bundle/summary.json here")
    p.add_argument("--alphabet", default="auto", help="auto|DNA|RNA|protein|LETTERS")
    p.add_argument("--length", type=int, default=None, help="model input length (default: longest sequence)")
    p.add_argument("--policy", default=None, help="pad/crop policy, e.g. pad=right,crop=error")
    p.add_argument("--params", default=None, help="JSON object of fixed network/training parameters")
    p.add_argument("--search-space", default=None, help="Optuna search-space YAML")
    p.add_argument(
        "--storage", default=None, help="Optuna storage URL (sqlite:///optuna.db, postgresql+psycopg2://...)"
    )
    p.add_argument("--study-name", default=None, help="Optuna study name (workers sharing a study)")
    p.add_argument("--cache-dir", default=None, help="folding cache (default ~/.cache/dynamotif/fold)")
    p.add_argument("--experiment", default=None, help="MLflow experiment (default dynamotif-sequence)")
    p.add_argument(
        "--motifs",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="interpret the final model (kernel motifs, Tomtom, report.html) and log it (default: on)",
    )
    p.add_argument(
        "--motif-sequences",
        type=int,
        default=500,
        metavar="N",
        help="test sequences interpreted (default 500)",
    )
    p.add_argument("--motif-db", default=None, help="attract | jaspar | MEME file (default by alphabet)")
    return p


class _ArgError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgError(message)


def register(app: typer.Typer) -> None:
    @app.command(
        "sequence",
        help=_DESCRIPTION + " Run `dynamotif sequence --help` for the options.",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
        add_help_option=False,
    )
    def sequence(ctx: typer.Context) -> None:
        import json
        import logging
        import os

        from components.common.errors import InputError

        parser = build_parser()
        parser.__class__ = _Parser
        if any(a in ("-h", "--help") for a in ctx.args):
            typer.echo(parser.format_help())
            return
        try:
            args = parser.parse_args(ctx.args)
        except _ArgError as exc:
            raise InputError(f"dynamotif sequence: {exc}") from None
        try:
            params = json.loads(args.params) if args.params else None
        except json.JSONDecodeError as exc:
            raise InputError(f"--params is not valid JSON: {exc.msg}") from None
        if args.ensemble < 1:
            raise InputError(f"--ensemble must be >= 1, got {args.ensemble}")
        from flows.sequence import sequence_flow  # imports prefect, which configures its loggers

        if os.environ.get("DYNAMOTIF_VERBOSE") != "1":
            for lg in ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
                logging.getLogger(lg).setLevel(logging.CRITICAL)
            logging.getLogger("mlflow").setLevel(logging.WARNING)

        summary = sequence_flow(
            data=list(args.data),
            test=args.test,
            target=list(args.target),
            task_type=args.task,
            arch=args.arch,
            fold=args.fold,
            trials=args.trials,
            name=args.name,
            epochs=args.epochs,
            seed=args.seed,
            out_dir=args.out_dir,
            alphabet=args.alphabet,
            length=args.length,
            policy=args.policy,
            params=params,
            search_space=args.search_space,
            storage=args.storage,
            study_name=args.study_name,
            cache_dir=args.cache_dir,
            experiment=args.experiment,
            progress=True,
            motifs=args.motifs,
            motif_sequences=args.motif_sequences,
            motif_db=args.motif_db,
            ensemble=args.ensemble,
            missing_targets=args.missing_targets,
        )
        brief = {
            k: summary.get(k)
            for k in ("run_id", "model_uri", "test_metrics", "registered", "motifs", "seconds")
        }
        typer.echo(json.dumps(brief, default=str))
