"""miR-125a end to end: mutation -> ENCoM signatures -> DynaSig-ML models, honest vs DynaSig-ML's protocol.

Prints ONE JSON line. Stages (wall time each): mutation + signatures for every variant of
``variants.csv`` (29,477 + WT; cached per chunk under ``--cache``, so a re-run resumes), then per split:

* ``shifted``: train = labelled basal variants with 3 mutations, test = labelled basal with 4-6;
* ``hard``: test = ``test_ids_hard.json`` (116), train = labelled variants with no mutation at a hard position.

Models (predictors = signatures + ``mcfold_energy``): LASSO (α grid 2^-15..2^0), RF, HGB (and GBR with
``--gbr``), β and α selected on validation data inside the training set only; energy-only LASSO; the
sequence baseline (one-hot sequence + ``mcfold_energy``: LASSO and HistGradientBoosting); and
DynaSig-ML 1.0.9's own protocol (selection on the test set, train+test standardisation, unseeded
RF/GBR) run on our signatures in the oracle venv (``--oracle-python``, skipped if absent).

``--limit N`` keeps the 116 hard-test variants plus a seeded random sample of the other labelled ones
(N in total) for a quick run. Usage::

    python benchmarks/mir125a.py --limit 600 --jobs 2
    python benchmarks/mir125a.py --jobs 2            # everything (hours of ENCoM on 2 cores)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data")) / "mir125a"
HARD_POSITIONS = set(range(3, 25, 3)) | set(range(63, 85, 3))
BETAS = [math.e ** (k / 2) for k in range(-6, 7)]


def _chunk_worker(args: tuple[str, list[str], list[float], str]) -> dict[str, float]:
    """Mutate + ENCoM one chunk; write ``out`` (NPZ, float32 values). Returns stage seconds."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from components.dynasig_ml import SignatureSet, save_signatures, signature_labels
    from components.encom import compute_signatures, read_structure
    from components.mutation import mutate_many

    wt_path, keys, betas, out = args
    wt = read_structure(wt_path)
    t0 = time.perf_counter()
    structures = list(mutate_many(wt, ["" if k == "WT" else k for k in keys]))
    t_mut = time.perf_counter() - t0
    t0 = time.perf_counter()
    blocks, labels = [], None
    for _name, atoms in structures:
        res = compute_signatures(atoms, betas=betas)
        labels = labels or signature_labels(res.labels)
        blocks.append(res.entropic.astype(np.float32))
    t_sig = time.perf_counter() - t0
    save_signatures(SignatureSet(keys, np.asarray(betas), labels, np.stack(blocks, axis=1)), out)
    return {"mutation_s": t_mut, "signatures_s": t_sig, "n": len(keys)}


def compute_all(keys: list[str], cache: Path, jobs: int, chunk: int) -> tuple[object, dict[str, float]]:
    from components.common.io import file_sha256
    from components.dynasig_ml import SignatureSet, load_signatures

    cache.mkdir(parents=True, exist_ok=True)
    wt_hash = file_sha256(DATA / "mir125a_WT.pdb")[:16]
    todo, paths = [], []
    for start in range(0, len(keys), chunk):
        part = keys[start : start + chunk]
        digest = hashlib.sha256(("\n".join(part) + wt_hash + repr(BETAS)).encode()).hexdigest()[:20]
        path = cache / f"{digest}.npz"
        paths.append(path)
        if not path.exists():
            todo.append((str(DATA / "mir125a_WT.pdb"), part, BETAS, str(path)))
    stats = {"mutation_cpu_s": 0.0, "signatures_cpu_s": 0.0, "n_computed": 0, "n_cached": len(keys)}
    if todo:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for res in pool.map(_chunk_worker, todo):
                stats["mutation_cpu_s"] += res["mutation_s"]
                stats["signatures_cpu_s"] += res["signatures_s"]
                stats["n_computed"] += res["n"]
        stats["n_cached"] = len(keys) - stats["n_computed"]
    return SignatureSet.concat([load_signatures(p) for p in paths]), stats


def one_hot(seqs: list[str]) -> np.ndarray:
    idx = {c: i for i, c in enumerate("ACGU")}
    arr = np.zeros((len(seqs), len(seqs[0]) * 4))
    for r, s in enumerate(seqs):
        for p, c in enumerate(s):
            arr[r, 4 * p + idx[c]] = 1.0
    return arr


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


def run_oracle(python: str, sigs, data, train: list[str], test: list[str], models: list[str]) -> dict:
    """DynaSig-ML 1.0.9's protocol on our signatures, in its own venv (benchmarks/mir125a_oracle.py)."""
    ids = train + test
    with tempfile.TemporaryDirectory() as tmp:
        npz = Path(tmp) / "in.npz"
        rows = sigs.rows(ids)
        y = data.set_index("key").loc[ids]
        np.savez(
            npz,
            ids=np.array(ids),
            n_train=len(train),
            betas=sigs.betas,
            values=np.asarray(sigs.values[:, rows], dtype=np.float64),
            eff=y.eff.to_numpy(float),
            energy=y.mcfold_energy.to_numpy(float),
        )
        out = subprocess.run(
            [python, str(Path(__file__).with_name("mir125a_oracle.py")), str(npz), ",".join(models)],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        if out.returncode != 0:
            return {
                "error": out.stderr.strip().splitlines()[-1]
                if out.stderr.strip()
                else f"exit {out.returncode}"
            }
        return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--limit", type=int, default=None, help="quick run on N labelled variants (hard test always kept)"
    )
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--chunk", type=int, default=50)
    p.add_argument("--cache", type=Path, default=Path(".dynamotif/cache/mir125a-signatures"))
    p.add_argument("--models", default="lasso,rf,hgb", help="comma-separated model specs (signature models)")
    p.add_argument("--gbr", action="store_true", help="also GradientBoostingRegressor")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--oracle-python", default=str(REPO.parent / "oracle-venv" / "bin" / "python"))
    args = p.parse_args(argv)

    from components.dynasig_ml import (
        build_dataset,
        canonical_variant,
        fit_model,
        parse_model_spec,
    )
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
    t0 = time.perf_counter()
    sigs, sig_stats = compute_all(list(df.key), args.cache, args.jobs, args.chunk)
    timings["mutation_and_signatures_s"] = time.perf_counter() - t0
    specs = [parse_model_spec(m) for m in args.models.split(",") if m] + (
        [parse_model_spec("gbr")] if args.gbr else []
    )
    out: dict = {
        "n_variants": len(df),
        "n_signatures": len(sigs.ids),
        "signature_stats": sig_stats,
        "splits": {},
    }
    labelled = df[df.eff.notna()].reset_index(drop=True)
    data = build_dataset(labelled, "eff", signatures=sigs, features=["mcfold_energy"], variant_column="key")
    seq = pd.DataFrame(
        one_hot(list(labelled.sequence)), columns=[f"oh{i}" for i in range(4 * len(labelled.sequence[0]))]
    )
    seq_table = pd.concat([labelled[["key", "eff", "mcfold_energy"]], seq], axis=1)
    seq_data = build_dataset(seq_table, "eff", features=["mcfold_energy", *seq.columns], variant_column="key")
    index = {k: i for i, k in enumerate(data.ids)}
    for split_name, (train, test) in splits(labelled).items():
        if not train or not test:
            continue
        sp = Split(np.array([index[k] for k in train]), np.array([index[k] for k in test]), split_name)
        validation = "cv:5" if len(train) < 2000 else "split:0.2"
        res: dict = {"n_train": len(train), "n_test": len(test), "validation": validation, "models": {}}
        t0 = time.perf_counter()
        for spec in specs:
            r = fit_model(data, sp, spec, predictors="both", validation=validation, seed=args.seed)
            res["models"][f"{spec.name}+energy"] = _summ(r)
        r = fit_model(
            data,
            sp,
            parse_model_spec("lasso"),
            predictors="signatures",
            validation=validation,
            seed=args.seed,
        )
        res["models"]["lasso_signatures_only"] = _summ(r)
        r = fit_model(
            data, sp, parse_model_spec("lasso"), predictors="features", validation=validation, seed=args.seed
        )
        res["models"]["lasso_energy_only"] = _summ(r)
        timings[f"{split_name}_signature_models_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        for spec in ("lasso", "hgb"):
            r = fit_model(
                seq_data,
                sp,
                parse_model_spec(spec),
                predictors="features",
                validation=validation,
                seed=args.seed,
            )
            res["models"][f"sequence_{spec}"] = _summ(r)
        timings[f"{split_name}_sequence_baseline_s"] = time.perf_counter() - t0
        sig_models = {
            k: v for k, v in res["models"].items() if k.endswith("+energy") or k == "lasso_signatures_only"
        }
        best = max(sig_models, key=lambda k: sig_models[k]["val_r2"])  # chosen on validation
        res["best_signature_model"] = {"name": best, **sig_models[best]}
        base = max(("sequence_lasso", "sequence_hgb"), key=lambda k: res["models"][k]["val_r2"])
        res["best_sequence_baseline"] = {"name": base, **res["models"][base]}
        if Path(args.oracle_python).exists():
            t0 = time.perf_counter()
            oracle_models = ["lasso", "RF", "GBR"] if len(train) + len(test) <= 30000 else ["lasso"]
            res["dynasigml_protocol"] = run_oracle(
                args.oracle_python, sigs, labelled, train, test, oracle_models
            )
            timings[f"{split_name}_dynasigml_oracle_s"] = time.perf_counter() - t0
        out["splits"][split_name] = res
    timings["total_s"] = time.perf_counter() - t_start
    out["timings"] = {k: round(v, 1) for k, v in timings.items()}
    print(json.dumps(out, default=float))
    return 0


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
