"""Throughput of the DynaSig flow's signature step on a protein: mutation + ENCoM on every core.

All 19 substitutions at ``--positions`` residues (evenly spaced along the chain, default 60: 1,140
mutants) of ``../shared/data/nrgten_test_structures/closed_clean.pdb`` are mutated and signed through
the flow's own code path: :func:`components.dynasig_ml.run.load_inputs` (variants checked against the
structure) -> :func:`~components.dynasig_ml.run.plan_signatures` (content-keyed chunks, in a fresh cache)
-> :func:`components.dynasig_ml.signature_cache.compute_signature_chunks` on ``--jobs`` processes,
which is what the flow's ``signatures`` task runs under the default ``pool`` runner.

Then, in the same run and on the same number of processes, the eigendecomposition-only rate of the same
mutant structures: each worker rebuilds the mutant's Hessian (not timed) and times only the
eigendecomposition; the rate is ``n / (sum of eig seconds / jobs)``, the ceiling that the eigensolver
alone puts on the throughput. ``--threads`` also times the same chunks on a thread pool (the flow's
``threads`` runner) for comparison.

Prints one JSON line: variants/s, the share of worker time per stage (mutation, ENCoM matrix build with
contact areas alone beside it, eigendecomposition, rest = signatures from modes, chunk I/O, process
start and idle), CPU utilisation (CPU time of the process and its workers / wall / jobs), the
eigendecomposition-only rate and the ratio of the two (target >= 0.70), and the same ratio in CPU
seconds per variant (``cpu_ratio_to_eig_only``: robust to other load on the machine, which slows the
two phases unequally and leaves the processes a fraction of the cores). Usage::

    python benchmarks/protein_throughput.py [--positions 60] [--jobs 2] [--threads]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("DYNAMOTIF_SHARED_DATA", REPO.parent / "shared" / "data"))
STRUCTURE = SHARED / "nrgten_test_structures" / "closed_clean.pdb"
AMINO_ACIDS = "ACDEFGHIKLMNPQRSTVWY"


def substitutions(structure: Path, n_positions: int) -> list[str]:
    """All 19 substitutions at ``n_positions`` residues spread evenly along the chain (deterministic)."""
    import biotite.structure as bs
    import numpy as np
    from biotite.sequence import ProteinSequence

    from components.encom.structure import read_structure

    atoms = read_structure(structure)
    res_ids, res_names = bs.get_residues(atoms)
    residues = [
        (int(i), ProteinSequence.convert_letter_3to1(n))
        for i, n in zip(res_ids, res_names, strict=True)
        if n in {ProteinSequence.convert_letter_1to3(a) for a in AMINO_ACIDS}
    ]
    picks = np.unique(np.linspace(0, len(residues) - 1, min(n_positions, len(residues))).round().astype(int))
    return [f"{wt}{num}{aa}" for num, wt in (residues[k] for k in picks) for aa in AMINO_ACIDS if aa != wt]


def eig_seconds(wt: str, variants: tuple[str, ...], params: str) -> tuple[int, float, float]:
    """Wall and CPU seconds of the eigendecomposition alone over the mutants ``variants`` (Hessians
    built untimed)."""
    from components.encom.engine import hessian_of, prepare_beads
    from components.encom.modes import limit_blas, normal_modes
    from components.encom.params import resolve_params
    from components.encom.structure import read_structure
    from components.mutation import mutate_many

    p = resolve_params(params)
    total = cpu = 0.0
    for name, mutant in mutate_many(read_structure(wt), list(variants)):
        hess, _ = hessian_of(prepare_beads(mutant, p, name=name), p)
        with limit_blas(1):
            t0, c0 = time.perf_counter(), time.process_time()
            normal_modes(hess)
            total += time.perf_counter() - t0
            cpu += time.process_time() - c0
    return len(variants), total, cpu


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--positions", type=int, default=60, help="Residues mutated (19 substitutions each).")
    p.add_argument("--jobs", type=int, default=2, help="Worker processes (cores used).")
    p.add_argument("--chunk-size", type=int, default=None, help="Variants per chunk (default: the flow's).")
    p.add_argument("--structure", type=Path, default=STRUCTURE)
    p.add_argument("--threads", action="store_true", help="Also time the thread runner on the same chunks.")
    args = p.parse_args()
    import pandas as pd

    from components.dynasig_ml import run as steps
    from components.dynasig_ml.config import DynasigConfig
    from components.dynasig_ml.signature_cache import compute_chunk, compute_signature_chunks
    from components.encom.modes import limit_blas

    variants = substitutions(args.structure, args.positions)
    work = Path(tempfile.mkdtemp(prefix="protein-throughput-"))
    table = pd.DataFrame({"variant": variants, "score": range(len(variants))})
    table.to_csv(work / "variants.csv", index=False)
    options = {"chunk_size": args.chunk_size} if args.chunk_size else {}
    config = DynasigConfig(
        structure=args.structure,
        variants=work / "variants.csv",
        target="score",
        work_dir=work / "run",
        **options,
    )
    inputs = steps.load_inputs(config)
    chunks = steps.plan_signatures(inputs)
    _sigs, st = compute_signature_chunks(chunks, jobs=args.jobs, progress=True)
    n, wall, jobs = int(st["n_computed"]), st["wall_s"], int(st["jobs"])

    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        done = list(
            pool.map(eig_seconds, *zip(*[(str(c.wt), c.variants, c.params) for c in chunks], strict=True))
        )
    eig_phase_s = time.perf_counter() - t0
    eig_total = sum(s for _, s, _ in done)
    eig_cpu = sum(c for _, _, c in done)
    eig_rate = n / (eig_total / jobs)

    worker_s = wall * jobs
    shares = {
        "mutation": st["mutation_cpu_s"] / worker_s,
        "encom_matrix": st["matrix_cpu_s"] / worker_s,
        "eig": st["eigh_cpu_s"] / worker_s,
    }
    shares["rest"] = 1.0 - sum(shares.values())
    shares["contacts_within_matrix"] = st["contacts_cpu_s"] / worker_s
    out = {
        "structure": args.structure.name,
        "positions": len(variants) // 19,
        "variants": n,
        "jobs": jobs,
        "cores_on_machine": os.cpu_count(),
        "chunk_size": config.chunk_size,
        "wall_s": round(wall, 2),
        "variants_per_s": round(n / wall, 3),
        "stage_share": {k: round(v, 3) for k, v in shares.items()},
        "cpu_utilisation": round(st["cpu_s"] / wall / jobs, 3),
        "eig_only_variants_per_s": round(eig_rate, 3),
        "eig_only_mean_s": round(eig_total / n, 4),
        "eig_only_phase_wall_s": round(eig_phase_s, 2),
        "ratio_to_eig_only": round(n / wall / eig_rate, 3),
        "target_ratio>=0.70": n / wall / eig_rate >= 0.70,
        # the same ratio in CPU seconds per variant: what it would be with every core given to the run
        "cpu_s_per_variant": round(st["cpu_s"] / n, 4),
        "eig_only_cpu_s_per_variant": round(eig_cpu / n, 4),
        "cpu_ratio_to_eig_only": round(eig_cpu / st["cpu_s"], 3),
    }
    if args.threads:
        cold = steps.plan_signatures(steps.load_inputs(replace(config, work_dir=work / "threads")))
        t0 = time.perf_counter()
        with limit_blas(1), ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(compute_chunk, cold))
        t_wall = time.perf_counter() - t0
        out["threads_variants_per_s"] = round(n / t_wall, 3)
        out["pool_over_threads"] = round(t_wall / wall, 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
