"""miR-125a end to end: mutation -> ENCoM signatures -> DynaSig-ML models, honest vs DynaSig-ML's protocol.

Prints ONE JSON line. Stages (wall time each): mutation + signatures for every variant of
``variants.csv`` (29,477 + WT; cached per chunk under ``--cache``, so a re-run resumes), then per split:

* ``shifted``: train = labelled basal variants with 3 mutations, test = labelled basal with 4-6;
* ``hard``: test = ``test_ids_hard.json`` (116), train = labelled variants with no mutation at a hard position.

Models (predictors = signatures + ``mcfold_energy``): LASSO (α grid 2^-15..2^0), RF (max_features=1/3),
HGB (and GBR with ``--gbr``), β and α selected on validation data inside the training set only
(shifted: a 20 % validation split, or 5-fold CV ``cv:5`` when the training set has fewer than 2,000
rows, as in ``--limit`` runs; hard: ``--hard-validation``, default ``cv-strict:5``, disjoint folds in
which every mutated position of a validation variant is unseen in its fit, as the hard test variants'
positions are unseen in training; ``cv-positions:5`` is the weaker grouping); energy-only LASSO; the
sequence baseline (one-hot sequence + ``mcfold_energy``: LASSO and HistGradientBoosting); the lookup
baseline ``lookup_contained_mean`` (no model: each test variant scored as the mean efficiency of the
training variants it contains; on the shifted split a 4-6-mutation variant contains ~8.8 training
triple mutants); and
DynaSig-ML 1.0.9's own protocol (selection on the test set, train+test standardisation, unseeded
RF/GBR) run on our signatures in the oracle venv (``--oracle-python``, skipped if absent). The oracle
subprocesses run concurrently with our own fitting, sharing ``--jobs`` CPU slots.

Every row is fitted with ``--seeds N`` seeds (default 3; a seed draws the validation cut and seeds the
estimators) and reported as mean ± sd with the per-seed runs; ``best_signature_model`` /
``best_sequence_baseline`` are the selections made on validation for each seed, and ``verdicts`` calls
the best signature model "above" / "below" a baseline only when the gap of the mean test R² exceeds
the larger sd, else "on par". ``--splits shifted,hard`` picks the splits (signatures only for their
variants); ``--partial FILE`` rewrites the JSON after every split.

``--predictors both,local+features`` adds the signature models on other predictor sets (rows
``MODEL[SET]``, candidates of the validation choice like the ``MODEL+energy`` rows; sets with
ENCoM-derived blocks use the WT's signature, computed with the variants).

``--limit N`` keeps the 116 hard-test variants plus a seeded random sample of the other labelled ones
(N in total) for a quick run. Usage::

    python benchmarks/mir125a.py --limit 600 --jobs 2
    python benchmarks/mir125a.py --jobs 2            # everything (hours of ENCoM on 2 cores)
    python benchmarks/mir125a.py --splits hard --jobs 2 --partial hard.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from components.encom.params import DEFAULT_BETAS  # noqa: E402

DATA = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data")) / "mir125a"
HARD_POSITIONS = set(range(3, 25, 3)) | set(range(63, 85, 3))


def compute_all(keys: list[str], cache: Path, jobs: int, chunk: int) -> tuple[object, dict[str, float]]:
    """Signatures of ``keys`` through the component's content-keyed chunk cache.

    Values are rounded to float32, as the benchmark's recorded figures were computed.
    """
    from components.dynasig_ml import SignatureSet
    from components.dynasig_ml.signature_cache import compute_signature_chunks, plan_chunks

    chunks = plan_chunks(DATA / "mir125a_WT.pdb", keys, DEFAULT_BETAS, cache, chunk_size=chunk)
    sigs, stats = compute_signature_chunks(chunks, jobs=jobs, progress=False)
    stats.pop("wall_s")
    return SignatureSet(sigs.ids, sigs.betas, sigs.labels, sigs.values.astype(np.float32)), stats


def one_hot(seqs: list[str]) -> np.ndarray:
    """Flat one-hot sequence predictors, position-major: column ``4 * position + letter`` (ACGU)."""
    from components.seqmodels.alphabet import get_alphabet
    from components.seqmodels.alphabet import one_hot as encode

    x, _mask = encode(seqs, get_alphabet("rna"), len(seqs[0]))
    return x.transpose(0, 2, 1).reshape(len(seqs), -1).astype(np.float64)


def splits(df: pd.DataFrame) -> dict[str, tuple[list[str], list[str]]]:
    lab = df[df.eff.notna()]
    hard_test = {k for k in json.loads((DATA / "test_ids_hard.json").read_text())}
    hard = lab[lab.file_id.isin(hard_test)]
    hard_train = lab[
        (~lab.file_id.isin(hard_test)) & lab.positions.map(lambda ps: not (set(ps) & HARD_POSITIONS))
    ]
    basal = lab[lab.region == "basal"]
    return {
        "shifted": (list(basal[basal.n_mut == 3].key), list(basal[basal.n_mut.between(4, 6)].key)),
        "hard": (list(hard_train.key), list(hard.key)),
    }


def write_oracle_input(path: Path, sigs, data, train: list[str], test: list[str]) -> None:
    """The NPZ that ``mir125a_oracle.py`` reads (train ids first)."""
    ids = train + test
    rows = sigs.rows(ids)
    y = data.set_index("key").loc[ids]
    np.savez(
        path,
        ids=np.array(ids),
        n_train=len(train),
        betas=sigs.betas,
        values=np.asarray(sigs.values[:, rows], dtype=np.float64),
        eff=y.eff.to_numpy(float),
        energy=y.mcfold_energy.to_numpy(float),
    )


def _next_oracle_job(
    python: str, queue: deque[tuple[str, list[str], Path]], slots: threading.Semaphore
) -> tuple[str, list[str], dict, float]:
    """Wait for a CPU slot, then run the next queued oracle job (queue order, whichever thread wakes)."""
    with slots:
        split_name, models, npz = queue.popleft()
        return split_name, models, *run_oracle(python, npz, models)


def run_oracle(python: str, npz: Path, models: list[str]) -> tuple[dict, float]:
    """DynaSig-ML 1.0.9's protocol on our signatures, in its own venv (benchmarks/mir125a_oracle.py).

    Returns (results per model, seconds it ran).
    """
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run(
            [python, str(Path(__file__).with_name("mir125a_oracle.py")), str(npz), ",".join(models)],
            capture_output=True,
            text=True,
            cwd=tmp,
            env={**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
        )
        seconds = time.perf_counter() - t0
    if out.returncode != 0:
        err = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        return {m: {"error": err} for m in models}, seconds
    return json.loads(out.stdout.strip().splitlines()[-1]), seconds


def main(argv: list[str] | None = None) -> int:
    from components.common.cli import positive_int

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--limit", type=int, default=None, help="quick run on N labelled variants (hard test always kept)"
    )
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--chunk", type=int, default=50)
    p.add_argument("--cache", type=Path, default=Path(".dynamotif/cache/mir125a-signatures"))
    p.add_argument(
        "--models",
        default="lasso,rf:max_features=0.33,hgb",
        help="comma-separated model specs (signature models); RF draws p/3 features per split (Breiman's regression default)",
    )
    p.add_argument("--gbr", action="store_true", help="also GradientBoostingRegressor")
    p.add_argument(
        "--predictors",
        default="both",
        help="comma-separated predictor sets of the signature models (default both = signatures + "
        "mcfold_energy, rows 'MODEL+energy'; others, e.g. local+features, give rows 'MODEL[SET]')",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--seeds", type=positive_int, default=3, help="fit every model with seeds seed..seed+N-1 (default 3)"
    )
    p.add_argument("--splits", default="shifted,hard", help="comma-separated splits to run (default both)")
    p.add_argument(
        "--hard-validation",
        default="cv-strict:5",
        help="selection on the hard split (default cv-strict:5: every validation position unseen in its fit)",
    )
    p.add_argument("--partial", type=Path, default=None, help="rewrite this JSON file after every split")
    p.add_argument("--oracle-python", default=str(REPO.parent / "oracle-venv" / "bin" / "python"))
    args = p.parse_args(argv)

    from components.common.io import write_json
    from components.dynasig_ml import build_dataset, canonical_variant, parse_model_spec
    from components.dynasig_ml.predictors import needs_wt, parse_predictors
    from components.dynasig_ml.splits import Split

    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    df = pd.read_csv(DATA / "variants.csv")
    df["key"] = [canonical_variant(m if isinstance(m, str) else "WT") for m in df.mutations]
    df["positions"] = [
        [int(t[1:-1]) for t in m.split(";")] if isinstance(m, str) else [] for m in df.mutations
    ]
    if args.limit:  # the hard test set + equal shares of the three training/test pools
        hard_ids = set(json.loads((DATA / "test_ids_hard.json").read_text()))
        keep = df[df.file_id.isin(hard_ids)]
        lab = df[df.eff.notna() & ~df.file_id.isin(hard_ids)]
        pools = [
            lab[(lab.region == "basal") & (lab.n_mut == 3)],
            lab[(lab.region == "basal") & lab.n_mut.between(4, 6)],
            lab[lab.positions.map(lambda ps: not (set(ps) & HARD_POSITIONS))],
        ]
        share = max(0, args.limit - len(keep)) // len(pools)
        picked = [keep]
        for pool in pools:
            pool = pool[~pool.key.isin(pd.concat(picked).key)]
            picked.append(pool.sample(n=min(share, len(pool)), random_state=args.seed))
        df = pd.concat(picked).reset_index(drop=True)
    pred_sets = [s for s in args.predictors.split(",") if s]
    for s in pred_sets:
        parse_predictors(s)
    with_wt = any(needs_wt(s) for s in pred_sets)
    chosen = [name for name in args.splits.split(",") if name]
    if set(chosen) - {"shifted", "hard"}:
        p.error(f"--splits: unknown split(s) {sorted(set(chosen) - {'shifted', 'hard'})}; use shifted,hard")
    if set(chosen) != {"shifted", "hard"}:  # signatures of the chosen splits' variants only
        need = {
            k for name, ids in splits(df[df.eff.notna()]).items() if name in chosen for k in ids[0] + ids[1]
        }
        df = df[df.key.isin(need | ({"WT"} if with_wt else set()))].reset_index(drop=True)
    t0 = time.perf_counter()
    sigs, sig_stats = compute_all(list(df.key), args.cache, args.jobs, args.chunk)
    timings["mutation_and_signatures_s"] = time.perf_counter() - t0
    models = [parse_model_spec(m) for m in args.models.split(",") if m] + (
        [parse_model_spec("gbr")] if args.gbr else []
    )
    specs = [  # (row label, model, predictor set)
        (f"{m.name}+energy" if s == "both" else f"{m.name}[{s}]", m, s) for s in pred_sets for m in models
    ]
    out: dict = {
        "n_variants": len(df),
        "n_signatures": len(sigs.ids),
        "signature_stats": sig_stats,
        "splits": {},
    }
    labelled = df[df.eff.notna()].reset_index(drop=True)
    context = None
    if with_wt:  # the WT's residue context of the ENCoM-derived blocks
        from components.dynasig_ml.predictors import residue_context
        from components.encom.structure import read_structure

        wt_row = int(sigs.rows(["WT"])[0])
        context = residue_context(
            read_structure(DATA / "mir125a_WT.pdb"), sigs.values[:, wt_row], sigs.labels, sigs.betas
        )
    data = build_dataset(
        labelled, "eff", signatures=sigs, features=["mcfold_energy"], variant_column="key", context=context
    )
    seq = pd.DataFrame(
        one_hot(list(labelled.sequence)), columns=[f"oh{i}" for i in range(4 * len(labelled.sequence[0]))]
    )
    seq_table = pd.concat([labelled[["key", "eff", "mcfold_energy"]], seq], axis=1)
    seq_data = build_dataset(seq_table, "eff", features=["mcfold_energy", *seq.columns], variant_column="key")
    index = {k: i for i, k in enumerate(data.ids)}
    split_ids = {k: v for k, v in splits(labelled).items() if v[0] and v[1] and k in chosen}
    seeds = [args.seed + k for k in range(args.seeds)]
    # DynaSig-ML's protocol runs in subprocesses alongside our own fitting: ``--jobs`` CPU slots, one
    # held by our fitting while it runs; oracle jobs take free slots in order (shifted RF, the longest, first).
    slots = threading.Semaphore(max(1, args.jobs))
    oracle_dir = tempfile.TemporaryDirectory()
    queue: deque[tuple[str, list[str], Path]] = deque()
    t_fit = time.perf_counter()
    slots.acquire()  # our own fitting's slot, taken before any oracle job can start
    with ThreadPoolExecutor(max_workers=4) as oracle_pool:
        if not Path(args.oracle_python).exists():
            # said in the record and on stderr, so a table built from it cannot miss the absent rows
            out["dynasigml_protocol_skipped"] = (
                f"no oracle interpreter at {args.oracle_python} (--oracle-python)"
            )
            print(
                f"mir125a: DynaSig-ML protocol rows skipped: {out['dynasigml_protocol_skipped']}",
                file=sys.stderr,
            )
        else:
            for split_name, (train, test) in split_ids.items():
                npz = Path(oracle_dir.name) / f"{split_name}.npz"
                write_oracle_input(npz, sigs, labelled, train, test)
                # big training sets: RF alone in one process, so the two lanes stay balanced
                groups = [["RF"], ["lasso", "GBR"]] if len(train) > 2000 else [["lasso", "RF", "GBR"]]
                queue.extend((split_name, g, npz) for g in groups)
        futures = [
            oracle_pool.submit(_next_oracle_job, args.oracle_python, queue, slots) for _ in range(len(queue))
        ]
        try:
            for split_name, (train, test) in split_ids.items():
                sp = Split(
                    np.array([index[k] for k in train]), np.array([index[k] for k in test]), split_name
                )
                validation = args.hard_validation if split_name == "hard" else _validation(len(train))
                out["splits"][split_name] = _fit_split_seeds(
                    split_name, sp, data, seq_data, specs, validation, seeds, timings
                )
                if args.partial:
                    write_json(out, args.partial)
        finally:
            slots.release()
        timings["own_fitting_s"] = time.perf_counter() - t_fit
        for fut in futures:
            split_name, group, res, seconds = fut.result()
            out["splits"][split_name].setdefault("dynasigml_protocol", {}).update(res)
            timings[f"{split_name}_dynasigml_oracle_{'+'.join(group)}_s"] = seconds
    oracle_dir.cleanup()
    timings["fitting_wall_s"] = time.perf_counter() - t_fit
    timings["total_s"] = time.perf_counter() - t_start
    out["timings"] = {k: round(v, 1) for k, v in timings.items()}
    print(json.dumps(out, default=float))
    return 0


def _validation(n_train: int) -> str:
    """Shifted split: a 20 % validation split, 5-fold CV under 2,000 training rows."""
    return "cv:5" if n_train < 2000 else "split:0.2"


#: the scores summarised over seeds (mean ± sd) for every model row
_SEED_METRICS = ("test_r2", "test_pearson_r", "test_ef10", "val_r2")


def _fit_split_seeds(name: str, sp, data, seq_data, specs, validation: str, seeds, timings: dict) -> dict:
    """:func:`_fit_split` once per seed (validation cut + estimator seed); every row as mean ± sd.

    The rows ``best_signature_model`` and ``best_sequence_baseline`` are the selection procedures
    (chosen on validation for each seed). ``verdicts`` compares the best signature model with each
    baseline: "above" / "below" when the gap of the means exceeds the larger sd of the two, else "on par".
    """
    from components.common.spread import compare_to_reference, seed_summary

    runs = [_fit_split(name, sp, data, seq_data, specs, validation, seed, timings) for seed in seeds]
    rows = {m: [r["models"][m] for r in runs] for m in runs[0]["models"]}
    rows["best_signature_model"] = [r["best_signature_model"] for r in runs]
    rows["best_sequence_baseline"] = [r["best_sequence_baseline"] for r in runs]
    summary = {
        row: {
            metric: seed_summary([v[metric] for v in vals])
            for metric in _SEED_METRICS
            if all(v.get(metric) is not None for v in vals)
        }
        for row, vals in rows.items()
    }
    best = summary["best_signature_model"]["test_r2"]
    verdicts = {}
    for base in ("best_sequence_baseline", "lookup_contained_mean"):
        other = summary[base].get("test_r2")
        if other is not None and best["n"] >= 2:
            sd = max(best["sd"], other["sd"])
            verdicts[f"best_signature_model_vs_{base}"] = compare_to_reference(
                best["mean"], sd, other["mean"]
            )
    return {
        "n_train": runs[0]["n_train"],
        "n_test": runs[0]["n_test"],
        "validation": validation,
        "seeds": list(seeds),
        "models": summary,
        "chosen": {
            row: [v["name"] for v in rows[row]] for row in ("best_signature_model", "best_sequence_baseline")
        },
        "verdicts": verdicts,
        "runs": runs,
    }


def _fit_split(name: str, sp, data, seq_data, specs, validation: str, seed: int, timings: dict) -> dict:
    """Our models on one split, selected on ``validation`` inside the training set only."""
    from components.dynasig_ml import fit_model, parse_model_spec

    res: dict = {"n_train": int(sp.train.size), "n_test": int(sp.test.size), "validation": validation}
    models: dict = {}
    t0 = time.perf_counter()
    for label, spec, preds in specs:
        r = fit_model(data, sp, spec, predictors=preds, validation=validation, seed=seed)
        models[label] = _summ(r)
    for preds, label in (("signatures", "lasso_signatures_only"), ("features", "lasso_energy_only")):
        r = fit_model(data, sp, parse_model_spec("lasso"), predictors=preds, validation=validation, seed=seed)
        models[label] = _summ(r)
    timings[f"{name}_signature_models_s"] = timings.get(f"{name}_signature_models_s", 0.0) + (
        time.perf_counter() - t0
    )
    t0 = time.perf_counter()
    for spec in ("lasso", "hgb"):
        r = fit_model(
            seq_data, sp, parse_model_spec(spec), predictors="features", validation=validation, seed=seed
        )
        models[f"sequence_{spec}"] = _summ(r)
    timings[f"{name}_sequence_baseline_s"] = timings.get(f"{name}_sequence_baseline_s", 0.0) + (
        time.perf_counter() - t0
    )
    models["lookup_contained_mean"] = _lookup_baseline(data, sp)
    res["models"] = models
    sig_models = {
        k: v for k, v in models.items() if k.endswith(("+energy", "]")) or k == "lasso_signatures_only"
    }
    best = max(sig_models, key=lambda k: sig_models[k]["val_r2"])  # chosen on validation
    res["best_signature_model"] = {"name": best, **sig_models[best]}
    base = max(("sequence_lasso", "sequence_hgb"), key=lambda k: models[k]["val_r2"])
    res["best_sequence_baseline"] = {"name": base, **models[base]}
    return res


def _lookup_baseline(data, sp) -> dict:
    """No model: each test variant scored as the mean target of the training variants it contains."""
    from components.dynasig_ml import score_all
    from components.dynasig_ml.baselines import contained_mean_baseline

    look = contained_mean_baseline(
        [data.ids[i] for i in sp.train], data.y[sp.train], [data.ids[i] for i in sp.test]
    )
    # constant predictions (no test variant contains a training one, as on the hard split): r undefined
    m = {
        k: (round(v, 4) if math.isfinite(v) else None)
        for k, v in score_all(data.y[sp.test], look.prediction).items()
    }
    return {
        "test_r2": m["r2"],
        "test_pearson_r": m["pearson_r"],
        "test_ef10": m["ef10"],
        **{k: round(v, 4) for k, v in look.describe().items()},
    }


def _summ(r) -> dict:
    m = r.test_metrics
    return {
        "test_r2": round(m["r2"], 4),
        "test_pearson_r": round(m["pearson_r"], 4),
        "test_ef10": round(m["ef10"], 3),
        "test_ef10_dynasigml": round(m["ef10_dynasigml"], 3),
        "val_r2": round(r.val_r2, 4),
        "beta": None if r.fitted.beta is None else round(r.fitted.beta, 4),
        "alpha": r.fitted.alpha,
        "fit_s": round(r.seconds, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
