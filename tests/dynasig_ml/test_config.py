"""DynasigConfig: defaults declared once, unknown keys and wrong types named, no dataset-specific default."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from components.common.errors import InputError
from components.dynasig_ml import build_dataset, make_split
from components.dynasig_ml.config import DEFAULT_SPLIT, DynasigConfig
from components.encom.params import DEFAULT_BETAS, DEFAULT_PARAMS

BASE = {"structure": "wt.pdb", "variants": "v.csv", "target": "ddg"}


def test_defaults_and_coercion() -> None:
    cfg = DynasigConfig.from_mapping({**BASE, "models": ["lasso", "hgb"], "betas": [1, 2.5], "seed": 3})
    assert cfg.structure == Path("wt.pdb") and cfg.models == ("lasso", "hgb")
    assert cfg.betas == (1.0, 2.5) and cfg.seed == 3
    assert DynasigConfig.from_mapping(BASE).betas == tuple(DEFAULT_BETAS)
    assert cfg.encom_params == DEFAULT_PARAMS and cfg.split == DEFAULT_SPLIT
    assert cfg.predictor_sets == ("signatures",)
    assert cfg.replace(features=("energy",)).predictor_sets == ("both",)
    assert DynasigConfig.from_mapping({**BASE, "chunk-size": 5}).chunk_size == 5
    assert cfg.to_dict()["structure"] == "wt.pdb" and cfg.to_dict()["models"] == ["lasso", "hgb"]


def test_target_is_required_and_named() -> None:
    with pytest.raises(InputError, match=r"option 'target' is required: .*--target"):
        DynasigConfig.from_mapping({"structure": "wt.pdb", "variants": "v.csv"})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"droput": 0.5}, "unknown option 'droput'"),
        ({"seed": "3"}, "option 'seed' must be an integer, got '3'"),
        ({"seed": True}, "option 'seed' must be an integer"),
        ({"betas": [1, "x"]}, "option 'betas' must be a number"),
        ({"strict": "yes"}, "option 'strict' must be true or false"),
        ({"models": [3]}, "option 'models' must be a string"),
        ({"split": "n_mut:x"}, "bad split 'n_mut:x'"),
        ({"split": "halves"}, "unknown split 'halves'"),
        ({"validation": "cv:1"}, "bad validation 'cv:1'"),
        ({"models": ["nosuchmodel"]}, "nosuchmodel"),
        ({"predictors": ["sigs"]}, "option 'predictors': unknown predictor block 'sigs'"),
        ({"betas": [0.0]}, "option 'betas' must be positive"),
        ({"chunk_size": 0}, "option 'chunk_size' must be >= 1"),
        ({"encom_params": "nope"}, "option 'encom_params': unknown parameter set 'nope'"),
        ({"target": " "}, "option 'target' is empty"),
    ],
)
def test_bad_values_name_the_option(extra: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace("[", r"\[")):
        DynasigConfig.from_mapping({**BASE, **extra})


def test_config_is_frozen() -> None:
    cfg = DynasigConfig.from_mapping(BASE)
    with pytest.raises(AttributeError):
        cfg.seed = 4  # type: ignore[misc]


def test_default_split_works_on_any_table() -> None:
    """A protein table with single mutants only: the default split is a seeded random one."""
    table = pd.DataFrame({"variant": [f"K{i}R" for i in range(1, 21)], "ddg": np.arange(20.0)})
    data = build_dataset(table, "ddg")
    a = make_split(DEFAULT_SPLIT, data, seed=1)
    b = make_split(DEFAULT_SPLIT, data, seed=1)
    assert a.test.size == 4 and a.train.size == 16 and np.array_equal(a.test, b.test)
