"""Motif-interpretation benchmark on the pysster RBP CLIP data (PUM2, QKI).

For each protein a quick 30-kernel CNN is trained with the seqmodels API (sequence only, fixed
train/test files, 10% of train for early stopping); then

* kernel motifs of the test set (edge columns trimmed against the data's letter frequencies) are
  matched to the bundled ATtRACT database with Tomtom: does the best hit of the most important
  kernels (ranked by pysster's activation score, the default importance) belong to the expected
  protein (PUM1/PUM2 for the UGUAHAUA family, QKI for ACUAAY)? ``first_expected_rank``: the
  importance rank (1 = most important) of the first kernel whose best hit is the expected protein;
  per kernel ``expected_rank`` is the
  rank of the expected protein among the kernel's Tomtom hits;
* TF-MoDISco on DeepLIFT-SHAP hypothetical scores (20 dinucleotide-shuffled references) of up to
  2,000 positive test sequences: the best ATtRACT hit of the patterns with the most seqlets;
* timing: ``interpret_model`` (defaults: activation importance, DeepLIFT-SHAP on 500 sequences
  included) of the 30-kernel PUM2 model on 10,000 sequences (train + test, TF-MoDISco excluded),
  with 2 torch / numba threads. Target < 120 s.

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


def _best_hits(tomtom, queries: list[str], expected: tuple[str, ...] = ()) -> list[dict]:
    rows = []
    for q in queries:
        hits = tomtom[tomtom["query"] == q].sort_values("rank")
        if len(hits):
            r = hits.iloc[0]
            exp = hits[hits["target_name"].isin(expected)]
            rows.append(
                {
                    "motif": q,
                    "best": r["target_name"],
                    "p": float(f"{r['p_value']:.3g}"),
                    "q": float(f"{r['q_value']:.3g}"),
                    "expected_rank": int(exp["rank"].iloc[0]) if len(exp) else None,
                    "expected_q": float(f"{exp['q_value'].iloc[0]:.3g}") if len(exp) else None,
                }
            )
    return rows


def _first_expected_rank(kernels, tomtom, column: str, expected: tuple[str, ...]) -> int | None:
    """Importance rank (1-based, by ``column``) of the first kernel whose best Tomtom hit is expected."""
    best = tomtom[tomtom["rank"] == 1].set_index("query")["target_name"]
    ranked = kernels.sort_values(column, ascending=False)["motif_id"].tolist()
    for i, q in enumerate(ranked, start=1):
        if best.get(q) in expected:
            return i
    return None


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
    from components.motifs.attribution import deeplift_shap_scores, modisco_motifs
    from components.motifs.tomtom import load_motif_db, run_tomtom
    from components.seqmodels import run
    from components.seqmodels.bundle import encode
    from components.seqmodels.config import SequenceConfig

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
        cfg = SequenceConfig(
            data=(
                f"pos={d / f'{prot}.train.positive.fasta.gz'}",
                f"neg={d / f'{prot}.train.negative.fasta.gz'}",
            ),
            test=(
                f"pos={d / f'{prot}.test.positive.fasta.gz'}",
                f"neg={d / f'{prot}.test.negative.fasta.gz'}",
            ),
            length=200,
            params=params,
            seed=args.seed,
            motifs=False,
        )
        train, test, alph = run.load_inputs(cfg)
        assert test is not None
        splits = run.split(cfg, train, test, alph)
        t0 = time.perf_counter()
        trained = run.train(splits, cfg, params, length=200)
        bundle, fit = trained.bundle, trained.result
        assert bundle is not None and fit is not None
        metrics = run.evaluate(bundle, test).metrics
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
        expected = EXPECTED[prot]
        hits = _best_hits(r["tomtom_table"], top, expected)
        for h, row in zip(hits, ranked.head(args.top).itertuples(), strict=False):
            h.update(consensus=row.consensus, core=row.core, importance=float(f"{row.importance:.3g}"))
        res["kernel_top"] = hits
        res["kernel_match"] = any(h["best"] in expected for h in hits)
        res["first_expected_rank"] = {  # interpret_model's default importance is pysster's activation score
            "activation": _first_expected_rank(
                r["kernel_table"], r["tomtom_table"], "activation_score", expected
            ),
        }

        # TF-MoDISco on positives
        if not args.no_modisco:
            pos = [s for s, y in zip(test.sequences, test.y[:, 0], strict=True) if y > 0.5][:2000]
            t0 = time.perf_counter()
            X = encode(bundle, pos).numpy()
            ainfo: dict = {}
            hyp = deeplift_shap_scores(bundle.net, X, info=ainfo, seed=args.seed)
            res["attribution"] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in ainfo.items()}
            motifs, info = modisco_motifs(X, hyp, alph.letters)
            res["modisco_s"] = round(time.perf_counter() - t0, 1)
            motifs = sorted(motifs, key=lambda m: -m.nsites)
            pos_motifs = [m for m in motifs if m.id.startswith("modisco_pos")][: args.top]
            if pos_motifs:
                tt = run_tomtom(pos_motifs, db, top_n=10)
                mh = _best_hits(tt, [m.id for m in pos_motifs], EXPECTED[prot])
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
        "attribution": "deeplift_shap (500 sequences x 20 shuffled references, inside wall_s)",
        "stages_s": {k: v for k, v in r["metrics"].items() if k.endswith("_s")},
        "pairs_tested": r["metrics"]["n_pairs_tested"],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
