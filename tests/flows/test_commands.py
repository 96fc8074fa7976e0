"""Every ``dynamotif`` command follows one list-option convention (parsed by the real CLI)."""

import pytest
import typer.main

from flows.cli import app, main

COMMANDS = typer.main.get_command(app).commands


def _params(command: str, args: list[str]) -> dict:
    ctx = COMMANDS[command].make_context(command, list(args))
    return ctx.params


@pytest.mark.parametrize(
    "command, option, extra",
    [
        ("sequence", "--data", []),
        ("sequence", "--target", ["--data", "t.csv"]),
        ("sequence", "--test", ["--data", "a.fa", "b.fa"]),
        ("motifs", "--data", ["--model", "m"]),
        ("dynasig", "--model", ["--structure", "s.pdb", "--variants", "v.csv"]),
        ("dynasig", "--features", ["--structure", "s.pdb", "--variants", "v.csv"]),
        ("demo", "--only", []),
    ],
)
def test_list_option_takes_several_values_or_a_repeated_flag(command, option, extra):
    key = option.lstrip("-").replace("-", "_")
    spaced = _params(command, [*extra, option, "pos=a.fa", "neg=b.fa"])
    repeated = _params(command, [*extra, option, "pos=a.fa", option, "neg=b.fa"])
    assert [str(v) for v in spaced[key]] == [str(v) for v in repeated[key]] == ["pos=a.fa", "neg=b.fa"]


def test_readme_motifs_example_parses_and_fails_on_the_model_only(tmp_path, capsys):
    """``dynamotif motifs --data pos=a.fa neg=b.fa`` reaches the command (no 'unexpected extra argument')."""
    rc = main(["motifs", "--model", str(tmp_path / "no-such-model"), "--data", "pos=a.fa", "neg=b.fa"])
    err = capsys.readouterr().err
    assert rc == 2 and "unexpected extra argument" not in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["sequence", "--data", "a.fa", "--seed", "1", "--seed", "2"],
        ["predict", "--model", "a", "--model", "b", "--input", "i.csv", "--out", "o.csv"],
        ["mutate", "--structure", "a.pdb", "--structure", "b.pdb", "--variants", "v", "--out-dir", "o"],
    ],
)
def test_a_duplicated_scalar_flag_is_an_error(args, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "given more than once" in err, err


def test_sequence_config_file_values_hold_unless_a_flag_is_given(tmp_path, capsys):
    import json

    cfg = tmp_path / "seq.json"
    cfg.write_text(json.dumps({"data": ["a.fa", "b.fa"], "trials": "many"}))
    assert main(["sequence", "--config", str(cfg)]) == 2
    assert "option 'trials' must be an integer, got 'many'" in capsys.readouterr().err
    # a flag overrides the file; the missing files are then the (first) problem
    assert main(["sequence", "--config", str(cfg), "--trials", "2"]) == 2
    assert "a.fa: file does not exist" in capsys.readouterr().err
    assert main(["sequence", "--seed", "1"]) == 2
    assert "option 'data' is required" in capsys.readouterr().err
