"""3'UTR stability MPRA (Siegel 2022): CNN+GRU regression vs a 6-mer ridge baseline, same seeded
80/10/10 split on ``stability_jurkat``. Target: test Pearson r >= baseline + 0.05.

Model: the component's CNN+GRU defaults (``CNN_GRU_DEFAULTS``: Conv1d 64 x 9 + ReLU, MaxPool 3,
2 x [Conv1d 64 x 5, BatchNorm, ReLU, dropout 0.2, MaxPool 2], bidirectional GRU 64, dense 64),
AdamW lr 2e-3 / weight decay 1e-2, one-cycle schedule over 10 epochs, batch 128, standardised
target, best validation-loss weights restored. The ridge baseline is fitted on train + validation
(``RidgeCV`` picks its alpha by leave-one-out on them).

Usage: python benchmarks/utr3_stability.py [--quick] [--data FILE] [--params JSON] [--threads N]
``--quick``: 2,000 sequences, 3 epochs (an end-to-end check, not an accuracy figure).
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import product
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def kmer_counts(seqs: list[str], k: int = 6):
    import numpy as np
    from scipy import sparse

    index = {"".join(p): i for i, p in enumerate(product("ACGT", repeat=k))}
    rows, cols = [], []
    for r, s in enumerate(seqs):
        for j in range(len(s) - k + 1):
            c = index.get(s[j : j + k])
            if c is not None:
                rows.append(r)
                cols.append(c)
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(seqs), len(index)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--data",
        default=str(
            REPO.parent
            / "shared"
            / "data"
            / "utr3_stability_mpra_siegel2022"
            / "siegel2022_3utr_stability.tsv.gz"
        ),
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--params", default="{}")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    import numpy as np
    import pandas as pd
    from sklearn.linear_model import RidgeCV

    from components.seqmodels.alphabet import DNA
    from components.seqmodels.data import SequenceData, split_data
    from components.seqmodels.networks import CNN_GRU_DEFAULTS
    from components.seqmodels.pipeline import evaluate, train_model
    from components.seqmodels.training import compute_metrics

    df = pd.read_csv(args.data, sep="\t").dropna(subset=["stability_jurkat"])
    if args.quick:
        df = df.sample(n=2000, random_state=args.seed)
    seqs = [s.upper() for s in df["seq"]]
    y = df["stability_jurkat"].to_numpy(np.float32)[:, None]
    data = SequenceData(
        seqs, [f"row {i + 1}" for i in range(len(seqs))], y, "regression", ["stability_jurkat"]
    )
    tr, va, te = split_data(data, (0.8, 0.1), args.seed)

    t0 = time.perf_counter()
    ridge = RidgeCV(alphas=np.logspace(-2, 4, 13)).fit(
        kmer_counts(tr.sequences + va.sequences), np.concatenate([tr.y, va.y])[:, 0]
    )
    base = compute_metrics("regression", te.y, ridge.predict(kmer_counts(te.sequences))[:, None])
    base_s = time.perf_counter() - t0

    params = {
        **CNN_GRU_DEFAULTS,
        "lr": 2e-3,
        "weight_decay": 1e-2,
        "batch_size": 128,
        "scheduler": "onecycle",
        "max_epochs": 3 if args.quick else 10,
        "patience": 10,
        **json.loads(args.params),
    }
    t0 = time.perf_counter()
    bundle, fit = train_model(
        tr, va, DNA, arch="cnn_gru", params=params, length=161, policy="pad=right,crop=right", seed=args.seed
    )
    model, _ = evaluate(bundle, te)
    out = {
        "benchmark": "utr3_stability",
        "quick": args.quick,
        "n_train": len(tr),
        "n_val": len(va),
        "n_test": len(te),
        "threads": torch.get_num_threads(),
        "params": params,
        "ridge_6mer": {k: round(v, 4) for k, v in base.items()} | {"wall_s": round(base_s, 1)},
        "cnn_gru": {k: round(v, 4) for k, v in model.items()}
        | {
            "wall_s": round(time.perf_counter() - t0, 1),
            "epochs": fit.epochs_run,
            "best_epoch": fit.best_epoch,
        },
    }
    out["pearson_gain"] = round(model["pearson"] - base["pearson"], 4)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
