"""RBP CLIP benchmark (pysster paper): test ROC-AUC / PR-AUC / wall time per protein, sequence-only
and with structure, on the files' fixed train/test split (10% of train held out for early stopping).

Targets: ROC-AUC >= pysster's published values (TAF2N 0.900, PUM2 0.945, QKI 0.966, IGF2BP123 0.836,
SRSF1 0.934); wall time <= pysster's on 2 cores (TAF2N sequence-only 118 s; folding 510 s).

Usage: python benchmarks/rbp_clip.py [--proteins taf2n pum2 ...] [--modes seq struct] [--data DIR]
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PYSSTER = {"taf2n": 0.900, "pum2": 0.945, "qki": 0.966, "igf2bp123": 0.836, "srsf1": 0.934}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "pysster_rbp_clip"))
    ap.add_argument("--proteins", nargs="+", default=list(PYSSTER))
    ap.add_argument("--modes", nargs="+", default=["seq", "struct"], choices=["seq", "struct"])
    ap.add_argument("--cache-dir", default=None, help="fold cache (default: a fresh temp dir = cold folding)")
    ap.add_argument("--params", default="{}", help="JSON of model/training parameters")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    from components.seqmodels.data import load_data, split_data
    from components.seqmodels.pipeline import evaluate, prepare_structures, train_model

    d = Path(args.data)
    cache = args.cache_dir or tempfile.mkdtemp(prefix="rbp-fold-")
    params = json.loads(args.params)
    out: dict = {"benchmark": "rbp_clip", "threads": torch.get_num_threads(), "proteins": {}}
    for prot in args.proteins:
        res: dict = {"pysster_roc_auc": PYSSTER.get(prot)}
        for mode in args.modes:
            t0 = time.perf_counter()
            train, alph = load_data(
                [
                    f"pos={d / f'{prot}.train.positive.fasta.gz'}",
                    f"neg={d / f'{prot}.train.negative.fasta.gz'}",
                ]
            )
            test, _ = load_data(
                [
                    f"pos={d / f'{prot}.test.positive.fasta.gz'}",
                    f"neg={d / f'{prot}.test.negative.fasta.gz'}",
                ],
                alphabet=alph,
            )
            tr, va = split_data(train, (0.9,), args.seed)
            fold_s = 0.0
            if mode == "struct":
                stats: dict = {}
                tr, va, test = prepare_structures([tr, va, test], alph, cache_dir=cache, stats=stats)
                fold_s = stats.get("seconds", 0.0)
            bundle, fit = train_model(
                tr, va, alph, params=params, length=200, uses_structure=mode == "struct", seed=args.seed
            )
            metrics, _ = evaluate(bundle, test)
            res[mode] = {
                "roc_auc": round(metrics["roc_auc"], 4),
                "pr_auc": round(metrics["pr_auc"], 4),
                "wall_s": round(time.perf_counter() - t0, 1),
                "fold_s": round(fold_s, 1),
                "train_s": round(fit.seconds, 1),
                "epochs": fit.epochs_run,
            }
        out["proteins"][prot] = res
    print(json.dumps(out))


if __name__ == "__main__":
    main()
