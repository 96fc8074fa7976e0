"""Motif-interpretation benchmark on the pysster RBP CLIP data (PUM2, QKI).

For each protein a quick 30-kernel CNN is trained with the seqmodels API (sequence only, fixed
train/test files, 10% of train for early stopping); then

* kernel motifs of the test set are matched to the bundled ATtRACT database with Tomtom: does the
  best hit of the most important kernels belong to the expected protein (PUM1/PUM2 for the UGUAHAUA
  family, QKI for ACUAAY)?
* TF-MoDISco on Integrated-Gradients hypothetical scores of up to 2,000 positive test sequences: the
  best ATtRACT hit of the patterns with the most seqlets;
* timing: ``interpret_model`` of the 30-kernel PUM2 model on 10,000 sequences (train + test,
  TF-MoDISco excluded), with 2 torch / numba threads. Target < 120 s.

Usage: python benchmarks/motifs_rbp.py [--proteins pum2 qki] [--top 3] [--data DIR] [--epochs 8]
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EXPECTED = {"pum2": ("PUM1", "PUM2"), "qki": ("QKI",)}


def _best_hits(tomtom, queries: list[str]) -> list[dict]:
    rows = []
    for q in queries:
        hit = tomtom[(tomtom["query"] == q) & (tomtom["rank"] == 1)]
        if len(hit):
            r = hit.iloc[0]
            rows.append(
                {
                    "motif": q,
                    "best": r["target_name"],
                    "p": float(f"{r['p_value']:.3g}"),
                    "q": float(f"{r['q_value']:.3g}"),
                }
            )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "pysster_rbp_clip"))
    ap.add_argument("--proteins", nargs="+", default=list(EXPECTED))
    ap.add_argument("--top", type=int, default=3, help="most important kernels / largest patterns checked")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--timing-n", type=int, default=10_000)
    ap.add_argument("--no-modisco", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import numba
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    from components.motifs import interpret_model
    from components.motifs.attribution import integrated_gradients_scores, modisco_motifs
    from components.motifs.tomtom import load_motif_db, run_tomtom
    from components.seqmodels.bundle import encode
    from components.seqmodels.data import load_data, split_data
    from components.seqmodels.pipeline import evaluate, train_model

    d = Path(args.data)
    db = load_motif_db("attract")
    params = {
        "conv_num": 2,
        "kernel_num": 30,
        "kernel_len": 10,
        "pool_size": 3,
        "max_epochs": args.epochs,
        "patience": 2,
    }
    out: dict = {"benchmark": "motifs_rbp", "threads": args.threads, "proteins": {}}
    bundles = {}
    for prot in args.proteins:
        res: dict = {"expected": list(EXPECTED.get(prot, ()))}
        train, alph = load_data(
            [f"pos={d / f'{prot}.train.positive.fasta.gz'}", f"neg={d / f'{prot}.train.negative.fasta.gz'}"]
        )
        test, _ = load_data(
            [f"pos={d / f'{prot}.test.positive.fasta.gz'}", f"neg={d / f'{prot}.test.negative.fasta.gz'}"],
            alphabet=alph,
        )
        tr, va = split_data(train, (0.9,), args.seed)
        t0 = time.perf_counter()
        bundle, fit = train_model(tr, va, alph, params=params, length=200, seed=args.seed)
        metrics, _ = evaluate(bundle, test)
        res.update(
            train_s=round(time.perf_counter() - t0, 1),
            epochs=fit.epochs_run,
            test_roc_auc=round(metrics["roc_auc"], 4),
        )
        bundles[prot] = (bundle, train, test)

        # kernel motifs on the test set
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            r = interpret_model(
                bundle, test.sequences, test.y, tmp, motif_db=db, attribution="none", seed=args.seed
            )
        res["interpret_test_s"] = round(time.perf_counter() - t0, 1)
        ranked = r["kernel_table"].sort_values("importance", ascending=False)
        top = ranked["motif_id"].head(args.top).tolist()
        hits = _best_hits(r["tomtom_table"], top)
        for h, cons in zip(hits, ranked["consensus"].head(args.top), strict=False):
            h["consensus"] = cons
        res["kernel_top"] = hits
        res["kernel_match"] = any(h["best"] in EXPECTED[prot] for h in hits)

        # TF-MoDISco on positives
        if not args.no_modisco:
            pos = [s for s, y in zip(test.sequences, test.y[:, 0], strict=True) if y > 0.5][:2000]
            t0 = time.perf_counter()
            X = encode(bundle, pos).numpy()
            hyp = integrated_gradients_scores(bundle.net, X)
            motifs, info = modisco_motifs(X, hyp, alph.letters)
            res["modisco_s"] = round(time.perf_counter() - t0, 1)
            motifs = sorted(motifs, key=lambda m: -m.nsites)
            pos_motifs = [m for m in motifs if m.id.startswith("modisco_pos")][: args.top]
            if pos_motifs:
                tt = run_tomtom(pos_motifs, db, top_n=1)
                mh = _best_hits(tt, [m.id for m in pos_motifs])
                for h, m in zip(mh, pos_motifs, strict=False):
                    h.update(consensus=m.consensus(), n_seqlets=m.nsites)
                res["modisco_top"] = mh
                res["modisco_match"] = any(h["best"] in EXPECTED[prot] for h in mh)
            else:
                res["modisco_top"], res["modisco_match"] = [], False
        out["proteins"][prot] = res
        print(
            f"[motifs_rbp] {prot}: {json.dumps(res)}", file=sys.stderr, flush=True
        )  # progress; stdout = 1 line

    # timing: 30-kernel model on 10,000 sequences, TF-MoDISco excluded
    prot = "pum2" if "pum2" in bundles else next(iter(bundles))
    bundle, train, test = bundles[prot]
    seqs = (train.sequences + test.sequences)[: args.timing_n]
    labels = np.concatenate([train.y, test.y])[: args.timing_n]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        r = interpret_model(bundle, seqs, labels, tmp, motif_db=db, seed=args.seed)
        wall = time.perf_counter() - t0
    out["timing"] = {
        "protein": prot,
        "n_sequences": len(seqs),
        "n_kernels": int(r["metrics"]["n_kernels"]),
        "wall_s": round(wall, 1),
        "target_s": 120,
        "cpu_s": round(r["metrics"]["cpu_total_s"], 1),
        "stages_s": {k: v for k, v in r["metrics"].items() if k.endswith("_s")},
        "pairs_tested": r["metrics"]["n_pairs_tested"],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
