"""The one list-option convention and the component CLI contract (components/common/cli.py)."""

import argparse

import pytest

from components.common.cli import add_list_option, normalize_list_args, run_main
from components.common.errors import InputError

LISTS = {"--data", "--test"}
SCALARS = [("--seed",), ("--motifs", "--no-motifs"), ("--name",)]


@pytest.mark.parametrize(
    "args",
    [
        ["--data", "a", "b", "c", "--seed", "1"],
        ["--data", "a", "--data", "b", "--data", "c", "--seed", "1"],
        ["--data", "a", "b", "--seed", "1", "--data", "c"],
        ["--data=a", "--data", "b", "c", "--seed=1"],
    ],
)
def test_several_values_and_repeated_flags_are_the_same(args):
    out = normalize_list_args(args, LISTS, SCALARS)
    values = [
        out[i + 1] if not out[i].startswith("--data=") else out[i][7:]
        for i in range(len(out))
        if out[i] == "--data" or out[i].startswith("--data=")
    ]
    assert values == ["a", "b", "c"]
    assert "--seed" in out or "--seed=1" in out


def test_values_after_double_dash_and_negative_numbers_are_values():
    assert normalize_list_args(["--data", "-1", "x", "--", "--data"], LISTS, SCALARS) == [
        "--data",
        "-1",
        "--data",
        "x",
        "--",
        "--data",
    ]


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--seed", "1", "--seed", "2"], "--seed"),
        (["--motifs", "--no-motifs"], "--no-motifs"),
        (["--name=a", "--name", "b"], "--name"),
    ],
)
def test_a_scalar_flag_given_twice_is_an_error(args, flag):
    with pytest.raises(InputError, match=f"option {flag} given more than once"):
        normalize_list_args(args, LISTS, SCALARS, command="dynamotif x")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m components.x")
    add_list_option(p, "--data")
    p.add_argument("--seed", type=int, default=0)
    return p


def test_argparse_component_cli_follows_the_convention(capsys):
    seen = []
    assert run_main(_parser(), lambda a: seen.append(a.data), ["--data", "a", "b", "--data", "c"]) == 0
    assert seen == [["a", "b", "c"]]
    assert run_main(_parser(), lambda a: None, ["--data", "a", "--seed", "1", "--seed", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: python -m components.x: option --seed given more than once (it takes one value)"
