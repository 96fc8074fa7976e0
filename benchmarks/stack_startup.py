"""Start-up time of the stack the CI tests use (``tests/stack``): PostgreSQL (``initdb`` of a fresh
cluster), MLflow and Prefect servers on it and a Prefect process worker, all on 127.0.0.1.

    PYTHONPATH=. .venv/bin/python benchmarks/stack_startup.py [--repeat 2] [--no-worker]

Prints ONE JSON line: seconds to each service ready (from the start), per repeat, and the median total.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.stack.services import running_stack  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--no-worker", action="store_true", help="servers only")
    args = ap.parse_args(argv)
    runs = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="stack-startup-") as tmp:
            with running_stack(Path(tmp), worker=not args.no_worker) as stack:
                runs.append({k: round(v, 2) for k, v in stack.timings.items()})
    print(
        json.dumps(
            {
                "benchmark": "stack_startup",
                "runs": runs,
                "median_startup_s": round(statistics.median(r["startup_s"] for r in runs), 2),
                "cpus": os.cpu_count(),
                "loadavg_1min": round(os.getloadavg()[0], 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
