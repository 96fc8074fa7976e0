"""File-in/file-out entry point of the DynaSig-ML track (the ``dynasig_ml`` container's entry point).

``python -m components.dynasig_ml --structure WT.pdb --variants variants.csv --target eff --out-dir OUT``
builds a :class:`~components.dynasig_ml.config.DynasigConfig` (one option per config field; a JSON file
with ``--config``, flags override it) and runs :func:`components.dynasig_ml.run.run`: mutation + ENCoM
signatures (cached in ``OUT/signature_cache``), fitting with selection on validation data, graphs,
coefficient map and the best model's pipeline, all written to ``OUT`` (``summary.json``, ``models.csv``,
``params.json``, ``metrics.json``, ``<model>/*.png``, ``coefficients/``, ``pipeline/``). No Prefect,
no MLflow.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from components.common.cli import add_common_flags, run_main
from components.common.errors import InputError
from components.common.typed_config import add_config_arguments, config_args, read_config_file
from components.dynasig_ml.config import DynasigConfig

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.dynasig_ml",
        description="DynaSig-ML: variants of a WT structure -> ENCoM signatures -> models (files in, files out).",
    )
    add_config_arguments(p, DynasigConfig, skip=("work_dir", "experiment", "register"))
    p.add_argument("--config", type=Path, help="JSON file of options (keys as the flags, e.g. chunk_size).")
    p.add_argument("--out-dir", type=Path, required=True, help="Output folder (also the signature cache).")
    p.add_argument("--jobs", "-j", type=int, default=1, help="Worker processes for signatures.")
    p.add_argument("--no-progress", action="store_true", help="No progress bar.")
    add_common_flags(p)
    return p


def _body(args: argparse.Namespace) -> int:
    from components.dynasig_ml.run import run

    mapping = read_config_file(args.config) if args.config is not None else {}
    mapping.update(config_args(args, DynasigConfig))
    mapping["work_dir"] = args.out_dir
    if args.jobs < 1:
        raise InputError(f"--jobs must be >= 1, got {args.jobs}")
    summary = run(DynasigConfig.from_mapping(mapping), jobs=args.jobs, progress=not args.no_progress)
    print(json.dumps({k: summary[k] for k in ("best", "best_reliable", "n_train", "n_test", "out_dir")}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(build_parser(), _body, argv)
