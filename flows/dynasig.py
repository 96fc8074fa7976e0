"""The DynaSig flow: WT structure + measured variants -> tracked, registered, servable models.

mutate -> ENCoM signatures (mapped over chunks; threads, processes or a Dask cluster) -> honest model
selection and fitting (``components.dynasig_ml``) -> graphs -> LASSO coefficient map -> best model
registered as a pyfunc taking variant strings, alias ``champion`` when it beats the current one on
validation R².

Resuming: every chunk's signatures are written to ``<work_dir>/signature_cache/<hash>.npz`` keyed by
the WT file, the variants, the β list and the ENCoM parameter set, so a re-run after a crash only
computes the missing chunks; chunk tasks are retried twice on unexpected errors (never on input errors).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from components.common.errors import DynamotifError, InputError

__all__ = ["dynasig_flow", "run_dynasig", "preflight", "signature_chunk", "demo", "make_task_runner"]

log = logging.getLogger("dynamotif.dynasig")

EXAMPLE_DIR = Path(__file__).resolve().parents[1] / "examples" / "mir125a"


def _retry_unless_input_error(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except DynamotifError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient (worker lost, OOM...)
        return True
    return True


def chunk_key(wt_hash: str, variants: Sequence[str], betas: Sequence[float], params: str) -> str:
    h = hashlib.sha256()
    h.update(f"{wt_hash}|{params}|{','.join(repr(float(b)) for b in betas)}|".encode())
    h.update("\n".join(variants).encode())
    return h.hexdigest()[:24]


@task(
    name="signatures-chunk",
    retries=2,
    retry_delay_seconds=1,
    retry_condition_fn=_retry_unless_input_error,
    cache_policy=NO_CACHE,
)
def signature_chunk(
    wt_pdb: str, variants: list[str], betas: list[float], params: str, cache_file: str
) -> str:
    """Signatures of one chunk of variants, written to ``cache_file`` (skipped when it exists)."""
    from components.dynasig_ml import save_signatures, variant_signatures

    path = Path(cache_file)
    if path.exists():
        return str(path)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sigs = variant_signatures(wt_pdb, variants, betas, params=params)
    save_signatures(sigs, path)
    return str(path)


@task(name="fit-model", cache_policy=NO_CACHE)
def fit_task(
    data: Any, split: Any, spec: Any, predictors: str, betas: Any, validation: str, seed: int, label: str
) -> Any:
    from components.dynasig_ml import fit_model

    return fit_model(
        data, split, spec, predictors=predictors, betas=betas, validation=validation, seed=seed, label=label
    )


def make_task_runner(
    kind: str = "threads", workers: int | None = None, dask_address: str | None = None
) -> Any:
    """``threads`` (default), ``processes`` or, with ``dask_address``, an existing Dask cluster."""
    if dask_address:
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:  # pragma: no cover - prefect-dask is a dependency
            raise InputError("--dask-address needs the prefect-dask package") from None
        return DaskTaskRunner(address=dask_address)
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    n = workers or max(1, os.cpu_count() or 1)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=n)
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=n)
    raise InputError(f"unknown task runner {kind!r}: use threads or processes")


def _check_table(table_path: Path, variant_column: str, target: str, features: Sequence[str]) -> Any:
    from components.common.io import read_table

    return read_table(table_path, required=[variant_column, target, *features])


def _validate_variants(atoms: Any, variants: Sequence[Any], source: Path) -> None:
    from components.mutation import validate_variants
    from components.mutation.core import format_rejections

    texts = ["" if (v is None or (isinstance(v, float) and v != v)) else str(v) for v in variants]
    _good, rejected = validate_variants(atoms, texts)
    if rejected:
        raise InputError(format_rejections(rejected), file=source)


def _compute_signatures(
    structure: Path, keys: list[str], betas: list[float], params: str, cache_dir: Path, chunk_size: int
) -> Any:
    from components.common.io import file_sha256
    from components.dynasig_ml import SignatureSet, load_signatures

    cache_dir.mkdir(parents=True, exist_ok=True)
    wt_hash = file_sha256(structure)
    futures = []
    for start in range(0, len(keys), chunk_size):
        chunk = keys[start : start + chunk_size]
        path = cache_dir / f"{chunk_key(wt_hash, chunk, betas, params)}.npz"
        futures.append(signature_chunk.submit(str(structure), chunk, betas, params, str(path)))
    paths = [f.result() for f in futures]
    return SignatureSet.concat([load_signatures(p) for p in paths])


def _log_model_result(res: Any, out_dir: Path, split_spec: str, validation: str) -> None:
    from components.dynasig_ml.graphs import (
        plot_coefficients,
        plot_pred_vs_measured,
        plot_r2_vs_alpha,
        plot_r2_vs_beta,
        save_figure,
    )
    from flows import tracking

    tracking.log_params({**res.params(), "split": split_spec, "validation": validation})
    metrics = {"val_r2": res.val_r2, "seconds": res.seconds, "n_not_converged": res.n_not_converged}
    metrics.update({f"test_{k}": v for k, v in res.test_metrics.items()})
    metrics.update({f"train_{k}": v for k, v in res.train_metrics.items()})
    tracking.log_metrics(metrics)
    tracking.log_table(res.curves, "selection_curves.csv")
    tracking.log_table(res.predictions(), "test_predictions.csv")
    mdir = out_dir / res.label
    figs = {"pred_vs_measured": plot_pred_vs_measured(res), "r2_vs_beta": plot_r2_vs_beta(res)}
    if res.spec.is_lasso:
        figs["r2_vs_alpha"] = plot_r2_vs_alpha(res)
        coef = res.fitted.signature_coefficients()
        if coef is not None:
            figs["coefficients"] = plot_coefficients(
                res.fitted.signature_labels, coef, title=f"{res.label} coefficients"
            )
    for name, fig in figs.items():
        path = save_figure(fig, mdir / f"{name}.png")
        tracking.log_artifact(path, "plots")


@flow(name="dynasig")
def dynasig_flow(
    structure: str | Path,
    variants: str | Path,
    target: str = "eff",
    features: Sequence[str] = (),
    split: str = "n_mut:3",
    models: Sequence[str] = ("lasso",),
    predictor_sets: Sequence[str] | None = None,
    signatures: str | Path | None = None,
    betas: Sequence[float] | None = None,
    validation: str = "split:0.2",
    seed: int = 0,
    name: str = "dynasig",
    strict: bool = False,
    chunk_size: int = 25,
    work_dir: str | Path | None = None,
    variant_column: str = "variant",
    params: str = "nrgten-1.2.9",
    experiment: str | None = None,
    register_model: bool = True,
) -> dict[str, Any]:
    """Run the DynaSig-ML protocol with honest selection; everything goes to MLflow.

    Returns a summary: parent run id, per-model metrics, the best model, registration result and
    the local output folder.
    """
    import warnings

    import pandas as pd

    from components.common.errors import DynamotifWarning
    from components.common.io import file_sha256, frame_sha256, write_json
    from components.dynasig_ml import (
        DynaSigPipeline,
        build_dataset,
        canonical_variant,
        load_signatures,
        make_split,
        map_coefficients,
        parse_model_spec,
    )
    from components.dynasig_ml.splits import parse_validation
    from components.encom.params import DEFAULT_BETAS
    from flows import tracking
    from flows.predict import DynaSigPyfunc

    structure, variants_path = Path(structure), Path(variants)
    if not structure.exists():
        raise InputError("structure file does not exist", file=structure)
    features = list(features)
    table = _check_table(variants_path, variant_column, target, features)
    specs = [parse_model_spec(m) for m in models]
    parse_validation(validation)
    predictor_sets = list(predictor_sets or (["both"] if features else ["signatures"]))
    beta_list = [float(b) for b in (betas or DEFAULT_BETAS)]
    out_dir = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="dynasig-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    run_params = {
        "structure": structure.name,
        "variants": variants_path.name,
        "target": target,
        "features": features,
        "split": split,
        "models": [s.describe() for s in specs],
        "predictor_sets": predictor_sets,
        "validation": validation,
        "seed": seed,
        "betas": [round(b, 6) for b in beta_list],
        "encom_params": params,
        "signatures": Path(signatures).name if signatures else "computed",
        "strict": strict,
    }
    dataset_hash = hashlib.sha256((frame_sha256(table) + file_sha256(structure)).encode()).hexdigest()
    with tracking.parent_run(
        "dynasig", experiment=experiment, run_name=name, params=run_params, dataset_hash=dataset_hash
    ) as run:
        # 1. mutate + signatures -----------------------------------------------------------------
        t0 = time.perf_counter()
        if signatures:
            sigs = load_signatures(signatures)
        else:
            from components.encom.structure import read_structure

            _validate_variants(read_structure(structure), table[variant_column].tolist(), variants_path)
            values = table[variant_column]
            keys = list(
                dict.fromkeys(
                    canonical_variant(v if isinstance(v, str) else "WT", record=f"row {i + 2}")
                    for i, v in enumerate(values)
                )
            )
            sigs = _compute_signatures(
                structure, keys, beta_list, params, out_dir / "signature_cache", chunk_size
            )
        timings["signatures_s"] = time.perf_counter() - t0
        # 2. data + split --------------------------------------------------------------------------
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DynamotifWarning)
            data = build_dataset(
                table,
                target,
                signatures=sigs,
                features=features,
                variant_column=variant_column,
                strict=strict,
                source=variants_path.name,
            )
        for w in caught:
            log.warning("%s", w.message)
        sp = make_split(split, data, seed=seed)
        tracking.log_metrics(
            {
                "n_variants": len(table),
                "n_used": len(data),
                "n_dropped": data.n_dropped,
                **{k: v for k, v in sp.describe().items() if k != "split"},
            }
        )
        # 3. fit (tasks) and log (nested runs, this thread) ---------------------------------------
        t0 = time.perf_counter()
        fit_betas = [b for b in beta_list if any(abs(b - s) <= 1e-6 * s for s in sigs.betas)] or None
        futures = []
        for spec in specs:
            for preds in predictor_sets:
                label = f"{spec.name}-{preds}"
                futures.append(fit_task.submit(data, sp, spec, preds, fit_betas, validation, seed, label))
        results = [f.result() for f in futures]
        timings["fit_s"] = time.perf_counter() - t0
        rows = []
        for res in results:
            with tracking.nested_run(res.label):
                _log_model_result(res, out_dir, split, validation)
            rows.append(
                {
                    "model": res.label,
                    "beta": res.fitted.beta,
                    "alpha": res.fitted.alpha,
                    "val_r2": res.val_r2,
                    **{f"test_{k}": v for k, v in res.test_metrics.items()},
                }
            )
        summary = pd.DataFrame(rows)
        tracking.log_table(summary, "summary.csv")
        best = max(results, key=lambda r: r.val_r2)  # chosen on validation only
        tracking.log_metrics(
            {"best_val_r2": best.val_r2, **{f"best_test_{k}": v for k, v in best.test_metrics.items()}}
        )
        tracking.set_tags({"best_model": best.label})
        # 4. coefficient map of the best signature LASSO -----------------------------------------
        t0 = time.perf_counter()
        lassos = [r for r in results if r.spec.is_lasso and r.fitted.signature_coefficients() is not None]
        coef_files: dict[str, str] = {}
        if lassos:
            lasso = max(lassos, key=lambda r: r.val_r2)
            cmap = map_coefficients(
                structure,
                lasso.fitted.signature_labels,
                lasso.fitted.signature_coefficients(),
                out_dir / "coefficients",
                params=params,
            )
            for p in (cmap.pdb, cmap.pml, cmap.csv):
                tracking.log_artifact(p, "coefficients")
            coef_files = {
                "pdb": str(cmap.pdb),
                "pml": str(cmap.pml),
                "csv": str(cmap.csv),
                "model": lasso.label,
            }
            tracking.log_metrics({"n_nonzero_coefficients": int((cmap.table.coefficient != 0).sum())})
        timings["coefficients_s"] = time.perf_counter() - t0
        # 5. register the best model -------------------------------------------------------------
        registration = None
        if register_model:
            t0 = time.perf_counter()
            pipe = DynaSigPipeline(best.fitted, wt_pdb=structure, params=params, metrics=best.test_metrics)
            pipe_dir = pipe.save(out_dir / "pipeline")
            # a training row: test rows serve the evaluation only
            example_row = data.table.iloc[[int(sp.train[0])]]
            example = pd.DataFrame(
                {
                    "variant": [str(example_row[variant_column].iloc[0])],
                    **{f: example_row[f].to_numpy() for f in best.fitted.feature_names},
                }
            )
            info = tracking.log_pyfunc_model(
                DynaSigPyfunc(),
                name="model",
                artifacts={"pipeline": str(pipe_dir)},
                input_example=example,
                extra_requirements=("biotite",),
                metadata={
                    "model": best.label,
                    "beta": best.fitted.beta,
                    "alpha": best.fitted.alpha,
                    "target": target,
                },
            )
            reg = tracking.register_and_promote(
                info.model_uri,
                name,
                metric="val_r2",
                value=best.val_r2,
                tags={"model": best.label, "test_r2": f"{best.test_metrics['r2']:.4f}"},
            )
            registration = {
                "name": reg.name,
                "version": reg.version,
                "promoted": reg.promoted,
                "previous_champion": reg.previous_champion,
            }
            tracking.set_tags(
                {"registered_model": f"{reg.name}/{reg.version}", "champion": str(reg.promoted).lower()}
            )
            timings["register_s"] = time.perf_counter() - t0
        tracking.log_metrics(timings)
        result = {
            "run_id": run.info.run_id,
            "out_dir": str(out_dir),
            "best": best.label,
            "models": summary.to_dict(orient="records"),
            "registration": registration,
            "coefficients": coef_files,
            "timings": timings,
            **sp.describe(),
            "n_dropped": data.n_dropped,
        }
        write_json(result, out_dir / "summary.json")
        return result


def preflight(
    structure: str | Path,
    variants: str | Path,
    target: str = "eff",
    features: Sequence[str] = (),
    split: str = "n_mut:3",
    models: Sequence[str] = ("lasso",),
    signatures: str | Path | None = None,
    validation: str = "split:0.2",
    seed: int = 0,
    strict: bool = False,
    variant_column: str = "variant",
    **_ignored: Any,
) -> None:
    """Every input check that needs no signatures, before any flow or MLflow run starts.

    Missing files/columns, malformed model/split/validation specs, non-numeric targets, missing
    values with ``strict``, variants that do not fit the WT structure (or have no precomputed
    signature) and splits that leave a side empty all fail here with one :class:`InputError`.
    """
    import warnings

    from components.common.errors import DynamotifWarning
    from components.dynasig_ml import build_dataset, load_signatures, make_split, parse_model_spec
    from components.dynasig_ml.splits import parse_validation, validation_folds

    structure, variants_path = Path(structure), Path(variants)
    if not structure.exists():
        raise InputError("structure file does not exist", file=structure)
    table = _check_table(variants_path, variant_column, target, list(features))
    for m in models:
        parse_model_spec(m)
    parse_validation(validation)
    sigs = load_signatures(signatures) if signatures else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DynamotifWarning)
        data = build_dataset(
            table,
            target,
            signatures=sigs,
            features=list(features),
            variant_column=variant_column,
            strict=strict,
            source=variants_path.name,
        )
    if sigs is None:
        from components.encom.structure import read_structure

        _validate_variants(read_structure(structure), table[variant_column].tolist(), variants_path)
    sp = make_split(split, data, seed=seed)
    validation_folds(
        sp.train, validation, seed=seed, ids=data.ids
    )  # e.g. cv-positions:K with too few positions


def run_dynasig(
    *, runner: str = "threads", workers: int | None = None, dask_address: str | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Check the inputs (:func:`preflight`), then run :func:`dynasig_flow` on the chosen task runner
    (``threads``/``processes``/Dask address). Bad input fails before any Prefect or MLflow run exists."""
    preflight(**kwargs)
    task_runner = make_task_runner(runner, workers, dask_address)
    return dynasig_flow.with_options(task_runner=task_runner)(**kwargs)


def demo(out_dir: Path) -> None:
    """The DynaSig flow on ``examples/mir125a`` (300 variants): LASSO and gradient boosting."""
    out_dir = Path(out_dir)
    res = run_dynasig(
        structure=EXAMPLE_DIR / "mir125a_WT.pdb",
        variants=EXAMPLE_DIR / "variants.csv",
        target="eff",
        features=["mcfold_energy"],
        split="n_mut:3",
        models=["lasso", "hgb:max_iter=100"],
        predictor_sets=["both", "features"],
        name="mir125a-demo",
        work_dir=out_dir,
    )
    print(f"DynaSig demo: train {res['n_train']} / test {res['n_test']} variants; best model {res['best']}")
    for row in res["models"]:
        print(
            f"  {row['model']:<22s} val R² {row['val_r2']:.3f}  test R² {row['test_r2']:.3f}  EF10% {row['test_ef10']:.2f}"
        )
    if res["coefficients"]:
        print(f"  coefficient map: {res['coefficients']['pdb']} (+ .pml)")
    if res["registration"]:
        reg = res["registration"]
        print(f"  registered {reg['name']} v{reg['version']} (champion: {reg['promoted']})")
