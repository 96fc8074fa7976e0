"""Model-free baselines a learned variant-effect model has to beat.

On a split whose test variants combine mutations seen in training (e.g. train on triple mutants, test
on 4-6-mutation variants of the same library), the training variants *contained* in a test variant
already carry most of the signal: the mean of their measured targets is a prediction without any
model. A signature model that does not beat it has learned nothing beyond the lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from components.common.errors import InputError
from components.mutation.variants import Mutation, parse_variant

__all__ = ["ContainedMean", "contained_mean_baseline"]

#: above this many mutations a test variant is checked against every training variant instead of
#: enumerating its subsets (2^n of them)
_MAX_ENUMERATED = 12


@dataclass(frozen=True)
class ContainedMean:
    """Predictions of :func:`contained_mean_baseline`.

    Attributes
    ----------
    prediction : ndarray, (n_test,)
        Mean target of the training mutants contained in each test variant; the training mean where
        none is contained.
    n_contained : ndarray of int, (n_test,)
        How many training mutants each test variant contains.
    """

    prediction: np.ndarray
    n_contained: np.ndarray

    def describe(self) -> dict[str, float]:
        """Mean number of contained training mutants, and the share of test variants with none."""
        return {
            "mean_contained": float(self.n_contained.mean()) if self.n_contained.size else 0.0,
            "fraction_without": float((self.n_contained == 0).mean()) if self.n_contained.size else 0.0,
        }


def _mutation_set(key: str) -> frozenset[Mutation]:
    return frozenset(parse_variant(key))


def contained_mean_baseline(
    train_ids: Sequence[str], train_y: np.ndarray, test_ids: Sequence[str]
) -> ContainedMean:
    """Predict each test variant as the mean target of the training mutants whose mutations it contains.

    A training mutant is contained in a test variant when every one of its point mutations is one of the
    test variant's (the test variant itself counts when it is in training). WT contains nothing and is
    contained in nothing here. A test variant that contains no training mutant gets the training mean.

    Parameters
    ----------
    train_ids, test_ids
        Variant keys in any spelling (``"A12C;C74A"``, ``"A12C_C74A"``, ``"WT"``).
    train_y : ndarray, (n_train,)
        Training targets.

    Raises
    ------
    InputError
        ``train_y`` not aligned with ``train_ids``, or no training variant.
    """
    y = np.asarray(train_y, dtype=float)
    if y.shape != (len(train_ids),) or y.size == 0:
        raise InputError(
            f"contained-mean baseline: {len(train_ids)} training ids but targets of shape {y.shape}"
        )
    sums: dict[frozenset[Mutation], list[float]] = {}
    for key, value in zip(train_ids, y, strict=True):
        muts = _mutation_set(key)
        if muts:
            acc = sums.setdefault(muts, [0.0, 0.0])
            acc[0] += value
            acc[1] += 1
    fallback = float(y.mean())
    pred = np.full(len(test_ids), fallback)
    count = np.zeros(len(test_ids), dtype=np.int64)
    for i, key in enumerate(test_ids):
        muts = _mutation_set(key)
        if len(muts) <= _MAX_ENUMERATED:
            subsets = (frozenset(c) for r in range(1, len(muts) + 1) for c in combinations(muts, r))
            hits = [sums[s] for s in subsets if s in sums]
        else:
            hits = [acc for s, acc in sums.items() if s <= muts]
        total, n = sum(h[0] for h in hits), sum(h[1] for h in hits)
        if n:
            pred[i], count[i] = total / n, int(n)
    return ContainedMean(prediction=pred, n_contained=count)
