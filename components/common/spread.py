"""Seed spread: a score measured over several training seeds, and what a difference to it means.

A model's score moves with its seed; a margin smaller than that movement is not a result. Scores are
reported as mean ± sample standard deviation over the seeds, and a comparison against a reference
value is ``"above"`` or ``"below"`` only when the gap exceeds the spread, ``"on par"`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from components.common.errors import InputError

__all__ = ["seed_summary", "compare_to_reference"]


def seed_summary(values: Sequence[float], digits: int = 4) -> dict[str, object]:
    """Mean, sample sd (ddof 1; 0 for one value) and the per-seed values, rounded to ``digits``.

    Raises
    ------
    InputError
        No values.
    """
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise InputError("no scores to summarise (zero seeds)")
    sd = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return {
        "mean": round(float(arr.mean()), digits),
        "sd": round(sd, digits),
        "n": int(arr.size),
        "values": [round(float(v), digits) for v in arr],
    }


def compare_to_reference(mean: float, sd: float, reference: float, *, higher_is_better: bool = True) -> str:
    """``"above"``/``"below"`` the reference when ``|mean - reference| > sd``, else ``"on par"``.

    With ``higher_is_better=False`` (an error, a loss) "above" still means better.
    """
    gap = (mean - reference) if higher_is_better else (reference - mean)
    if abs(gap) <= sd:
        return "on par"
    return "above" if gap > 0 else "below"
