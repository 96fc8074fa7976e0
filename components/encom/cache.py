"""The key of a cached signature chunk: its content and every setting that changes the numbers.

Both signature caches of the project key their chunks here: the chunk directory of
:func:`components.encom.batch.compute_signatures_batch` (structure files) and the variant chunks of
:mod:`components.dynasig_ml.signature_cache` (variants of one WT structure). A chunk is reused only when
the structures (bytes of the files, or coordinates and annotations of in-memory structures), their
names, the β list and the values of the ENCoM parameter set are all the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from components.common.errors import InputError
from components.common.io import file_sha256
from components.encom.params import EncomParams, resolve_params

__all__ = ["chunk_key", "structure_digest"]


def structure_digest(structure: Any) -> str:
    """SHA-256 of a structure: the file's bytes for a path, coordinates + annotations for an AtomArray."""
    if isinstance(structure, (str, Path)):
        if not Path(structure).is_file():
            raise InputError("file does not exist", file=structure)
        return file_sha256(structure)
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(structure.coord, dtype=np.float64).tobytes())
    for name in ("chain_id", "res_id", "ins_code", "res_name", "atom_name", "element"):
        h.update("\x1f".join(map(str, getattr(structure, name))).encode())
    return h.hexdigest()


def chunk_key(
    *,
    content: Sequence[str],
    names: Sequence[str],
    betas: Sequence[float] | np.ndarray,
    params: str | EncomParams,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Hex key of one chunk (24 characters).

    Parameters
    ----------
    content
        Digests of the inputs (:func:`structure_digest`; for variants of one WT: the WT's digest).
    names
        Structure names or variant keys of the chunk, in order.
    betas
        β values of the signatures.
    params
        ENCoM parameter set (its values are keyed, not only its name).
    extra
        Further settings that change the output (e.g. ``{"msf": True}``).
    """
    p = resolve_params(params)
    payload = {
        "content": list(content),
        "names": list(names),
        "betas": [repr(float(b)) for b in betas],
        "params": p.to_dict(),
        "extra": dict(extra or {}),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]
