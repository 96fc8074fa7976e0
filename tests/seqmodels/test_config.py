"""SequenceConfig / MotifConfig: defaults once, unknown keys and wrong types named."""

import dataclasses

import pytest

from components.common.errors import InputError
from components.motifs.config import MotifConfig
from components.seqmodels.config import DEFAULTS, SequenceConfig


def test_round_trip_and_defaults():
    cfg = SequenceConfig.from_mapping(
        {"data": ["a.fa", "b.fa"], "epochs": 3, "params": {"dropout_conv": 0.5}}
    )
    assert cfg.data == ("a.fa", "b.fa") and cfg.trials == DEFAULTS["trials"] == 0
    assert SequenceConfig.from_mapping(cfg.to_dict()) == cfg
    assert cfg.fixed_params() == {"dropout_conv": 0.5, "max_epochs": 3}
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.trials = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "mapping, message",
    [
        (
            {"data": ["a"], "params": {"droput_conv": 0.5}},
            "'droput_conv' for --arch cnn (did you mean 'dropout_conv'?)",
        ),
        (
            {"data": ["a"], "arch": "cnn_gru", "params": {"global_pool": "max"}},
            "'global_pool' for --arch cnn_gru",
        ),
        ({"data": ["a"], "trails": 2}, "unknown option 'trails' (did you mean 'trials'?)"),
        ({"data": ["a"], "trials": "2"}, "option 'trials' must be an integer, got '2'"),
        ({"data": ["a"], "fold": "yes"}, "option 'fold' must be true or false"),
        ({"data": ["a"], "params": [1, 2]}, "option 'params' must be a mapping"),
        ({"trials": 2}, "option 'data' is required"),
        ({"data": ["a"], "task": "ranking"}, "option 'task' must be one of auto, binary"),
        ({"data": ["a"], "motif_params": {"atribution": "ig"}}, "unknown motif parameter 'atribution'"),
        ({"data": ["a"], "initial_configs": [{"lr": 0.1, "kernels": 3}]}, "initial trial 'kernels'"),
    ],
)
def test_bad_keys_and_types_are_named(mapping, message):
    with pytest.raises(InputError) as exc:
        SequenceConfig.from_mapping(mapping)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_motif_config_checks_choices_and_types():
    assert MotifConfig.from_mapping({"pair_kernels": 4}).pair_kernels == 4
    with pytest.raises(InputError, match="attribution must be one of"):
        MotifConfig.from_mapping({"attribution": "shap"})
    with pytest.raises(InputError, match="'alpha' must be a number"):
        MotifConfig.from_mapping({"alpha": "0.1"})
