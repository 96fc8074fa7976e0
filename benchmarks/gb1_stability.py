"""GB1 stability (Nisthal et al. 2019): ENCoM predictors of single-mutant ΔΔG under random and residue-grouped CV.

Prints ONE JSON line. Stages (wall time each):

1. ``mutate_sign``: every variant of ``gb1_stability.csv`` (1,060 + WT) mutated on PDB 1PGA
   (``components.mutation``) and its ENCoM Entropic Signature computed at the 13 DynaSig-ML β
   (``components.encom``), in ``--jobs`` processes; cached under ``--cache``. Every mutated side chain
   is checked for heavy-atom clashes (< 2.2 Å to any atom more than two bonds away).
2. ``svib_alone``: ΔS_vib = S_vib(mutant) - S_vib(WT) against the measured ΔΔG, no training
   (Spearman / Pearson at every β; β = 1 is NRGTEN's recommended value and the headline).
3. ``baselines``: ``baseline.py`` of the data folder run as is (its own folds: printed figures parsed),
   and its feature matrices (amino-acid one-hot, position one-hot, the three Rosetta predictions) refit
   on *our* folds with its models (HistGradientBoosting / RidgeCV), so every row compares on the same
   variants and folds.
4. ``models``: our predictor sets x models under outer ``cv:5`` (random) and ``cv-grouped:5`` (folds by
   residue); β in {1, e} (and α for LASSO) chosen inside each outer training fold (inner ``cv:3`` resp.
   ``cv-positions:3``, grouped by residue as well), out-of-fold predictions over all 935 measured
   variants. ``selected`` picks, in every outer fold, the candidate with the best inner validation R²
   (never the held-out fold). The ablation rows (residue-grouped CV only) add one block at a time.
   Steps 3-4 are repeated for ``--seeds N`` seeds (default 3; a seed deals the outer folds and seeds
   the estimators); every figure is the mean over seeds, with the sample sd under ``sd``.

ΔΔG: kcal/mol, mutant - WT, negative = destabilising (the study's convention). Missing Rosetta values
are 0, as in ``baseline.py``. Usage::

    python benchmarks/gb1_stability.py --jobs 2 --cache benchmarks/out/gb1-cache
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import re
import runpy
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = (
    Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data"))
    / "gb1_stability_nisthal2019"
)
BETAS = [math.e ** (k / 2) for k in range(-6, 7)]
FIT_BETAS = [1.0, math.e]
ROSETTA = ["rosetta_somemin_ddg", "rosetta_nomin", "fullmin"]

#: candidates of the honest per-fold selection (all use ENCoM-derived blocks)
CANDIDATES = [
    ("hgb", "local"),
    ("hgb", "local+features"),
    ("rf:n_estimators=300,max_features=0.33,min_samples_leaf=2", "local+features"),
    ("lasso", "local+features"),
    ("lasso", "both"),
]
#: ablation: one block at a time (HistGradientBoosting)
ABLATION = [
    ("hgb", "aa"),
    ("hgb", "aa+structure"),
    ("hgb", "aa+structure+svib"),
    ("hgb", "svib+dynamics"),
    ("hgb", "aa+features"),
]


def _chunk(args: tuple[str, list[str], list[float]]) -> dict:
    """Mutate + sign one chunk of variants; clash check of every mutated side chain."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from components.dynasig_ml import signature_labels
    from components.encom import compute_signatures, read_structure
    from components.mutation.checks import check_side_chain
    from components.mutation.core import Mutator

    wt_path, keys, betas = args
    wt = read_structure(wt_path)
    mutator = Mutator(wt)
    good, rejected = mutator.validate(["" if k == "WT" else k for k in keys])
    if rejected:
        raise ValueError(f"invalid variants: {rejected[:3]}")
    out = {"values": [], "min_distance": [], "t_mutate": 0.0, "t_sign": 0.0, "labels": None, "n_warn": 0}
    for v in good:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arr = mutator.build(v.mutations)
        out["n_warn"] += sum("clash" in str(w.message) for w in caught)
        t1 = time.perf_counter()
        res = compute_signatures(arr, betas)
        out["t_sign"] += time.perf_counter() - t1
        out["t_mutate"] += t1 - t0
        dmin = np.inf
        for m in v.mutations:
            if m.mut == "G":
                continue
            had_cb = "CB" in mutator.residue((m.chain, m.position, m.ins_code)).atom_name
            dmin = min(dmin, check_side_chain(arr, m, wt_had_cb=bool(had_cb)).min_distance)
        out["min_distance"].append(float(dmin))
        out["values"].append(np.asarray(res.entropic, dtype=np.float64))
        out["labels"] = signature_labels(res.labels)
    return out


def mutate_and_sign(keys: list[str], cache: Path, jobs: int) -> tuple[object, np.ndarray, dict]:
    """SignatureSet of ``keys`` (WT first), per-variant clash distance and stage seconds (cached)."""
    from components.dynasig_ml import SignatureSet
    from components.encom.structure import read_structure
    from components.mutation import mutation_model_for

    pdb = DATA / "gb1_1pga.pdb"
    model = mutation_model_for(read_structure(pdb).res_name)  # the side-chain model's part
    key = pdb.read_bytes() + "\n".join(keys).encode() + repr(BETAS).encode() + model.encode()
    h = hashlib.sha256(key).hexdigest()[:16]
    path = cache / f"gb1_signatures_{h}.npz"
    if path.exists():
        with np.load(path) as z:
            sigs = SignatureSet(
                list(map(str, z["ids"])), z["betas"], list(map(str, z["labels"])), z["values"]
            )
            return sigs, z["min_distance"], json.loads(str(z["timing"]))
    chunks = [keys[i : i + 40] for i in range(0, len(keys), 40)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(_chunk, [(str(pdb), c, BETAS) for c in chunks]))
    wall = time.perf_counter() - t0
    values = np.stack([v for p in parts for v in p["values"]], axis=1)
    dmin = np.array([d for p in parts for d in p["min_distance"]])
    timing = {
        "mutate_sign_wall_s": wall,
        "mutate_cpu_s": sum(p["t_mutate"] for p in parts),
        "sign_cpu_s": sum(p["t_sign"] for p in parts),
        "clash_warnings": sum(p["n_warn"] for p in parts),
    }
    sigs = SignatureSet(keys, np.array(BETAS), parts[0]["labels"], values)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(keys), betas=np.array(BETAS), labels=np.array(sigs.labels), values=values,
             min_distance=dmin, timing=json.dumps(timing))  # fmt: skip
    tmp.replace(path)
    return sigs, dmin, timing


def _r(x: float) -> float:
    return round(float(x), 3)


def _m(metrics: dict) -> dict:
    return {k: _r(metrics[k]) for k in ("spearman_rho", "pearson_r", "r2")}


_NUM = re.compile(r"-?\d+\.\d+")


def _spread(runs: list[dict]) -> dict:
    """Metrics over seeds: the mean of each (as the figure) and its sample sd under ``sd``."""
    from components.common.spread import seed_summary

    out: dict = {}
    for key in runs[0]:
        summary = seed_summary([r[key] for r in runs], digits=3)
        out[key] = summary["mean"]
        out.setdefault("sd", {})[key] = summary["sd"]
    return out


def run_baseline_script() -> dict:
    """Run ``baseline.py`` unchanged in its folder; its printed figures and its globals."""
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(DATA)
        with contextlib.redirect_stdout(out):
            glb = runpy.run_path(str(DATA / "baseline.py"), run_name="baseline")
    finally:
        os.chdir(cwd)
    printed = {}
    pat = re.compile(
        r"^(.*?)\s+(hgb|ridge)\s+random5fold \(rho, r, R2\) (\(.*?\))\s+position-grouped5fold (\(.*\))"
    )
    for line in out.getvalue().splitlines():
        m = pat.match(line)
        if m:
            rnd = [float(x) for x in _NUM.findall(m.group(3))]
            grp = [float(x) for x in _NUM.findall(m.group(4))]
            printed[f"{m.group(1).strip()} {m.group(2)}"] = {"random": rnd, "grouped": grp}
        elif line.startswith("rosetta somemin alone"):
            printed["rosetta_somemin_alone_spearman"] = float(line.split()[-1])
    return {"printed": printed, "globals": glb}


def baselines_on_folds(glb: dict, data, folds_by: dict, seed: int = 0) -> dict:
    """``baseline.py``'s matrices and models refit on our folds (same rows, checked)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.linear_model import RidgeCV

    from components.dynasig_ml.crossval import oof_metrics
    from components.mutation.variants import canonical_variant

    ids = [canonical_variant(v) for v in glb["d"].variant]
    if ids != list(data.ids):
        raise RuntimeError("baseline.py rows differ from the benchmark's dataset rows")
    oh, posoh, ros = glb["oh"], glb["posoh"], glb["ros"]
    sets = {
        "aa onehot": oh,
        "aa+pos onehot": np.hstack([oh, posoh]),
        "rosetta": ros,
        "aa onehot+rosetta": np.hstack([oh, ros]),
        "aa+pos+rosetta": np.hstack([oh, posoh, ros]),
    }
    res: dict = {}
    for name, x in sets.items():
        for model in ("hgb", "ridge"):
            row = {}
            for outer, folds in folds_by.items():
                oof = np.full(len(data), np.nan)
                for f in folds:
                    est = (
                        HistGradientBoostingRegressor(random_state=seed)
                        if model == "hgb"
                        else RidgeCV(alphas=np.logspace(-3, 3, 13))
                    )
                    est.fit(x[f.train], data.y[f.train])
                    oof[f.test] = est.predict(x[f.test])
                row[outer] = _m(oof_metrics(data.y, oof))
            res[f"{name} {model}"] = row
    return res


def _cv_job(args: tuple) -> tuple:
    from threadpoolctl import threadpool_limits

    from components.dynasig_ml import parse_model_spec
    from components.dynasig_ml.crossval import cross_validate

    data, folds, model, predictors, validation, outer, seed = args
    spec = parse_model_spec(model)
    t0 = time.perf_counter()
    with threadpool_limits(1):
        res = cross_validate(
            data, folds, spec, predictors=predictors, betas=FIT_BETAS, validation=validation, seed=seed
        )
    return outer, model, predictors, seed, res, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict:
    from components.common.cli import positive_int

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="processes for mutation/signatures and model fits")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "dynamotif-gb1")
    ap.add_argument("--no-ablation", action="store_true", help="skip the ablation rows")
    ap.add_argument(
        "--seeds",
        type=positive_int,
        default=3,
        help="seeds 0..N-1: each deals the outer folds and seeds the estimators",
    )
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from components.dynasig_ml import build_dataset
    from components.dynasig_ml.crossval import select_per_fold
    from components.dynasig_ml.metrics import pearson_r, spearman_rho
    from components.dynasig_ml.predictors import residue_context
    from components.dynasig_ml.splits import outer_folds
    from components.encom import read_structure
    from components.mutation.variants import canonical_variant

    t_all = time.perf_counter()
    stages: dict[str, float] = {}
    table = pd.read_csv(DATA / "gb1_stability.csv")
    keys = ["WT", *dict.fromkeys(canonical_variant(v) for v in table.variant)]
    # 1. mutation + signatures ------------------------------------------------------------------
    t0 = time.perf_counter()
    sigs, dmin, mut_timing = mutate_and_sign(keys, args.cache, args.jobs)
    stages["mutate_sign_s"] = time.perf_counter() - t0
    wt = read_structure(DATA / "gb1_1pga.pdb")
    context = residue_context(wt, sigs.values[:, 0], sigs.labels, sigs.betas)
    measured = table.dropna(subset=["ddg"]).copy()
    measured[ROSETTA] = measured[ROSETTA].fillna(0.0)
    data = build_dataset(measured, "ddg", signatures=sigs, features=ROSETTA, context=context)
    # 2. ΔS_vib alone -----------------------------------------------------------------------------
    t0 = time.perf_counter()
    dsvib = data.derived.blocks["svib"][1][:, :, 0]
    svib = {
        f"{b:.4g}": {
            "spearman": _r(spearman_rho(data.y, dsvib[i])),
            "pearson": _r(pearson_r(data.y, dsvib[i])),
        }
        for i, b in enumerate(sigs.betas)
    }
    stages["svib_s"] = time.perf_counter() - t0
    # 3. baselines ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    seeds = list(range(args.seeds))
    folds = {
        (o, seed): outer_folds(spec, data, seed=seed)
        for seed in seeds
        for o, spec in (("random", "cv:5"), ("grouped", "cv-grouped:5"))
    }
    outers = ("random", "grouped")
    script = run_baseline_script()
    base_runs = [
        baselines_on_folds(script["globals"], data, {o: folds[o, seed] for o in outers}, seed)
        for seed in seeds
    ]
    base = {name: {o: _spread([run[name][o] for run in base_runs]) for o in outers} for name in base_runs[0]}
    stages["baselines_s"] = time.perf_counter() - t0
    # 4. our models ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    inner = {"random": "cv:3", "grouped": "cv-positions:3"}
    todo = [
        (data, folds[o, seed], m, p, inner[o], o, seed)
        for seed in seeds
        for o in outers
        for m, p in CANDIDATES
    ]
    if not args.no_ablation:
        todo += [
            (data, folds["grouped", seed], m, p, inner["grouped"], "grouped", seed)
            for seed in seeds
            for m, p in ABLATION
        ]
    results: dict = {}
    seconds: dict = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for outer, model, preds, seed, res, sec in pool.map(_cv_job, todo):
            results[outer, seed, f"{model} {preds}"] = res
            seconds[f"{outer} {model} {preds} seed {seed}"] = round(sec, 1)
            print(f"{outer} seed {seed} {model} {preds}: {_m(res.metrics)} ({sec:.0f} s)", file=sys.stderr)
    sel_runs: dict = {o: [] for o in outers}
    chosen: dict = {o: [] for o in outers}
    for (outer, seed), fold_list in folds.items():
        cands = [results[outer, seed, f"{m} {p}"] for m, p in CANDIDATES]
        sel = select_per_fold(data, fold_list, cands)
        sel_runs[outer].append(_m(sel.metrics))
        chosen[outer].append([f"{c['model']} beta={c['beta']}" for c in sel.chosen()])
    selected = {o: {**_spread(sel_runs[o]), "chosen": chosen[o]} for o in outers}
    labels = dict.fromkeys(label for (_o, _s, label) in results)
    models = {
        label: {
            o: _spread([_m(results[o, seed, label].metrics) for seed in seeds])
            for o in outers
            if (o, seeds[0], label) in results
        }
        for label in labels
    }
    stages["models_s"] = time.perf_counter() - t0
    stages["total_s"] = time.perf_counter() - t_all
    best_base = {o: max(v[o]["r2"] for v in base.values()) for o in outers}
    finite = dmin[np.isfinite(dmin)]
    out = {
        "benchmark": "gb1_stability",
        "n_variants": len(keys) - 1,
        "n_measured": len(data),
        "clashes": {
            "n_below_2.2": int(np.sum(finite < 2.2)),
            "min_distance": _r(finite.min()),
            "n_checked": int(finite.size),
            "mutation_warnings": mut_timing["clash_warnings"],
        },
        "svib_alone_beta1": svib[f"{1.0:.4g}"],
        "svib_alone": svib,
        "selected": selected,
        "seeds": seeds,
        "targets": {
            "grouped_r2>=0.60": selected["grouped"]["r2"] >= 0.60,
            "grouped_spearman>=0.72": selected["grouped"]["spearman_rho"] >= 0.72,
            "random_r2>=0.70": selected["random"]["r2"] >= 0.70,
        },
        "vs_best_baseline_r2": {o: _r(selected[o]["r2"] - best_base[o]) for o in outers},
        "models": models,
        "baselines_our_folds": base,
        "baselines_printed": script["printed"],
        "stage_seconds": {
            k: round(v, 1) for k, v in {**stages, **mut_timing}.items() if k != "clash_warnings"
        },
        "cv_seconds": seconds,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
