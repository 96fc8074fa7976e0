"""``MotifConfig``: the motif stage's parameters, defaults declared here once.

:func:`components.motifs.interpret_model` takes its keyword overrides through
:meth:`MotifConfig.from_mapping`, so an unknown or mistyped parameter is one error naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from components.common.errors import InputError
from components.common.typed_config import check_keys, coerce_fields, config_from_mapping

__all__ = ["MotifConfig", "ATTRIBUTION_CHOICES"]

ATTRIBUTION_CHOICES = ("deeplift_shap", "ig", "ism", "none")


@dataclass(frozen=True)
class MotifConfig:
    """Parameters of :func:`components.motifs.interpret_model` (see its docstring for each step)."""

    max_windows: int = 750
    fire_threshold: float = 0.7  # CombMotif's t: a neuron fires above t * max
    pair_kernels: int = 8  # most important kernels considered for pair interactions
    pair_fire_threshold: float = 0.5
    min_pair_sequences: int = 12
    max_pair_sequences: int = 150
    n_shuffles: int = 2
    alpha: float = 0.05
    min_relative: float = 0.1
    # activation (pysster's score; robust when several kernels encode the same motif) | ablation (loss
    # increase when the kernel is mean-ablated: redundant kernels look unimportant). On the RBP benchmark
    # the first QKI kernel ranked 1 by activation and 5 by ablation; PUM2 ranked 1 by both.
    importance: str = "activation"
    importance_sequences: int = 2000  # seeded sample for the ablation importance
    trim_bits: float = 0.5  # Tomtom queries: kernel motifs without edge columns under this many bits
    attribution: str = "deeplift_shap"  # deeplift_shap | ig | ism | none
    attribution_sequences: int = 500
    modisco: bool = False
    modisco_sequences: int = 2000
    tomtom_top: int = 10
    heatmap_sequences: int = 2000
    output: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        coerce_fields(self)
        if self.attribution not in ATTRIBUTION_CHOICES:
            raise InputError(
                f"attribution must be one of {', '.join(ATTRIBUTION_CHOICES[:-1])} or none, "
                f"got {self.attribution!r}"
            )
        if self.importance not in ("ablation", "activation"):
            raise InputError(f"importance must be ablation or activation, got {self.importance!r}")

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> MotifConfig:
        """Build from overrides; unknown keys and wrong types are one-line errors naming the key."""
        check_keys(mapping, [f.name for f in dataclasses.fields(cls)], what="motif parameter")
        return config_from_mapping(cls, mapping)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
