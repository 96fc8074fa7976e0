"""``stack-check``: a small flow that proves a deployment is wired end to end.

Run through any work pool (``prefect.yaml``: ``stack-check-process`` / ``stack-check-docker``), it
records where it ran (image, user, versions) in a parent MLflow run tagged with the Prefect
flow-run id and, given a structure's PDB text, computes its ENCoM signatures inside the worker
(the container, for the docker pool) and logs them as ``signatures.json``. ``make container-test``
compares that artifact with the in-process result.
"""

from __future__ import annotations

import os
import platform
import socket
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

from prefect import flow, task

from flows import tracking

__all__ = ["stack_check"]


@task(name="signatures")
def signatures_from_pdb_text(pdb_text: str, name: str) -> dict[str, Any]:
    """ENCoM entropic signatures (all default betas) and MSF of one structure given as PDB text."""
    from components.encom import compute_signatures

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.pdb"
        path.write_text(pdb_text)
        res = compute_signatures(path, msf=True)
    return {
        "structure": name,
        "params": res.params,
        "labels": list(res.labels),
        "betas": res.betas.tolist(),
        "entropic": res.entropic.tolist(),
        "msf": None if res.msf is None else res.msf.tolist(),
    }


@flow(name="stack-check", log_prints=True)
def stack_check(pdb_text: str | None = None, name: str = "structure") -> dict[str, Any]:
    """Log where this flow run executes and, optionally, one structure's signatures to MLflow."""
    where = {
        "host": socket.gethostname(),
        "uid": str(os.getuid()),
        "python": platform.python_version(),
        "mlflow": version("mlflow"),
        "prefect": version("prefect"),
        "in_container": str(Path("/run/.containerenv").exists() or Path("/.dockerenv").exists()).lower(),
    }
    with tracking.parent_run("stack-check", params={"structure": name if pdb_text else "none"}) as run:
        tracking.set_tags({f"stack.{k}": v for k, v in where.items()})
        if pdb_text:
            sig = signatures_from_pdb_text(pdb_text, name)
            tracking.log_dict(sig, "signatures.json")
            tracking.log_metrics({"n_beads": float(len(sig["labels"]))})
        print(f"stack-check: MLflow run {run.info.run_id} at {tracking.tracking_uri()} ({where})")
        return {"run_id": run.info.run_id, **where}


if __name__ == "__main__":
    stack_check()
