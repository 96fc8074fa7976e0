"""Fitting stage of the DynaSig track: models one after the other vs concurrently on threads.

The flow submits one ``fit-model`` task per (model, predictor set) to its task runner (threads by
default); this measures what that buys on synthetic signatures (no ENCoM): the same
:func:`components.dynasig_ml.run.fit_job` calls, sequential and on ``--workers`` threads, with the
results checked identical. Prints one JSON line. Usage::

    python benchmarks/dynasig_fit_concurrency.py --n 1500 --workers 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def synthetic_inputs(n: int, n_beads: int, seed: int) -> tuple[pd.DataFrame, object]:
    """A table of ``n`` variants and signatures at 3 β with a linear signal at β = 1."""
    from components.dynasig_ml import SignatureSet

    rng = np.random.default_rng(seed)
    betas = np.array([np.e**-1, 1.0, np.e])
    ids = [f"A{i + 1}C" for i in range(n)]
    base = rng.normal(size=(n, n_beads))
    values = np.stack([base * b + rng.normal(scale=0.5, size=base.shape) for b in betas])
    y = base[:, :5].sum(axis=1) + rng.normal(scale=0.5, size=n)
    labels = [f"S|{r}|A|{r}" for r in range(1, n_beads + 1)]
    table = pd.DataFrame({"variant": ids, "eff": y, "energy": rng.normal(size=n)})
    return table, SignatureSet(ids, betas, labels, values)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=1500, help="variants")
    p.add_argument("--beads", type=int, default=80)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--models", nargs="+", default=["lasso", "rf:n_estimators=100", "hgb"])
    args = p.parse_args(argv)

    from components.dynasig_ml.config import DynasigConfig
    from components.dynasig_ml.run import Inputs, fit_job, plan_fits, prepare_data

    table, sigs = synthetic_inputs(args.n, args.beads, seed=0)
    cfg = DynasigConfig(
        structure=REPO / "examples" / "mir125a" / "mir125a_WT.pdb",
        variants=Path("synthetic.csv"),
        target="eff",
        features=("energy",),
        models=tuple(args.models),
        betas=tuple(float(b) for b in sigs.betas),
        bootstrap=0,
    )
    inputs = Inputs(cfg, table, (), "synthetic", Path("."))
    prepared = prepare_data(inputs, sigs)
    jobs = plan_fits(cfg)
    t0 = time.perf_counter()
    sequential = [fit_job(prepared, job, cfg) for job in jobs]
    t_seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        concurrent = list(pool.map(lambda job: fit_job(prepared, job, cfg), jobs))
    t_conc = time.perf_counter() - t0
    same = all(
        np.array_equal(a.pred_test, b.pred_test) and a.val_r2 == b.val_r2
        for a, b in zip(sequential, concurrent, strict=True)
    )
    out = {
        "n_variants": args.n,
        "models": [j.label for j in jobs],
        "per_model_s": {r.label: round(r.seconds, 2) for r in sequential},
        "sequential_s": round(t_seq, 2),
        "concurrent_s": round(t_conc, 2),
        "workers": args.workers,
        "speedup": round(t_seq / t_conc, 2),
        "identical_results": same,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
