"""RBP CLIP benchmark (pysster paper): test ROC-AUC / PR-AUC / wall time per protein, sequence-only
and with structure, on the files' fixed train/test split (10% of train held out for early stopping,
as pysster holds out part of train).

Targets: ROC-AUC >= pysster's published values (TAF2N 0.900, PUM2 0.945, QKI 0.966, IGF2BP123 0.836,
SRSF1 0.934); wall time <= pysster's on 2 cores (TAF2N sequence-only 118 s; folding 510 s).

Model: the component's defaults (``CNN_DEFAULTS`` + ``TRAIN_DEFAULTS``, what ``dynamotif sequence``
trains without ``--trials``): pysster's architecture with the paper's 8-nt kernels -- 2 x [Conv1d 8-nt
kernels, ReLU, MaxPool 2, dropout 0.3], input dropout 0.1, flatten, dense 100 + dropout 0.6 --
trained with AdamW (lr 3e-3, weight decay 1e-2, batch 128) on a one-cycle schedule of 15 epochs,
best validation-loss weights restored. ``--params JSON`` overrides any of them.
``--ensemble N`` (default 1) trains the component's seed ensemble (network param ``ensemble``:
members with seeds seed..seed+N-1, each early-stopped on validation, probabilities averaged); an
ensemble is its own row, measured with the same protocol as single models.

Protocol of every row: test sequences that also occur (exactly) in the protein's training files are
removed and counted (``n_test_in_train``; ``--keep-duplicates`` keeps them); the row is trained with
``--seeds N`` seeds (default 3: seed, seed+E, ... for an ensemble of E members, so no member is shared),
each seed drawing its own validation cut (duplicate sequences stay on one side) and its own training;
test ROC-AUC / PR-AUC are reported as mean ± sd over the seeds with the per-seed values, and
``vs_pysster`` is "above" / "below" only when the gap to pysster's value exceeds the sd, else "on par".

Usage: python benchmarks/rbp_clip.py [--quick] [--proteins taf2n pum2 ...] [--modes seq struct]
       [--data DIR] [--params JSON] [--cache-dir DIR] [--threads N] [--ensemble N] [--seeds N]
       [--partial FILE] [--keep-duplicates]
``--quick``: PUM2 only, 400 train / 200 test sequences, 2 epochs (checks the pipeline end to end;
its numbers say nothing about accuracy). Prints ONE JSON line.
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
SHARED = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data"))

PYSSTER = {"taf2n": 0.900, "pum2": 0.945, "qki": 0.966, "igf2bp123": 0.836, "srsf1": 0.934}

QUICK = {"proteins": ["pum2"], "n_train": 400, "n_test": 200, "max_epochs": 2}


def _subsample(data, n: int, seed: int):
    import numpy as np

    if n >= len(data):
        return data
    idx = np.sort(np.random.default_rng(seed).choice(len(data), n, replace=False))
    return data.subset(idx)


def _summarise(row: dict, reference: float) -> None:
    """Mean ± sd of the seeds' test scores and the verdict against pysster (on par within the spread)."""
    from components.common.spread import compare_to_reference, seed_summary

    for metric in ("roc_auc", "pr_auc"):
        row[metric] = seed_summary([r[metric] for r in row["runs"]])
    auc = row["roc_auc"]
    row["vs_pysster"] = (
        compare_to_reference(auc["mean"], auc["sd"], reference) if auc["n"] >= 2 else "one seed: no spread"
    )


def main() -> None:
    from components.common.cli import positive_int

    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(SHARED / "pysster_rbp_clip"))
    ap.add_argument("--proteins", nargs="+", default=None, choices=list(PYSSTER))
    ap.add_argument("--modes", nargs="+", default=["seq", "struct"], choices=["seq", "struct"])
    ap.add_argument("--cache-dir", default=None, help="fold cache (default: a fresh temp dir = cold folding)")
    ap.add_argument("--params", default="{}", help="JSON of model/training parameters (over the defaults)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="tiny end-to-end check (PUM2 slice, 2 epochs)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--ensemble", type=positive_int, default=1, help="seed ensemble of N models (default 1)")
    ap.add_argument(
        "--seeds", type=positive_int, default=3, help="training seeds seed..seed+N-1 per row (default 3)"
    )
    ap.add_argument("--partial", default=None, help="rewrite this JSON file after every seed")
    ap.add_argument(
        "--keep-duplicates", action="store_true", help="keep test sequences that also occur in training"
    )
    args = ap.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    import dataclasses

    import numpy as np

    from components.common.dedup import shared_mask
    from components.common.io import write_json
    from components.seqmodels import run
    from components.seqmodels.config import SequenceConfig
    from components.seqmodels.networks import CNN_DEFAULTS
    from components.seqmodels.training import TRAIN_DEFAULTS

    d = Path(args.data)
    if not d.is_dir():
        sys.exit(f"error: data folder not found: {d}")
    proteins = args.proteins or (QUICK["proteins"] if args.quick else list(PYSSTER))
    cache = args.cache_dir or tempfile.mkdtemp(prefix="rbp-fold-")
    params = {
        **CNN_DEFAULTS,
        **TRAIN_DEFAULTS,
        **({"max_epochs": QUICK["max_epochs"]} if args.quick else {}),
    }
    params.update(json.loads(args.params))
    if args.ensemble > 1:
        params["ensemble"] = args.ensemble
    out: dict = {
        "benchmark": "rbp_clip",
        "quick": args.quick,
        "threads": torch.get_num_threads(),
        "params": params,
        "proteins": {},
    }
    seeds = [args.seed + k * args.ensemble for k in range(args.seeds)]
    out["seeds"] = seeds
    partial = Path(args.partial) if args.partial else None
    for prot in proteins:
        res: dict = {"pysster_roc_auc": PYSSTER[prot]}
        out["proteins"][prot] = res
        for mode in args.modes:
            t0 = time.perf_counter()
            files = {
                part: [
                    f"pos={d / f'{prot}.{part}.positive.fasta.gz'}",
                    f"neg={d / f'{prot}.{part}.negative.fasta.gz'}",
                ]
                for part in ("train", "test")
            }
            cfg = SequenceConfig(
                data=tuple(files["train"]),
                test=tuple(files["test"]),
                fold=mode == "struct",
                length=200,
                params=params,
                seed=args.seed,
                cache_dir=cache,
                motifs=False,
            )
            train, test, alph = run.load_inputs(cfg)
            assert test is not None
            if args.quick:
                train = _subsample(train, QUICK["n_train"], args.seed)
                test = _subsample(test, QUICK["n_test"], args.seed)
            # exact test sequences also in the training files are removed and counted
            seen = shared_mask(train.sequences, test.sequences)
            n_test_files = len(test)
            if not args.keep_duplicates:
                test = test.subset(np.flatnonzero(~seen))
            row: dict = {
                "n_test_files": n_test_files,
                "n_test_in_train": int(seen.sum()),
                "n_test": len(test),
                "runs": [],
            }
            res[mode] = row
            for seed in seeds:  # the seed draws the validation cut and the training
                cfg_seed = dataclasses.replace(cfg, seed=seed)
                splits = run.split(cfg_seed, train, test, alph)
                if cfg.fold:  # folds are cached on disk: only the first seed folds
                    splits = run.fold(splits, cfg_seed)
                    row.setdefault("fold_s", round(splits.fold_stats.get("seconds", 0.0), 1))
                    # how much of that was folding: sequences folded now / read from the fold cache
                    row.setdefault("fold_folded", splits.fold_stats.get("folded"))
                    row.setdefault("fold_cached", splits.fold_stats.get("cached"))
                trained = run.train(
                    splits, cfg_seed, run.final_params(cfg_seed, cfg_seed.fixed_params()), length=200
                )
                bundle, fit = trained.bundle, trained.result
                assert bundle is not None and fit is not None
                metrics = run.evaluate(bundle, splits.test).metrics
                record = {
                    "seed": seed,
                    "roc_auc": round(metrics["roc_auc"], 4),
                    "pr_auc": round(metrics["pr_auc"], 4),
                    "train_s": round(fit.seconds, 1),
                    "epochs": [f.epochs_run for f in fit.members] or fit.epochs_run,
                    "best_epoch": [f.best_epoch for f in fit.members] or fit.best_epoch,
                    "n_train": len(splits.train),
                }
                if fit.members:  # validation ROC-AUC of each member and of the ensemble
                    record["val_roc_auc_members"] = [round(v, 4) for v in bundle.extra["member_val_roc_auc"]]
                    record["val_roc_auc"] = round(bundle.extra["val_roc_auc"], 4)
                row["runs"].append(record)
                _summarise(row, PYSSTER[prot])
                row["wall_s"] = round(time.perf_counter() - t0, 1)
                if partial:
                    write_json(out, partial)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
