"""Structure mutation: every variant's 3D model from the wild type, for RNA, DNA and proteins.

The variant grammar (:mod:`components.mutation.variants`) is importable without structure code;
the structural API (:func:`mutate`, :func:`mutate_many`, :class:`Mutator`) is loaded on first use.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    residue_kind,
    validate_variants,
    variant_name,
)

#: Version of the structure-building models (side-chain library and energy, nucleotide placement).
#: Part of every signature cache key of mutated structures: change a part whenever a change to the
#: mutation code can move an atom of that kind of residue, so that cached signatures of the old
#: structures are not reused. ``rna`` is the nucleotide placement, used for RNA and DNA alike.
MUTATION_MODEL = "protein:bbdep2010-lj-hbond-1;rna:1"

_MODEL_PART_OF_KIND = {"protein": "protein", "rna": "rna", "dna": "rna"}


def mutation_model_for(res_names: Iterable[str], model: str | None = None) -> str:
    """The parts of ``model`` (default :data:`MUTATION_MODEL`) that can move an atom of mutants of a
    structure with these residue names: a protein's cache keys do not change with the nucleotide
    placement, nor an RNA's with the side-chain model. ``""`` when no residue is a standard amino acid
    or nucleotide."""
    model = MUTATION_MODEL if model is None else model
    kinds = {_MODEL_PART_OF_KIND[k[0]] for name in set(res_names) if (k := residue_kind(name)) is not None}
    return ";".join(part for part in model.split(";") if part.split(":", 1)[0] in kinds)


if TYPE_CHECKING:
    from components.mutation.core import Mutator, mutate, mutate_many

__all__ = [
    "MUTATION_MODEL",
    "WT",
    "mutation_model_for",
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
