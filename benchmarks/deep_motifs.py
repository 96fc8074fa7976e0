"""Deep-neuron motifs benchmark: every neuron of conv layer 2 of two real models, against ATtRACT.

* PUM2 (pysster RBP CLIP data, fixed train/test files): a 3-conv-layer CNN (64/32/32 kernels of
  8/5/5 nt, pool 2) trained with the seqmodels API (10% of train for early stopping), then
  :func:`components.motifs.deep.interpret_layer` on layer 2 (all 32 neurons) over the test
  sequences. Expected: a deep neuron whose segments match PUM1/PUM2 (UGUAHAUA).
* 3'UTR stability (Siegel 2022 MPRA, ``stability_jurkat``, seeded 80/10/10 split): a CNN+GRU
  (the component defaults: 64 kernels) trained for a few epochs, layer 2 = the first tower conv
  (64 neurons) over the test split. Expected: ARE binders (ELAVL1, ZFP36, HNRNPD, TIA1, ...),
  PUM or other known 3'UTR elements.

Per model: test quality, how many neurons have a segment with an ATtRACT Tomtom hit at q < 0.05,
the most frequent best hits (one count per neuron), the grammar pairs tested, wall and CPU time of
the interpretation (target: PUM2 layer 2, all neurons, <= 600 s on 2 cores).

Usage: python benchmarks/deep_motifs.py [--models pum2 utr3] [--threads 2] [--epochs 8]
       [--utr-epochs 4] [--utr-train N] [--utr-n N] [--out DIR] [--shared ../shared/data]
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = REPO.parent / "shared" / "data"
#: ATtRACT names counted as known 3'UTR stability elements: AU-rich element binders, PUM, and
#: other 3'UTR decay/stability regulators
UTR_KNOWN = {
    "ELAVL1", "ELAVL2", "ELAVL3", "ELAVL4", "ZFP36", "ZFP36L1", "ZFP36L2", "HNRNPD", "KHSRP", "TIA1",
    "TIAL1", "PUM1", "PUM2", "CPEB1", "CPEB2", "CPEB4", "RBMS3", "HNRNPC", "CELF1", "SAMD4A", "FUS",
}  # fmt: skip


def _summary(res: dict, expected: set[str], wall: float, cpu: float) -> dict:
    nt, seg = res["neuron_table"], res["segment_table"]
    matched = seg[seg["best_match"] != ""]
    per_neuron = Counter()
    for _neuron, grp in matched.groupby("neuron"):
        for name in set(grp["best_match"]):
            per_neuron[name] += 1
    exp = matched[matched["best_match"].isin(expected)].sort_values("best_q")
    it = res["interaction_table"]
    return {
        "n_neurons": len(nt),
        "n_neurons_with_segments": int((nt["n_segments"] > 0).sum()),
        "n_neurons_with_match": int((nt["n_matched_segments"] > 0).sum()),
        "top_hits": per_neuron.most_common(10),
        "expected_neurons": sorted(set(exp["neuron"])),
        "expected_best": [
            {"neuron": r.neuron, "segment": r.consensus, "match": r.best_match, "q": float(f"{r.best_q:.3g}")}
            for r in exp.head(5).itertuples()
        ],
        "pairs_tested": len(it),
        "pairs_synergistic": int((it["call"] == "synergistic").sum()) if len(it) else 0,
        "top_grammar": [
            {"a": r.name_a, "b": r.name_b, "gap": int(r.distance), "n": int(r.count)}
            for r in res["grammar_summary"].sort_values("count", ascending=False).head(5).itertuples()
        ],
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "stages_s": {k: v for k, v in res["metrics"].items() if k.endswith("_s")},
    }


def _interpret(bundle, seqs, out: Path, db, seed: int) -> tuple[dict, float, float]:
    from components.motifs.deep import interpret_layer

    t0, c0 = time.perf_counter(), time.process_time()
    res = interpret_layer(bundle, seqs, None, out, layer=2, motif_db=db, seed=seed)
    return res, time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["pum2", "utr3"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--utr-epochs", type=int, default=4)
    ap.add_argument(
        "--utr-train", type=int, default=0, help="train the UTR model on this many sequences (0: all)"
    )
    ap.add_argument("--utr-n", type=int, default=0, help="interpret this many UTR test sequences (0: all)")
    ap.add_argument("--out", default=None, help="keep the output folders here (default: a temp folder)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--shared", default=str(SHARED), help="the shared data folder (pysster_rbp_clip, utr3_...)"
    )
    args = ap.parse_args()
    shared = Path(args.shared)

    import numba
    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

    from components.motifs.tomtom import load_motif_db
    from components.seqmodels.alphabet import DNA
    from components.seqmodels.data import SequenceData, load_data, split_data
    from components.seqmodels.networks import CNN_GRU_DEFAULTS
    from components.seqmodels.pipeline import evaluate, train_model

    db = load_motif_db("attract")
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="deep-motifs-"))
    out: dict = {"benchmark": "deep_motifs", "threads": args.threads, "layer": 2, "db": "ATtRACT (1,194)"}
    if "pum2" in args.models:
        d = shared / "pysster_rbp_clip"
        train, alph = load_data(
            [f"pos={d / 'pum2.train.positive.fasta.gz'}", f"neg={d / 'pum2.train.negative.fasta.gz'}"]
        )
        test, _ = load_data(
            [f"pos={d / 'pum2.test.positive.fasta.gz'}", f"neg={d / 'pum2.test.negative.fasta.gz'}"],
            alphabet=alph,
        )
        tr, va = split_data(train, (0.9,), args.seed)
        params = {
            "conv_num": 3,
            "kernel_num": [64, 32, 32],
            "kernel_len": [8, 5, 5],
            "pool_size": 2,
            "max_epochs": args.epochs,
            "patience": 2,
        }
        t0 = time.perf_counter()
        bundle, fit = train_model(tr, va, alph, params=params, length=200, seed=args.seed)
        metrics, _ = evaluate(bundle, test)
        res, wall, cpu = _interpret(bundle, test.sequences, root / "pum2_conv2", db, args.seed)
        out["pum2"] = {
            "model": "cnn 3 conv layers (64/32/32 x 8/5/5 nt, pool 2)",
            "train_s": round(time.perf_counter() - t0 - wall, 1),
            "epochs": fit.epochs_run,
            "test_roc_auc": round(metrics["roc_auc"], 4),
            "n_sequences": len(test.sequences),
            "receptive_field": res["metrics"]["receptive_field"],
            **_summary(res, {"PUM1", "PUM2"}, wall, cpu),
            "target_s": 600,
        }
        print(f"[deep_motifs] pum2: {json.dumps(out['pum2'])}", file=sys.stderr, flush=True)
    if "utr3" in args.models:
        df = pd.read_csv(
            shared / "utr3_stability_mpra_siegel2022" / "siegel2022_3utr_stability.tsv.gz", sep="\t"
        )
        df = df.dropna(subset=["stability_jurkat"])
        seqs = [s.upper() for s in df["seq"]]
        y = df[["stability_jurkat"]].to_numpy(np.float32)
        data = SequenceData(
            seqs, [f"row {i + 1}" for i in range(len(seqs))], y, "regression", ["stability_jurkat"]
        )
        tr, va, te = split_data(data, (0.8, 0.1), args.seed)
        if args.utr_train:
            tr = tr.subset(np.random.default_rng(args.seed).permutation(len(tr))[: args.utr_train])
        params = {
            **CNN_GRU_DEFAULTS,
            "lr": 2e-3,
            "weight_decay": 1e-2,
            "batch_size": 128,
            "scheduler": "onecycle",
            "max_epochs": args.utr_epochs,
            "patience": 10,
        }
        t0 = time.perf_counter()
        bundle, fit = train_model(
            tr,
            va,
            DNA,
            arch="cnn_gru",
            params=params,
            length=161,
            policy="pad=right,crop=right",
            seed=args.seed,
        )
        metrics, _ = evaluate(bundle, te)
        interp = te.sequences[: args.utr_n] if args.utr_n else te.sequences
        res, wall, cpu = _interpret(bundle, interp, root / "utr3_conv2", db, args.seed)
        out["utr3"] = {
            "model": f"cnn_gru (component defaults, {CNN_GRU_DEFAULTS['kernel_num']} kernels), {args.utr_epochs} epochs",
            "train_s": round(time.perf_counter() - t0 - wall, 1),
            "n_train": len(tr),
            "test_pearson": round(metrics["pearson"], 4),
            "n_sequences": len(interp),
            "receptive_field": res["metrics"]["receptive_field"],
            **_summary(res, UTR_KNOWN, wall, cpu),
        }
        print(f"[deep_motifs] utr3: {json.dumps(out['utr3'])}", file=sys.stderr, flush=True)
    out["out_dir"] = str(root)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
