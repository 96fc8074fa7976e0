"""Structure mutation: every variant's 3D model from the wild type, for RNA, DNA and proteins.

The variant grammar (:mod:`components.mutation.variants`) is importable without structure code;
the structural API (:func:`mutate`, :func:`mutate_many`, :class:`Mutator`) is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.mutation.variants import (
    WT,
    Mutation,
    RejectedVariant,
    ValidVariant,
    canonical_variant,
    mutation_positions,
    n_mutations,
    parse_variant,
    validate_variants,
    variant_name,
)

#: Version of the structure-building models (side-chain library and energy, nucleotide placement).
#: Part of every signature cache key of mutated structures: change it whenever a change to the mutation
#: code can move an atom, so that cached signatures of the old structures are not reused.
MUTATION_MODEL = "protein:bbdep2010-lj-hbond-1;rna:1"

if TYPE_CHECKING:
    from components.mutation.core import Mutator, mutate, mutate_many

__all__ = [
    "MUTATION_MODEL",
    "WT",
    "canonical_variant",
    "mutation_positions",
    "n_mutations",
    "Mutation",
    "RejectedVariant",
    "ValidVariant",
    "parse_variant",
    "validate_variants",
    "variant_name",
    "Mutator",
    "mutate",
    "mutate_many",
]

_LAZY = {"Mutator", "mutate", "mutate_many"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from components.mutation import core

        return getattr(core, name)
    raise AttributeError(f"module 'components.mutation' has no attribute {name!r}")
