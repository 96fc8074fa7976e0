"""Helpers shared by the ENCoM tests: golden comparisons."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).parent / "data"


def assert_signature_close(mine: np.ndarray, ref: np.ndarray, *, rtol: float = 1e-6) -> float:
    """Max relative error, with atol = 1e-12 x the column (beta) max for the large-beta tails.

    ``mine``/``ref`` are (n_beta, N). NRGTEN's float_power form gives exact zeros (and tiny values)
    where the mode entropies underflow, so tiny entries are compared absolutely, as the golden READMEs say.
    """
    atol = 1e-12 * np.abs(ref).max(axis=1, keepdims=True)
    err = np.abs(mine - ref)
    rel = np.where(err <= atol, 0.0, err / np.maximum(np.abs(ref), 1e-300))
    worst = float(rel.max())
    assert worst <= rtol, f"max relative error {worst:.3e} > {rtol}"
    return worst


def max_rel(mine: np.ndarray, ref: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(mine) - np.asarray(ref)) / np.abs(np.asarray(ref))))
