import pytest

from components.common.errors import InputError
from components.common.spread import compare_to_reference, seed_summary


def test_seed_summary_mean_sample_sd_and_values():
    s = seed_summary([0.94, 0.95, 0.96])
    assert s["mean"] == pytest.approx(0.95) and s["sd"] == pytest.approx(0.01)
    assert s["n"] == 3 and s["values"] == [0.94, 0.95, 0.96]
    assert seed_summary([0.5])["sd"] == 0.0


def test_seed_summary_of_nothing_is_an_input_error():
    with pytest.raises(InputError, match="zero seeds"):
        seed_summary([])


def test_a_gap_within_the_spread_is_on_par():
    assert compare_to_reference(0.9463, 0.002, 0.945) == "on par"
    assert compare_to_reference(0.950, 0.002, 0.945) == "above"
    assert compare_to_reference(0.940, 0.002, 0.945) == "below"
    assert compare_to_reference(0.10, 0.01, 0.20, higher_is_better=False) == "above"  # a lower error
