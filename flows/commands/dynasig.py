"""``dynamotif dynasig``: WT structure + measured variants -> tracked, registered DynaSig-ML models."""

from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("dynasig")
    def dynasig(
        structure: Path = typer.Option(..., "--structure", help="WT structure (PDB or mmCIF)."),
        variants: Path = typer.Option(
            ..., "--variants", help="Variants table (CSV/TSV/Parquet) with a variant column."
        ),
        target: str = typer.Option("eff", "--target", help="Column to predict."),
        features: list[str] = typer.Option(
            [], "--features", help="Extra predictor column (repeatable), e.g. mcfold_energy."
        ),
        split: str = typer.Option(
            "n_mut:3", "--split", help="n_mut:3 | random:0.2 | column:NAME | ids:FILE.json"
        ),
        model: list[str] = typer.Option(
            ["lasso"],
            "--model",
            help="lasso, rf, gbr, hgb, ... or a dotted path with params, e.g. sklearn.svm.SVR:C=3 (repeatable).",
        ),
        predictors: list[str] = typer.Option(
            [],
            "--predictors",
            help="signatures | features | both (repeatable; default: both with --features, else signatures).",
        ),
        signatures: Path | None = typer.Option(
            None, "--signatures", help="Precomputed signatures (NPZ or long/wide table)."
        ),
        validation: str = typer.Option(
            "split:0.2",
            "--validation",
            help=(
                "Selection inside training data. split:0.2 (random rows) and cv:5 (random disjoint folds) "
                "suit random test sets; cv-strict:5 (disjoint folds, every mutated position of a "
                "validation variant unseen in its fit) suits tests at unseen positions; cv-positions:5 "
                "(a validation variant needs only one unseen position, folds overlap) is weaker."
            ),
        ),
        seed: int = typer.Option(0, "--seed"),
        name: str = typer.Option("dynasig", "--name", help="Registered model name."),
        strict: bool = typer.Option(
            False, "--strict", help="Fail on rows with a missing target/feature instead of dropping them."
        ),
        variant_column: str = typer.Option("variant", "--variant-column"),
        chunk_size: int = typer.Option(25, "--chunk-size", help="Variants per signature task."),
        runner: str = typer.Option("threads", "--runner", help="threads | processes"),
        workers: int | None = typer.Option(
            None, "--workers", help="Parallel signature tasks (default: CPU count)."
        ),
        dask_address: str | None = typer.Option(
            None, "--dask-address", help="Run tasks on an existing Dask cluster."
        ),
        work_dir: Path | None = typer.Option(
            None, "--work-dir", help="Local outputs + resumable signature cache."
        ),
        params: str = typer.Option("nrgten-1.2.9", "--encom-params", help="ENCoM parameter set."),
    ) -> None:
        """Fit DynaSig-ML models with honest selection; log everything to MLflow; register the best.

        \b
        Example:
          dynamotif dynasig --structure examples/mir125a/mir125a_WT.pdb \\
            --variants examples/mir125a/variants.csv --target eff --features mcfold_energy \\
            --split n_mut:3 --model lasso --model hgb --name mir125a
        """
        from flows.dynasig import run_dynasig

        res = run_dynasig(
            runner=runner,
            workers=workers,
            dask_address=dask_address,
            structure=structure,
            variants=variants,
            target=target,
            features=features,
            split=split,
            models=model,
            predictor_sets=predictors or None,
            signatures=signatures,
            validation=validation,
            seed=seed,
            name=name,
            strict=strict,
            chunk_size=chunk_size,
            work_dir=work_dir,
            variant_column=variant_column,
            params=params,
        )
        typer.echo(
            json.dumps(
                {k: res[k] for k in ("run_id", "best", "registration", "n_train", "n_test", "out_dir")}
            )
        )
        for row in res["models"]:
            typer.echo(
                f"{row['model']:<24s} val R² {row['val_r2']:.3f}  test R² {row['test_r2']:.3f}  "
                f"r {row['test_pearson_r']:.3f}  EF10% {row['test_ef10']:.2f}"
            )
