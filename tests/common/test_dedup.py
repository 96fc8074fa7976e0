import warnings

import numpy as np
import pytest

from components.common.dedup import duplicate_groups, shared_mask, warn_shared
from components.common.errors import DynamotifWarning


def test_shared_mask_marks_exact_repeats_only():
    mask = shared_mask(["ACGU", "GGGG"], ["ACGU", "ACGA", "GGGG", "acgu"])
    assert mask.tolist() == [True, False, True, False]
    assert shared_mask([], ["A"]).tolist() == [False] and shared_mask(["A"], []).size == 0


def test_duplicate_groups_number_by_first_occurrence():
    assert duplicate_groups(["b", "a", "b", "c", "a"]).tolist() == [0, 1, 0, 2, 1]
    assert duplicate_groups([]).dtype == np.int64


def test_warn_shared_gives_the_count_and_the_source():
    with pytest.warns(
        DynamotifWarning, match=r"2 of 3 test sequences \(test\.fa\) also occur in the training"
    ):
        assert warn_shared(["AA", "CC"], ["AA", "CC", "GG"], source="test.fa") == 2


def test_warn_shared_is_silent_without_overlap():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamotifWarning)
        assert warn_shared(["AA"], ["CC"], what="test variants") == 0
