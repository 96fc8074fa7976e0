"""``python -m components.mutation``: WT structure + variants table -> one PDB per variant.

Outputs in ``--out-dir`` (written atomically: all or nothing): ``<wt-stem>_<name>.pdb`` per variant
(DynaSig-ML naming, e.g. ``mir125a_A12C_C74A.pdb``; a ``_WT`` suffix of the stem is dropped, so
``mir125a_WT.pdb`` gives ``mir125a_A12C.pdb`` and the empty variant ``mir125a_WT.pdb``), ``params.json``, ``metrics.json`` and, with
``--skip-invalid``, ``rejected.csv`` (row, variant, reason).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.common.cli import add_common_flags, run_main
from components.common.errors import InputError
from components.common.io import atomic_dir, read_table, write_json

__all__ = ["run_mutate", "build_parser", "main"]


def _variant_column(df: Any, column: str | None, path: Path) -> str:
    if column is not None:
        if column not in df.columns:
            raise InputError(
                f"no column {column!r}; columns are {', '.join(map(str, df.columns))}", file=path
            )
        return column
    for name in ("variant", "mutations", "variants", "mutation"):
        if name in df.columns:
            return name
    raise InputError(
        f"no variant column (looked for 'variant', 'mutations'); use --column; columns are "
        f"{', '.join(map(str, df.columns))}",
        file=path,
    )


def run_mutate(
    structure: str | Path,
    variants: str | Path,
    out_dir: str | Path,
    *,
    column: str | None = None,
    skip_invalid: bool = False,
) -> dict[str, Any]:
    """Validate every variant, then write one PDB per variant into ``out_dir`` atomically.

    Raises
    ------
    InputError
        Listing every bad row (row, variant, reason) unless ``skip_invalid``; nothing is written.
    """
    import pandas as pd

    from components.mutation.core import Mutator, format_rejections, rejections_frame
    from components.mutation.io import load_structure, write_pdb

    t0 = time.perf_counter()
    structure, variants, out_dir = Path(structure), Path(variants), Path(out_dir)
    wt = load_structure(structure)
    df = read_table(variants)
    col = _variant_column(df, column, variants)
    texts = [None if pd.isna(v) else str(v) for v in df[col].tolist()]
    mutator = Mutator(wt)
    good, rejected = mutator.validate(texts)
    if rejected and not skip_invalid:
        raise InputError(format_rejections(rejected), file=variants)
    stem = structure.name.split(".")[0]
    if stem.upper().endswith("_WT"):  # mir125a_WT.pdb -> mir125a_A12C.pdb, as in DynaSig-ML
        stem = stem[:-3]
    with atomic_dir(out_dir) as tmp:
        for v in good:
            write_pdb(mutator.build(v.mutations), tmp / f"{stem}_{v.name}.pdb")
        if skip_invalid:
            rejections_frame(rejected).to_csv(tmp / "rejected.csv", index=False)
        metrics = {
            "n_rows": len(texts),
            "n_written": len(good),
            "n_rejected": len(rejected),
            "seconds": round(time.perf_counter() - t0, 3),
        }
        write_json(
            {
                "structure": str(structure),
                "variants": str(variants),
                "column": col,
                "skip_invalid": skip_invalid,
            },
            tmp / "params.json",
        )
        write_json(metrics, tmp / "metrics.json")
    return metrics


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m components.mutation",
        description="Build one PDB per variant from a wild-type structure (RNA/DNA base exchange, "
        "protein side-chain replacement).",
    )
    p.add_argument("--structure", required=True, type=Path, help="wild-type PDB or mmCIF")
    p.add_argument("--variants", required=True, type=Path, help="CSV/TSV/Parquet table of variants")
    p.add_argument("--column", default=None, help="variant column (default: 'variant', else 'mutations')")
    p.add_argument("--out-dir", required=True, type=Path, help="output folder")
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="write the valid variants and rejected.csv instead of failing",
    )
    add_common_flags(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    def body(args: argparse.Namespace) -> int:
        m = run_mutate(
            args.structure, args.variants, args.out_dir, column=args.column, skip_invalid=args.skip_invalid
        )
        print(f"wrote {m['n_written']} variant(s) to {args.out_dir} ({m['n_rejected']} rejected)")
        return 0

    return run_main(build_parser(), body, argv)
