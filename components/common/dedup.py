"""Exact duplicates between data sets: sequences (or variant keys) on both sides of a cut.

A test set that repeats training sequences scores memory, not generalisation; a validation part that
repeats fitting sequences flatters the selection. These functions find such repeats, group them so a
split keeps every copy on one side, and warn with the count.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from components.common.errors import DynamotifWarning

__all__ = ["shared_mask", "duplicate_groups", "warn_shared"]


def shared_mask(reference: Sequence[str], query: Sequence[str]) -> np.ndarray:
    """Which items of ``query`` occur (exactly) in ``reference``.

    Parameters
    ----------
    reference
        Keys of the reference set (e.g. the training sequences).
    query
        Keys to look up (e.g. the test sequences).

    Returns
    -------
    numpy.ndarray
        Boolean, shape (len(query),): True where the query item is in ``reference``.
    """
    ref = set(reference)
    return np.fromiter((q in ref for q in query), dtype=bool, count=len(query))


def duplicate_groups(keys: Sequence[str]) -> np.ndarray:
    """A group id per item; equal keys share one (ids numbered by first occurrence).

    Parameters
    ----------
    keys
        One key per row (a sequence, a variant).

    Returns
    -------
    numpy.ndarray
        int64, shape (len(keys),), values 0..n_unique-1.
    """
    first: dict[str, int] = {}
    return np.fromiter((first.setdefault(k, len(first)) for k in keys), dtype=np.int64, count=len(keys))


def warn_shared(
    reference: Sequence[str], query: Sequence[str], *, what: str = "test sequences", source: str = ""
) -> int:
    """Warn (:class:`DynamotifWarning`) when ``query`` repeats items of ``reference``; return the count.

    Parameters
    ----------
    reference
        Training keys.
    query
        Keys of the set that should be unseen (test).
    what
        How the query items are called in the message.
    source
        The file(s) the query came from, named in the message.
    """
    count = int(shared_mask(reference, query).sum())
    if count:
        where = f" ({source})" if source else ""
        warnings.warn(
            f"{count} of {len(query)} {what}{where} also occur in the training data: "
            "their scores measure memory, not generalisation; remove them for an unseen test set",
            DynamotifWarning,
            stacklevel=2,
        )
    return count
