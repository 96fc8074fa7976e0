"""``dynamotif dynasig``: WT structure + measured variants -> tracked, registered DynaSig-ML models.

The options build a :class:`~components.dynasig_ml.config.DynasigConfig` (defaults live there: an
option left out keeps the config's default) and hand it to the flow.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer

from flows.commands import ListConventionCommand


def _config_mapping(options: dict[str, Any], config_file: Path | None) -> dict[str, Any]:
    """Options given on the command line (over a JSON config file's values), keyed like the config."""
    from components.common.typed_config import read_config_file

    mapping = read_config_file(config_file) if config_file is not None else {}
    for key, value in options.items():
        if value is None or (isinstance(value, list) and not value):
            continue
        mapping[key] = value
    return mapping


def register(app: typer.Typer) -> None:
    @app.command("dynasig", cls=ListConventionCommand)
    def dynasig(
        structure: Path | None = typer.Option(None, "--structure", help="WT structure (PDB or mmCIF)."),
        variants: Path | None = typer.Option(
            None, "--variants", help="Variants table (CSV/TSV/Parquet) with a variant column."
        ),
        target: str | None = typer.Option(None, "--target", help="Column to predict (required)."),
        features: list[str] = typer.Option(
            [], "--features", help="Extra predictor column (repeatable), e.g. mcfold_energy."
        ),
        split: str | None = typer.Option(
            None,
            "--split",
            help="random:0.2 (default, seeded) | n_mut:3 | column:NAME | ids:FILE.json; outer "
            "cross-validation cv:5 | cv-grouped:5 (folds by residue): out-of-fold predictions, no registration",
        ),
        model: list[str] = typer.Option(
            [],
            "--model",
            help="lasso (default), rf, gbr, hgb, ... or a dotted path with params, e.g. sklearn.svm.SVR:C=3 (repeatable).",
        ),
        predictors: list[str] = typer.Option(
            [],
            "--predictors",
            help="signatures | features | both | delta | svib | dynamics | structure | aa | local, or blocks "
            "joined with '+', e.g. local+features (repeatable; default: both with --features, else signatures).",
        ),
        signatures: Path | None = typer.Option(
            None, "--signatures", help="Precomputed signatures (NPZ or long/wide table)."
        ),
        validation: str | None = typer.Option(
            None,
            "--validation",
            help=(
                "Selection inside training data. split:0.2 (default; random rows) and cv:5 (random "
                "disjoint folds) suit random test sets; cv-strict:5 (disjoint folds, every mutated position "
                "of a validation variant unseen in its fit) suits tests at unseen positions; cv-positions:5 "
                "(a validation variant needs only one unseen position, folds overlap) is weaker."
            ),
        ),
        seed: int | None = typer.Option(None, "--seed"),
        name: str | None = typer.Option(None, "--name", help="Registered model name (default dynasig)."),
        strict: bool | None = typer.Option(
            None, "--strict", help="Fail on rows with a missing target/feature instead of dropping them."
        ),
        skip_invalid: bool | None = typer.Option(
            None,
            "--skip-invalid",
            help="Leave out rows whose variant does not fit the structure (listed in rejected.csv) instead of failing.",
        ),
        variant_column: str | None = typer.Option(None, "--variant-column"),
        chunk_size: int | None = typer.Option(None, "--chunk-size", help="Variants per signature task."),
        bootstrap: int | None = typer.Option(
            None, "--bootstrap", help="Bootstrap resamples for metric intervals (default 1000; 0: none)."
        ),
        work_dir: Path | None = typer.Option(
            None, "--work-dir", help="Local outputs + resumable signature cache."
        ),
        encom_params: str | None = typer.Option(None, "--encom-params", help="ENCoM parameter set."),
        config_file: Path | None = typer.Option(
            None, "--config", help="JSON file of options (keys as above, e.g. chunk_size); flags override it."
        ),
        runner: str = typer.Option(
            "pool",
            "--runner",
            help="pool (tasks on threads, signatures on a process pool) | threads | processes "
            "(one task per signature chunk on that runner).",
        ),
        workers: int | None = typer.Option(
            None, "--workers", help="Parallel tasks and signature processes (default: CPU count)."
        ),
        dask_address: str | None = typer.Option(
            None, "--dask-address", help="Run tasks on an existing Dask cluster."
        ),
    ) -> None:
        """Fit DynaSig-ML models with honest selection; log everything to MLflow; register the best.

        \b
        Example:
          dynamotif dynasig --structure examples/mir125a/mir125a_WT.pdb \\
            --variants examples/mir125a/variants.csv --target eff --features mcfold_energy \\
            --split n_mut:3 --model lasso --model hgb --name mir125a
        """
        from components.common.io import json_safe
        from components.dynasig_ml.config import DynasigConfig
        from flows.dynasig import run_dynasig

        options = {
            "structure": structure,
            "variants": variants,
            "target": target,
            "features": features,
            "split": split,
            "models": model,
            "predictors": predictors,
            "signatures": signatures,
            "validation": validation,
            "seed": seed,
            "name": name,
            "strict": strict,
            "skip_invalid": skip_invalid,
            "variant_column": variant_column,
            "chunk_size": chunk_size,
            "bootstrap": bootstrap,
            "work_dir": work_dir,
            "encom_params": encom_params,
        }
        config = DynasigConfig.from_mapping(_config_mapping(options, config_file))
        res = run_dynasig(config, runner=runner, workers=workers, dask_address=dask_address)
        typer.echo(
            json.dumps(
                json_safe(
                    {k: res[k] for k in ("run_id", "best", "registration", "n_train", "n_test", "out_dir")}
                ),
                default=str,
                allow_nan=False,
            )
        )
        for row in res["models"]:
            typer.echo(
                f"{row['model']:<24s} val R² {_fmt(row['val_r2'])}  test R² {_fmt(row['test_r2'])}  "
                f"r {_fmt(row['test_pearson_r'])}  EF10% {_fmt(row['test_ef10'], 2)}"
            )
        for note in res["warnings"]:
            typer.echo(f"warning: {note}", err=True)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"
