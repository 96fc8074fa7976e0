import numpy as np
import pytest

from components.common.errors import InputError
from components.dynasig_ml.baselines import contained_mean_baseline


def test_contained_mean_averages_the_training_mutants_inside_each_test_variant():
    train = ["A1C", "G2U", "A1C;G2U", "C3A", "WT", "U9G"]
    y = np.array([1.0, 3.0, 5.0, 10.0, 100.0, 7.0])
    test = ["A1C;G2U;C3A", "A1C;U4G", "G5C", "A1C;G2U"]
    res = contained_mean_baseline(train, y, test)
    # (1 + 3 + 5 + 10) / 4; only A1C; nothing contained -> training mean; itself counts
    assert res.prediction.tolist() == pytest.approx([4.75, 1.0, y.mean(), 3.0])
    assert res.n_contained.tolist() == [4, 1, 0, 3]
    assert res.describe() == {"mean_contained": 2.0, "fraction_without": 0.25}


def test_contained_mean_large_variants_scan_the_training_set():
    muts = [f"A{p}C" for p in range(1, 15)]  # 14 mutations: more than are enumerated
    res = contained_mean_baseline(["A1C", "A2C;A3C", "A20C"], np.array([2.0, 4.0, 9.0]), [";".join(muts)])
    assert res.prediction.tolist() == [3.0] and res.n_contained.tolist() == [2]


def test_contained_mean_misaligned_targets_is_an_input_error():
    with pytest.raises(InputError, match="2 training ids but targets of shape"):
        contained_mean_baseline(["A1C", "G2U"], np.array([1.0]), ["A1C"])
