"""ENCoM speed: our engine vs NRGTEN 1.2.9 side by side, then a 2-core batch of miR-125a variants.

Prints ONE JSON line. Needs ``../shared/data/mir125a`` and, for the side-by-side part, a separate Python
environment with ``nrgten==1.2.9`` and ``pyvcon==1.0.2`` (default: ``../oracle-venv/bin/python``; override
with ``--oracle-python`` or ``ENCOM_ORACLE_PYTHON``; ``--no-nrgten`` skips it).

1. Side by side, one core each (BLAS/OpenMP limited to one thread, process pinned to one CPU): for
   ``--n-side`` structures of ``variants_sample/``, the time to go from the PDB file to the 13 entropic
   signatures (NRGTEN: ``ENCoM(pdb)`` + 13 ``compute_bfactors_boltzmann``; ours: ``compute_signatures``).
   One untimed warm-up structure each. Reports both medians, the ratio and the max relative difference
   of the signatures (parity check on these structures).
2. Batch: ``--n-batch`` variants on ``--jobs`` processes through ``compute_signatures_batch`` (chunked
   Parquet output in a temporary folder). Variants are built in memory by the mutation component from
   ``variants.csv`` (``--source mutate``, the default when it is importable) or taken from the 300 sample
   files, repeated (``--source files``). Reports the rate, the projected time for 29,477 variants and the
   peak RSS of the whole process tree (sampled every 0.1 s).

``--quick`` runs a small version (8 side-by-side structures, 200 batch variants).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "mir125a"
N_ALL_VARIANTS = 29_477

_NRGTEN_SCRIPT = r"""
import json, sys, time, warnings
import numpy as np
from nrgten.encom import ENCoM
warnings.simplefilter("ignore")
files, out = json.loads(sys.argv[1]), sys.argv[2]
betas = [np.e ** (k / 2) for k in range(-6, 7)]
times, sigs = [], []
for k, f in enumerate(files):
    t = time.perf_counter()
    enc = ENCoM(f)
    s = [enc.compute_bfactors_boltzmann(beta=b) for b in betas]
    dt = time.perf_counter() - t
    if k:
        times.append(dt)
        sigs.append(np.array(s))
np.save(out, np.array(sigs))
print(json.dumps(times))
"""

_OURS_SCRIPT = r"""
import json, sys, time
import numpy as np
from components.encom import compute_signatures
from components.encom.runtime import tune_allocator
tune_allocator()  # as in the batch workers
files, out = json.loads(sys.argv[1]), sys.argv[2]
times, sigs, steps = [], [], []
for k, f in enumerate(files):
    t = time.perf_counter()
    r = compute_signatures(f)
    dt = time.perf_counter() - t
    if k:
        times.append(dt)
        sigs.append(r.entropic)
        steps.append(r.timings)
np.save(out, np.array(sigs))
print(json.dumps({"times": times, "steps": {k: float(np.median([s[k] for s in steps])) for k in steps[0]}}))
"""


def _one_core_env() -> dict[str, str]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[var] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def _pinned(cmd: list[str]) -> list[str]:
    """Pin to one CPU with taskset when available (both engines get the same treatment)."""
    from shutil import which

    if which("taskset") and hasattr(os, "sched_getaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        return ["taskset", "-c", str(cpu), *cmd]
    return cmd


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(_pinned(cmd), capture_output=True, text=True, env=_one_core_env(), cwd=cwd)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed: {' '.join(cmd[:2])}\n{proc.stderr[-3000:]}")
    return proc.stdout.strip().splitlines()[-1]


def side_by_side(n: int, oracle_python: str | None) -> dict:
    import numpy as np

    files = sorted((DATA / "variants_sample").glob("*.pdb"))
    step = max(1, len(files) // (n + 1))
    chosen = [str(f) for f in files[::step][: n + 1]]  # +1 warm-up
    with tempfile.TemporaryDirectory() as tmp:
        ours = json.loads(
            _run([sys.executable, "-c", _OURS_SCRIPT, json.dumps(chosen), f"{tmp}/ours.npy"], cwd=REPO)
        )
        out = {
            "n_side_by_side": n,
            "ours_median_s": float(np.median(ours["times"])),
            "ours_step_median_ms": {k: round(v * 1e3, 2) for k, v in ours["steps"].items()},
        }
        if oracle_python:
            ref_times = json.loads(
                _run([oracle_python, "-c", _NRGTEN_SCRIPT, json.dumps(chosen), f"{tmp}/ref.npy"])
            )
            a, b = np.load(f"{tmp}/ours.npy"), np.load(f"{tmp}/ref.npy")
            atol = 1e-12 * np.abs(b).max(axis=2, keepdims=True)
            err = np.abs(a - b)
            rel = np.where(err <= atol, 0.0, err / np.maximum(np.abs(b), 1e-300))
            out.update(
                nrgten_median_s=float(np.median(ref_times)),
                speedup=float(np.median(ref_times) / np.median(ours["times"])),
                parity_max_rel_err=float(rel.max()),
            )
    return out


class _PeakRss:
    """Peak of the summed RSS and PSS of this process and all its children, sampled in a thread.

    RSS counts pages shared by forked workers once per process (an upper bound); PSS splits them.
    """

    def __init__(self, interval: float = 0.2):
        import psutil

        self.proc, self.interval, self.peak, self.peak_pss = psutil.Process(), interval, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = pss = 0
            try:
                for p in [self.proc, *self.proc.children(recursive=True)]:
                    try:
                        full = p.memory_full_info()
                        total += full.rss
                        pss += getattr(full, "pss", full.rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _variant_items(n: int, source: str):
    import itertools

    if source == "mutate":
        import pandas as pd

        from components.encom import read_structure
        from components.mutation import mutate_many

        table = pd.read_csv(DATA / "variants.csv", usecols=["file_id", "mutations"])
        table = table[table["mutations"].fillna("").str.len() > 0].head(n)
        wt = read_structure(DATA / "mir125a_WT.pdb")
        return mutate_many(wt, table["mutations"].tolist()), len(table)
    files = sorted((DATA / "variants_sample").glob("*.pdb"))
    items = ((f"{k:05d}_{f.name}", f) for k, f in enumerate(itertools.islice(itertools.cycle(files), n)))
    return items, n


def batch(n: int, jobs: int, source: str) -> dict:
    from components.encom import compute_signatures_batch

    items, count = _variant_items(n, source)
    with tempfile.TemporaryDirectory() as tmp, _PeakRss() as mem:
        t = time.perf_counter()
        compute_signatures_batch(
            items, jobs=jobs, out=Path(tmp) / "chunks", chunk_size=50, progress=False, collect=False
        )
        wall = time.perf_counter() - t
    rate = count / wall
    return {
        "batch_source": source,
        "batch_n": count,
        "batch_jobs": jobs,
        "batch_wall_s": round(wall, 2),
        "batch_rate_per_s": round(rate, 3),
        "projected_29477_min": round(N_ALL_VARIANTS / rate / 60, 2),
        "peak_rss_sum_mb": round(mem.peak / 2**20, 1),
        "peak_pss_sum_mb": round(mem.peak_pss / 2**20, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="8 side-by-side structures, 200 batch variants")
    parser.add_argument("--n-side", type=int, default=30)
    parser.add_argument("--n-batch", type=int, default=2000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--source", choices=["mutate", "files"], default=None)
    parser.add_argument("--oracle-python", default=os.environ.get("ENCOM_ORACLE_PYTHON"))
    parser.add_argument("--no-nrgten", action="store_true")
    parser.add_argument("--no-batch", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs the shared miR-125a data at {DATA}")
    n_side, n_batch = (8, 200) if args.quick else (args.n_side, args.n_batch)
    oracle = (
        None
        if args.no_nrgten
        else (args.oracle_python or str(REPO.parent / "oracle-venv" / "bin" / "python"))
    )
    if oracle and not Path(oracle).exists():
        raise SystemExit(f"no NRGTEN environment at {oracle} (use --oracle-python or --no-nrgten)")
    source = args.source
    if source is None:
        try:
            import components.mutation  # noqa: F401

            source = "mutate"
        except ImportError:
            source = "files"
    result: dict = {
        "benchmark": "encom_speed",
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    result.update(side_by_side(n_side, oracle))
    if not args.no_batch:
        result.update(batch(n_batch, args.jobs, source))
    result["loadavg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
