"""Sequence models: alphabets, one-hot and sequence x structure encoding (ViennaRNA), a
pysster-style CNN and a Saluki-style CNN+GRU trained with Lightning, Optuna search.

The track's pipeline: :mod:`components.seqmodels.config` (``SequenceConfig``) and
:mod:`components.seqmodels.run` (the steps). API for other components (``components.motifs``):
:class:`SequenceModel`, :func:`predict`, :func:`encode`, :func:`first_layer_activations`,
:func:`save_bundle`, :func:`load_bundle`. Attributes load lazily, so importing the package (or
its light ``config`` module, as the CLI does) does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Alphabet": "alphabet",
    "LengthPolicy": "alphabet",
    "DNA": "alphabet",
    "RNA": "alphabet",
    "PROTEIN": "alphabet",
    "get_alphabet": "alphabet",
    "one_hot": "alphabet",
    "SequenceModel": "bundle",
    "encode": "bundle",
    "predict": "bundle",
    "first_layer_activations": "bundle",
    "save_bundle": "bundle",
    "load_bundle": "bundle",
    "FoldOptions": "structure",
    "annotate": "structure",
    "fold": "structure",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
