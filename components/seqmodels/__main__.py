"""``python -m components.seqmodels``: train one model from files into ``--out-dir`` (no MLflow).

Outputs: ``bundle/`` (weights.pt + bundle.json), ``predictions.parquet`` (test set),
``history.csv``, ``roc_pr.png`` or ``scatter.png``, ``params.json``, ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from components.common.cli import add_common_flags, run_main


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m components.seqmodels", description=__doc__.splitlines()[0])
    p.add_argument(
        "--data", nargs="+", required=True, help="FASTA per class (NAME=FILE), multi-label FASTA or table(s)"
    )
    p.add_argument("--test", nargs="+", default=None, help="test file(s); default: seeded 80/10/10 split")
    p.add_argument("--target", nargs="+", default=[], help="target column(s) of a table")
    p.add_argument(
        "--missing-targets",
        default="error",
        choices=["error", "mask"],
        help="regression tables: NaN targets are an error (default) or masked out of loss and metrics",
    )
    p.add_argument(
        "--task", default="auto", choices=["auto", "binary", "multiclass", "multilabel", "regression"]
    )
    p.add_argument("--arch", default="cnn", choices=["cnn", "cnn_gru"])
    p.add_argument("--fold", action="store_true", help="add ViennaRNA secondary structure")
    p.add_argument("--alphabet", default="auto")
    p.add_argument("--length", type=int, default=None)
    p.add_argument("--policy", default=None, help="pad/crop policy, e.g. pad=right,crop=error")
    p.add_argument("--params", default=None, help="JSON object of network/training parameters")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--ensemble",
        type=int,
        default=1,
        metavar="N",
        help="seed ensemble of N models (seeds seed..seed+N-1, predictions averaged; default 1)",
    )
    p.add_argument("--cache-dir", default="default")
    p.add_argument("--out-dir", required=True, type=Path)
    add_common_flags(p)
    return p


def _body(args: argparse.Namespace) -> int:
    import pandas as pd

    from components.common.dedup import warn_shared
    from components.common.errors import InputError
    from components.common.io import atomic_dir, write_json, write_table
    from components.seqmodels.bundle import save_bundle
    from components.seqmodels.data import load_data, split_data
    from components.seqmodels.pipeline import evaluate, input_length, prepare_structures, train_model
    from components.seqmodels.plots import curves_figure, evaluation_figures

    try:
        params = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"--params is not valid JSON: {exc.msg}") from exc
    if args.epochs:
        params["max_epochs"] = args.epochs
    if args.ensemble < 1:
        raise InputError(f"--ensemble must be >= 1, got {args.ensemble}")
    if args.ensemble > 1:
        params["ensemble"] = args.ensemble
    data, alph = load_data(
        args.data,
        targets=args.target,
        task=args.task,
        alphabet=args.alphabet,
        missing_targets=args.missing_targets,
    )
    if args.test:
        test, _ = load_data(
            args.test,
            targets=args.target,
            task=data.task,
            alphabet=alph,
            missing_targets=args.missing_targets,
        )
        warn_shared(data.sequences, test.sequences, source=", ".join(map(str, args.test)))
        train, val = split_data(data, (0.9,), args.seed)
    else:
        train, val, test = split_data(data, (0.8, 0.1), args.seed)
    if args.fold:
        train, val, test = prepare_structures([train, val, test], alph, cache_dir=args.cache_dir)
    bundle, result = train_model(
        train,
        val,
        alph,
        arch=args.arch,
        params=params,
        length=input_length([train, val], args.length),
        policy=args.policy,
        uses_structure=args.fold,
        seed=args.seed,
    )
    metrics, pred = evaluate(bundle, test)
    with atomic_dir(args.out_dir) as out:
        save_bundle(bundle, out / "bundle")
        df = pd.DataFrame(pred, columns=[f"pred_{n}" for n in bundle.output_names])
        df.insert(0, "sequence", test.sequences)
        write_table(df, out / "predictions.parquet")
        write_table(pd.DataFrame(result.history), out / "history.csv")
        for name, fig in {
            **evaluation_figures(bundle.task, test.y, pred, bundle.output_names),
            "curves.png": curves_figure(result.history),
        }.items():
            fig.savefig(out / name, dpi=100)
        write_json(
            {**bundle.params, "arch": args.arch, "fold": args.fold, "seed": args.seed}, out / "params.json"
        )
        write_json(
            {f"test_{k}": v for k, v in metrics.items()}
            | {"train_seconds": result.seconds, "epochs_run": result.epochs_run},
            out / "metrics.json",
        )
    print(json.dumps({f"test_{k}": round(v, 4) for k, v in metrics.items()}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), _body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
