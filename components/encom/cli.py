"""File-in/file-out entry point shared by ``dynamotif signatures`` and ``python -m components.encom``."""

from __future__ import annotations

import argparse
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.common.errors import InputError
from components.common.io import write_json
from components.encom.params import DEFAULT_BETAS, DEFAULT_PARAMS, PARAMETER_SETS

__all__ = ["parse_betas", "run_signatures", "build_parser", "main"]


def parse_betas(text: str | None) -> list[float]:
    """``"0.0498,1,20.09"`` -> floats; None or ``"default"`` -> the 13 DynaSig-ML betas."""
    if text is None or text.strip().lower() in ("", "default"):
        return list(DEFAULT_BETAS)
    out = []
    for tok in text.split(","):
        tok = tok.strip()
        try:
            out.append(float(tok))
        except ValueError:
            raise InputError(f"--beta: {tok!r} is not a number (expected a comma-separated list)") from None
    return out


def run_signatures(
    structures: Sequence[str | Path],
    out: str | Path,
    *,
    betas: Sequence[float] | None = None,
    msf: bool = False,
    jobs: int = 1,
    params: str = DEFAULT_PARAMS,
    skip_unknown: bool = False,
    chunk_dir: str | Path | None = None,
    chunk_size: int = 64,
    progress: bool = True,
    skip_failed: bool = False,
) -> dict[str, Any]:
    """Compute signatures of ``structures`` and write the long table ``out`` (Parquet or CSV by extension).

    Chunks go to ``chunk_dir`` (default: a hidden ``.<out name>.chunks`` folder beside ``out``, removed
    after success), so an interrupted run resumes where it stopped. ``<out>.params.json`` records the
    parameter set, the betas and the inputs. With ``skip_failed`` a structure that cannot be computed is
    left out with a warning and listed under ``failed`` (name -> reason) in the summary.
    """
    from components.common.io import table_kind
    from components.encom.batch import compute_signatures_batch, concatenate_chunks
    from components.encom.runtime import tune_allocator

    tune_allocator()
    out = Path(out)
    table_kind(out)  # fail early on an unknown extension
    if not structures:
        raise InputError("no structure files given")
    if params not in PARAMETER_SETS:
        raise InputError(f"unknown --params {params!r}; known sets: {', '.join(PARAMETER_SETS)}")
    beta_list = list(DEFAULT_BETAS) if betas is None else list(betas)
    keep_chunks = chunk_dir is not None
    cdir = Path(chunk_dir) if chunk_dir is not None else out.parent / f".{out.name}.chunks"
    paths = [Path(s) for s in structures]
    frame = compute_signatures_batch(
        paths,
        beta_list,
        msf=msf,
        params=params,
        jobs=jobs,
        out=cdir,
        chunk_size=chunk_size,
        progress=progress,
        skip_unknown=skip_unknown,
        collect=False,
        skip_failed=skip_failed,
    )
    concatenate_chunks(cdir, out)
    settings = json.loads((cdir / "manifest.json").read_text())
    summary = {
        **settings,
        "n_structures": len(paths) - len(frame.attrs["failed"]),
        "structures": [p.name for p in paths if p.name not in frame.attrs["failed"]],
        "failed": frame.attrs["failed"],
        "output": out.name,
    }
    write_json(summary, out.with_name(out.name + ".params.json"))
    if not keep_chunks:
        shutil.rmtree(cdir, ignore_errors=True)
    return summary


def build_parser() -> argparse.ArgumentParser:
    from components.common.cli import add_common_flags

    parser = argparse.ArgumentParser(
        prog="python -m components.encom",
        description="ENCoM dynamical signatures (NRGTEN 1.2.9 equivalent) of PDB/mmCIF structures.",
    )
    parser.add_argument("structures", nargs="+", help="PDB or mmCIF files")
    parser.add_argument("--out", required=True, help="output table (.parquet, .csv, .tsv, .csv.gz)")
    parser.add_argument("--beta", default=None, help="comma-separated betas (default: e^(k/2), k=-6..6)")
    parser.add_argument("--msf", action="store_true", help="also write the MSF b-factors (beta empty)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--params", default=DEFAULT_PARAMS, choices=sorted(PARAMETER_SETS))
    parser.add_argument("--skip-unknown", action="store_true", help="drop residues with unknown names")
    parser.add_argument(
        "--skip-failed", action="store_true", help="leave out (and name) structures that cannot be computed"
    )
    parser.add_argument("--chunk-dir", default=None, help="keep resumable chunks in this folder")
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--no-progress", action="store_true")
    add_common_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from components.common.cli import run_main

    def body(args: argparse.Namespace) -> int:
        summary = run_signatures(
            args.structures,
            args.out,
            betas=parse_betas(args.beta),
            msf=args.msf,
            jobs=args.jobs,
            params=args.params,
            skip_unknown=args.skip_unknown,
            chunk_dir=args.chunk_dir,
            chunk_size=args.chunk_size,
            progress=not args.no_progress,
            skip_failed=args.skip_failed,
        )
        print(f"wrote signatures of {summary['n_structures']} structure(s) to {args.out}")
        return 0

    return run_main(build_parser(), body, argv)
