"""``dynamotif motifs --layer N``: deep-neuron motifs of one conv layer, logged under ``motifs/convN/``.

Numerics live in :func:`components.motifs.deep.interpret_layer`; this module loads the model, checks
the layer and neurons before reading data, calls it and logs the output folder to the model's
MLflow run through :mod:`flows.tracking`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from components.motifs.inputs import read_sequences
from flows.motifs import ARTIFACT_DIR, load_sequence_bundle

__all__ = ["run_deep_motifs", "run_optimized_nodes"]


def run_deep_motifs(
    model: str | Path,
    data: Sequence[str | Path],
    *,
    layer: str,
    neurons: Sequence[int] | None = None,
    out_dir: str | Path,
    motif_db: str | Path | None = None,
    criterion: str | Path | None = None,
    log: bool = True,
    **params: Any,
) -> dict[str, Any]:
    """Load the model, interpret conv layer ``layer`` (all neurons or ``neurons``) into ``out_dir``,
    log it under ``motifs/<layer>/`` of the model's run. Returns the metrics, the report path and
    the run id."""
    from components.motifs.deep import interpret_layer, prepare_layer
    from components.motifs.demix import load_criterion
    from components.motifs.pipeline import check_alphabet

    if motif_db is not None and str(motif_db).lower() not in ("attract", "jaspar"):
        from components.motifs.meme import read_meme

        read_meme(motif_db)  # an unreadable database fails before the model is loaded
    load_criterion(criterion)  # so does a bad criterion file
    bundle, run_id = load_sequence_bundle(model)
    _, conv, _, _ = prepare_layer(bundle, layer, neurons, int(params.get("member", 0)))
    sequences, labels = read_sequences(data)
    check_alphabet(bundle, sequences, source=", ".join(map(str, data)))
    result = interpret_layer(
        bundle,
        sequences,
        labels,
        out_dir,
        layer=layer,
        neurons=neurons,
        motif_db=motif_db,
        criterion=criterion,
        **params,
    )
    if log and run_id is not None:
        from flows import tracking

        tracking.log_artifacts(out_dir, f"{ARTIFACT_DIR}/{conv.name}", run_id=run_id)
        metrics = {
            f"motifs.{conv.name}.{k}": v for k, v in result["metrics"].items() if isinstance(v, (int, float))
        }
        tracking.log_metrics(metrics, run_id=run_id)
    return {
        "metrics": result["metrics"],
        "report": str(result["report"]),
        "run_id": run_id,
        "layer": conv.name,
    }


def run_optimized_nodes(
    model: str | Path,
    nodes: Sequence[str],
    *,
    out_dir: str | Path,
    log: bool = True,
    member: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """Visualization by optimization of ``nodes`` (``conv2:5``, ``dense1:0``, ``output:0``) of a
    sequence model, logged under ``motifs/optimized/`` of the model's run."""
    from components.motifs.deep import visualize_nodes

    bundle, run_id = load_sequence_bundle(model)
    result = visualize_nodes(bundle, nodes, out_dir, member=member, seed=seed)
    if log and run_id is not None:
        from flows import tracking

        tracking.log_artifacts(result["folder"], f"{ARTIFACT_DIR}/optimized", run_id=run_id)
    return {**result, "run_id": run_id}
