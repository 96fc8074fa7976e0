"""Predictions from a registered model: ``models:/NAME@champion`` + a table or FASTA -> a table.

Generic over the project's pyfunc models: DynaSig models take a DataFrame with a ``variant`` column
(+ the extra feature columns they were trained with, e.g. ``mcfold_energy``) and run mutation +
ENCoM signatures inside; sequence models take a ``sequence`` column. Whatever the model returns
(a Series, an array or a DataFrame) is joined to the input rows.

The DynaSig pyfunc lives in :mod:`components.dynasig_ml.serving` (logged as models-from-code).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd
from prefect import flow

__all__ = ["predict_table", "predict_flow", "refusal_reason", "to_frame", "read_inputs"]


def to_frame(inputs: pd.DataFrame, output: Any) -> pd.DataFrame:
    """Join a model's output to its input rows (columns ``prediction`` or the model's own names)."""
    if isinstance(output, pd.DataFrame):
        out = output.reset_index(drop=True)
        keep = [c for c in out.columns if c not in inputs.columns]
        return pd.concat([inputs.reset_index(drop=True), out[keep]], axis=1)
    arr = np.asarray(output)
    res = inputs.reset_index(drop=True).copy()
    if arr.ndim == 1:
        res["prediction"] = arr
    else:
        for j in range(arr.shape[1]):
            res[f"prediction_{j}"] = arr[:, j]
    return res


FASTA_SUFFIXES = (".fa", ".fasta", ".fna", ".fa.gz", ".fasta.gz", ".fna.gz")


def read_inputs(path: str | Path) -> pd.DataFrame:
    """A table (CSV/TSV/Parquet), or a FASTA file as columns ``id``, ``sequence`` (+ ``structure``
    for a 3-line FASTA with dot-brackets)."""
    from components.common.io import read_table

    if not str(path).lower().endswith(FASTA_SUFFIXES):
        return read_table(path)
    from components.seqmodels.data import read_fasta_records

    records = read_fasta_records(path)
    df = pd.DataFrame(
        {"id": [h.split()[0] if h else "" for h, *_ in records], "sequence": [r[1] for r in records]}
    )
    if all(r[2] is not None for r in records):
        df["structure"] = [r[2] for r in records]
    return df


def _local_bundle(model: str | Path) -> Path | None:
    """The bundle folder when ``model`` is a local folder (a bundle or ``sequence --out-dir``)."""
    folder = Path(str(model))
    if not folder.is_dir():
        return None
    for candidate in (folder, folder / "bundle"):
        if (candidate / "bundle.json").is_file():
            return candidate
    return None


def predict_table(model_uri: str, input_path: str | Path, out_path: str | Path) -> pd.DataFrame:
    """Predict every row of ``input_path`` (table or FASTA) with ``model_uri`` and write ``out_path``.

    ``model_uri``: ``models:/NAME@champion``, ``models:/NAME/3``, ``runs:/...`` (loaded through
    :mod:`flows.tracking`), or a local sequence-model bundle folder (what ``dynamotif sequence
    --out-dir`` writes: the folder or its ``bundle/``).
    """
    from components.common.errors import InputError
    from components.common.io import write_table

    table = read_inputs(input_path)
    if not ({"variant", "sequence"} & set(table.columns)):
        raise InputError("input needs a 'variant' or a 'sequence' column", file=input_path)
    bundle_dir = _local_bundle(model_uri)
    if bundle_dir is not None:
        output = _predict_local(bundle_dir, table, input_path)
    else:
        from flows import tracking

        model = tracking.load_pyfunc(model_uri)
        try:
            output = model.predict(table)
        except mlflow.exceptions.MlflowException as exc:  # a 400 from the wrapper: bad input rows
            raise InputError(refusal_reason(str(exc.message)), file=input_path) from None
    result = to_frame(table, output)
    write_table(result, out_path)
    return result


_SCHEMA_ERROR = re.compile(
    r"Failed to enforce schema of data '.*' with schema '(?P<schema>.*)'\. Error: (?P<why>.*)", re.S
)


def refusal_reason(message: str) -> str:
    """One line saying why a model refused a table.

    MLflow's schema enforcement quotes the whole input table (several lines) before the reason
    (``Failed to enforce schema of data '   variant\n0  A12C' with schema '[...]'. Error: Model is missing
    inputs ['mcfold_energy'].``); this keeps the reason and the schema the model takes. Other messages
    are joined onto one line.
    """
    m = _SCHEMA_ERROR.match(message.strip())
    if m:
        return f"{' '.join(m['why'].split())} The model takes {m['schema']}."
    return " ".join(message.split())


def _predict_local(bundle_dir: Path, table: pd.DataFrame, input_path: str | Path) -> pd.DataFrame:
    from components.common.errors import InputError
    from components.seqmodels.bundle import load_bundle, predict_frame

    if "sequence" not in table.columns:
        raise InputError("a sequence model needs a 'sequence' column", file=input_path)
    bundle = load_bundle(bundle_dir)
    seqs = [str(s).strip().upper() for s in table["sequence"]]
    dbs = [str(s) for s in table["structure"]] if "structure" in table.columns else None
    try:
        return predict_frame(bundle, seqs, dotbrackets=dbs)
    except InputError as exc:
        raise InputError(exc.reason, file=input_path, record=exc.record) from None


@flow(name="predict", log_prints=False)
def predict_flow(model_uri: str, input_path: str, out_path: str) -> str:
    """Prefect flow around :func:`predict_table`; returns the output path."""
    predict_table(model_uri, input_path, out_path)
    return str(out_path)
