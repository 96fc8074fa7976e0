"""The motif-interpretation stage: a Prefect task (called by ``flows/sequence.py``) and the CLI's core.

Numerics live in :func:`components.motifs.interpret_model`; this module only loads the model,
calls it and logs the outputs (MEME, Tomtom table, plots, ``report.html``, tables, metrics) to
MLflow through :mod:`flows.tracking`, under the artifact folder ``motifs/``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import task

from components.common.errors import InputError

__all__ = ["interpret_task", "log_motif_outputs", "load_sequence_bundle", "run_motifs"]

ARTIFACT_DIR = "motifs"


def load_sequence_bundle(model: str | Path) -> tuple[Any, str | None]:
    """A seqmodels bundle from a local bundle folder or an MLflow model URI (``models:/NAME@champion``).

    Returns ``(bundle, run_id)``; ``run_id`` is the MLflow run that logged the model (None for a
    local folder). A model without a sequence-model bundle is one clear error.
    """
    from components.motifs.inputs import find_bundle_dir, load_local_bundle
    from components.seqmodels.bundle import load_bundle

    if Path(str(model)).is_dir():
        return load_local_bundle(model), None
    from flows import tracking

    os.environ.setdefault(
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"
    )  # keep stderr to one line on errors
    uri = tracking.resolve_model_uri(str(model))
    dst = Path(tempfile.mkdtemp(prefix="dynamotif-motifs-model-"))
    root = tracking.download_artifacts(uri, dst)
    found = find_bundle_dir(root)
    if found is None:
        raise InputError(f"{uri} is not a sequence model (no seqmodels bundle among its artifacts)")
    run_id = None
    try:
        run_id = tracking.model_run_id(uri)
    except Exception:  # noqa: BLE001 - logging target only; the interpretation still runs
        run_id = None
    return load_bundle(found), run_id


def log_motif_outputs(result: dict[str, Any], out_dir: str | Path, *, run_id: str | None = None) -> None:
    """Log the whole output folder under ``motifs/`` (and the metrics when a run is active)."""
    from flows import tracking

    tracking.log_artifacts(out_dir, ARTIFACT_DIR, run_id=run_id)
    if run_id is None and tracking.active_run_id() is not None:
        metrics = {f"motifs.{k}": v for k, v in result["metrics"].items() if isinstance(v, (int, float))}
        tracking.log_metrics(metrics)


def _paths(result: dict[str, Any]) -> dict[str, Any]:
    keep = (
        "meme",
        "meme_structure",
        "modisco_meme",
        "tomtom",
        "report",
        "kernels",
        "contribution",
        "interactions",
        "heatmap",
        "params",
        "metrics",
        "attributions",
    )
    out: dict[str, Any] = {k: str(result[k]) for k in keep if k in result and not isinstance(result[k], dict)}
    out["metrics"] = result["metrics"]
    return out


@task(name="motif-interpretation", retries=0)
def interpret_task(
    bundle: Any,
    sequences: Sequence[str],
    labels: Any,
    out_dir: str | Path,
    motif_db: str | Path | None = None,
    *,
    run_id: str | None = None,
    log: bool = True,
    **params: Any,
) -> dict[str, Any]:
    """Prefect task: interpret ``bundle`` on ``sequences`` and log everything to MLflow.

    Logs to the active run (the sequence flow's model run) or to ``run_id``. Returns the artifact
    paths and the metrics dict.
    """
    from components.motifs import interpret_model

    result = interpret_model(bundle, sequences, labels, out_dir, motif_db=motif_db, **params)
    if log:
        log_motif_outputs(result, out_dir, run_id=run_id)
    return _paths(result)


def run_motifs(
    model: str | Path,
    data: Sequence[str | Path],
    *,
    out_dir: str | Path,
    motif_db: str | Path | None = None,
    log: bool = True,
    **params: Any,
) -> dict[str, Any]:
    """The ``dynamotif motifs`` command: load the model, interpret, write ``out_dir``, log to its run."""
    from components.motifs import interpret_model
    from components.motifs.inputs import read_sequences
    from components.motifs.pipeline import check_alphabet, check_sequence_model

    if motif_db is not None and str(motif_db).lower() not in ("attract", "jaspar"):
        from components.motifs.meme import read_meme

        read_meme(motif_db)  # an unreadable database fails before the model is loaded
    bundle, run_id = load_sequence_bundle(model)
    check_sequence_model(bundle)
    sequences, labels = read_sequences(data)
    check_alphabet(bundle, sequences, source=", ".join(map(str, data)))
    if labels is not None and labels.shape[1] != bundle.n_outputs:
        labels = None  # classes of the files do not match the model's outputs: use no classes
    result = interpret_model(bundle, sequences, labels, out_dir, motif_db=motif_db, **params)
    if log and run_id is not None:
        log_motif_outputs(result, out_dir, run_id=run_id)
    paths = _paths(result)
    paths["run_id"] = run_id
    return paths
