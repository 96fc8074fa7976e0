"""ENCoM parameter sets and the configuration tables (atom types, beads, interaction matrix).

The defaults are those of NRGTEN 1.2.9's ``ENCoM()`` (Frappier & Najmanovich 2014, PLoS Comput Biol
10:e1003569). Every output records the name and the values of the set it was computed with.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np

from components.common.errors import InputError

__all__ = [
    "DEFAULT_BETAS",
    "DEFAULT_PARAMS",
    "EncomParams",
    "PARAMETER_SETS",
    "resolve_params",
    "tables",
    "interaction_matrix",
]

#: The 13 beta values of the DynaSig-ML examples: e^(k/2), k = -6..6 (computed as the examples do).
DEFAULT_BETAS: list[float] = [np.e ** (k / 2) for k in range(-6, 7)]

#: Name of the default ENCoM parameter set (NRGTEN 1.2.9's ``ENCoM()`` constants).
DEFAULT_PARAMS = "nrgten-1.2.9"

_TABLES_PATH = Path(__file__).parent / "data" / "encom_tables.json"


@dataclasses.dataclass(frozen=True)
class EncomParams:
    """Constants of the ENCoM potential.

    Attributes
    ----------
    name
        Name of the set (recorded with every output).
    kr, ktheta
        Bond-stretching and angle-bending constants (V1, V2).
    kphi
        Effective torsion constant of V3, i.e. NRGTEN's ``kphi * (kphi1 / 2 + 9 * kphi3 / 2)``.
    epsilon
        Long-range constant added to every B_ij (V4).
    interact_const, null_interact_const
        Interaction-matrix values of legitimate / illegitimate Sobolev atom-type pairs.
    power_dependence
        Distance power of V4 (block = -120 (epsilon + B_ij) / d^power * d d^T).
    interact_level
        Pairs related as 1-2 (1), up to 1-3 (2) or up to 1-4 (3) are excluded from V4.
    bond_cutoff_angstrom
        Two beads of the same class are bonded when any of their atoms are this close.
    skipmass_threshold
        A bead whose centre atom is missing is dropped if it would hold at most this many atoms.
    water_radius_angstrom
        Probe radius of the contact-area computation.
    """

    name: str
    kr: float = 1000.0
    ktheta: float = 10000.0
    kphi: float = 10000.0 * (1 / 2 + 0.5 * 9 / 2)
    epsilon: float = 0.01
    interact_const: float = 3.0
    null_interact_const: float = 1.0
    power_dependence: float = 4.0
    interact_level: int = 3
    bond_cutoff_angstrom: float = 2.0
    skipmass_threshold: int = 2
    water_radius_angstrom: float = 1.4

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


PARAMETER_SETS: dict[str, EncomParams] = {
    p.name: p
    for p in (
        EncomParams(name=DEFAULT_PARAMS),
        # constants of the published DynaSig-ML examples (earlier NRGTEN default interaction matrix)
        EncomParams(name="dynasigml-2022", interact_const=10.0, null_interact_const=0.1),
        # NRGTEN's ENCoM(new_optimized_params=True)
        EncomParams(
            name="nrgten-optimized",
            kr=4000.0,
            ktheta=80000.0,
            kphi=20000.0,
            epsilon=0.08,
            interact_const=80.0,
            null_interact_const=0.0125,
        ),
    )
}


def resolve_params(params: str | EncomParams) -> EncomParams:
    """Return the :class:`EncomParams` named ``params`` (or ``params`` itself)."""
    if isinstance(params, EncomParams):
        return params
    if not isinstance(params, str):
        raise TypeError(f"params must be a parameter-set name or EncomParams, got {type(params).__name__}")
    try:
        return PARAMETER_SETS[params]
    except KeyError:
        raise InputError(
            f"unknown ENCoM parameter set {params!r}; known sets: {', '.join(PARAMETER_SETS)}"
        ) from None


@functools.cache
def tables() -> dict[str, Any]:
    """The atom-type, bead and interaction-pattern tables (``data/encom_tables.json``)."""
    with open(_TABLES_PATH, encoding="utf-8") as fh:
        return json.load(fh)


def interaction_matrix(params: EncomParams) -> np.ndarray:
    """(9, 9) matrix e[t_a, t_b] indexed by Sobolev type 1..8; row/column 0 (untyped atoms) is 0."""
    pattern = tables()["interaction_pattern"]
    mat = np.zeros((9, 9))
    for a, row in enumerate(pattern, start=1):
        for b, flag in enumerate(row, start=1):
            mat[a, b] = params.interact_const if flag == "L" else params.null_interact_const
    return mat
