"""Sequence models: alphabets, one-hot and sequence x structure encoding (ViennaRNA), a
pysster-style CNN and a Saluki-style CNN+GRU trained with Lightning, Optuna search.

API for other components (``components.motifs``): :class:`SequenceModel`, :func:`predict`,
:func:`encode`, :func:`first_layer_activations`, :func:`save_bundle`, :func:`load_bundle`.
"""

from components.seqmodels.alphabet import DNA, PROTEIN, RNA, Alphabet, LengthPolicy, get_alphabet, one_hot
from components.seqmodels.bundle import (
    SequenceModel,
    encode,
    first_layer_activations,
    load_bundle,
    predict,
    save_bundle,
)
from components.seqmodels.structure import FoldOptions, annotate, fold

__all__ = [
    "Alphabet",
    "LengthPolicy",
    "DNA",
    "RNA",
    "PROTEIN",
    "get_alphabet",
    "one_hot",
    "SequenceModel",
    "encode",
    "predict",
    "first_layer_activations",
    "save_bundle",
    "load_bundle",
    "FoldOptions",
    "annotate",
    "fold",
]
