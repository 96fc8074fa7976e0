"""CCD ideal geometry of the standard residues, read from ``data/ideal_geometry.json``.

The file is extracted from the wwPDB Chemical Component Dictionary that biotite ships
(``data/make_ideal_geometry.py``); a test checks it still matches biotite's CCD.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

__all__ = ["IdealResidue", "ideal_residue"]

_PATH = Path(__file__).with_name("data") / "ideal_geometry.json"


@dataclass(frozen=True)
class IdealResidue:
    """Heavy atoms of one CCD component: names, elements, ``(n, 3)`` ideal coordinates, bonds ``(m, 2)``."""

    res_name: str
    atom_names: tuple[str, ...]
    elements: tuple[str, ...]
    coords: np.ndarray
    bonds: np.ndarray

    def index(self, name: str) -> int:
        return self.atom_names.index(name)


@lru_cache(maxsize=1)
def _all() -> dict:
    return json.loads(_PATH.read_text())["residues"]


@cache
def ideal_residue(res_name: str) -> IdealResidue:
    """The CCD ideal heavy-atom geometry of ``res_name`` (20 amino acids, A C G U, DA DC DG DT)."""
    data = _all()
    if res_name not in data:
        raise ValueError(f"res_name must be one of {', '.join(data)}, got {res_name!r}")
    d = data[res_name]
    return IdealResidue(
        res_name=res_name,
        atom_names=tuple(d["atom_names"]),
        elements=tuple(d["elements"]),
        coords=np.array(d["coords"], dtype=np.float64),
        bonds=np.array(d["bonds"], dtype=np.int64).reshape(-1, 2),
    )
