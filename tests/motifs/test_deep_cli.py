"""``dynamotif motifs --layer N``: outputs logged under motifs/convN/ of the model's run, and its error lines."""

from __future__ import annotations

import mlflow

from flows.cli import main
from tests.motifs.test_cli import _one_error_line, registry  # noqa: F401 - the shared module fixture


def _deep(registry, out: str, *extra: str) -> int:  # noqa: F811
    return main(
        [
            "motifs",
            "--model",
            "models:/toy@champion",
            "--data",
            str(registry["fasta"]),
            "--out-dir",
            str(registry["root"] / out),
            *extra,
        ]
    )


def test_cli_layer_writes_page_and_logs_under_motifs_conv1(registry, capsys):  # noqa: F811
    rc = _deep(registry, "deep1", "--layer", "1", "--neurons", "0", "2")
    assert rc == 0, capsys.readouterr().err
    out = registry["root"] / "deep1"
    for name in ("conv1.html", "neurons.tsv", "grammar.tsv", "params.json", "metrics.json"):
        assert (out / name).is_file(), name
    assert "conv1: 2 neurons" in capsys.readouterr().out
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(registry["run_id"], "motifs/conv1")}
    assert {"motifs/conv1/conv1.html", "motifs/conv1/neurons.tsv"} <= arts
    run = mlflow.MlflowClient().get_run(registry["run_id"])
    assert run.data.metrics["motifs.conv1.n_neurons"] == 2


def test_cli_layer_that_does_not_exist(registry, capsys):  # noqa: F811
    rc = _deep(registry, "e1", "--layer", "2")
    line = _one_error_line(capsys)
    assert rc == 2 and "layer 2 does not exist: the model has 1 convolution layers" in line
    assert not (registry["root"] / "e1").exists()


def test_cli_non_conv_layer(registry, capsys):  # noqa: F811
    rc = _deep(registry, "e2", "--layer", "dense1")
    assert rc == 2 and "'dense1' is not a convolution layer" in _one_error_line(capsys)


def test_cli_neurons_out_of_range(registry, capsys):  # noqa: F811
    rc = _deep(registry, "e3", "--layer", "conv1", "--neurons", "1", "--neurons", "4")
    assert rc == 2 and "neuron(s) 4 out of range: conv1 has 4 neurons (0..3)" in _one_error_line(capsys)


def test_cli_bad_criterion(registry, capsys):  # noqa: F811
    bad = registry["root"] / "crit.yaml"
    bad.write_text("layers:\n  conv2: {conv3: 2}\n")
    rc = _deep(registry, "e4", "--layer", "1", "--criterion", str(bad))
    line = _one_error_line(capsys)
    assert rc == 2 and "crit.yaml" in line and "'conv3' must be a conv layer below conv2" in line


def test_cli_member_of_single_model(registry, capsys):  # noqa: F811
    rc = _deep(registry, "e5", "--layer", "1", "--member", "1")
    assert rc == 2 and "single network" in _one_error_line(capsys)


def test_cli_optimize_any_node_without_data(registry, capsys):  # noqa: F811
    out = registry["root"] / "opt"
    rc = main(
        [
            "motifs",
            "--model",
            "models:/toy@champion",
            "--optimize",
            "conv1:1",
            "output:0",
            "--out-dir",
            str(out),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    table = (out / "optimized" / "nodes.tsv").read_text().splitlines()
    assert table[0].split("\t")[:3] == ["node", "value", "consensus"]
    assert {row.split("\t")[0] for row in table[1:]} == {"conv1:1", "output:0"}
    for name in ("conv1_1.png", "output_0.png", "optimized.meme"):
        assert (out / "optimized" / name).stat().st_size > 0, name
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(registry["run_id"], "motifs/optimized")}
    assert "motifs/optimized/nodes.tsv" in arts


def test_cli_optimize_bad_node(registry, capsys):  # noqa: F811
    out = registry["root"] / "opt_bad"
    rc = main(["motifs", "--model", "models:/toy@champion", "--optimize", "conv1:9", "--out-dir", str(out)])
    assert rc == 2 and "unit 9 out of range" in _one_error_line(capsys)
    assert not out.exists()


def test_cli_without_data_or_optimize(registry, capsys):  # noqa: F811
    rc = main(["motifs", "--model", "models:/toy@champion", "--out-dir", str(registry["root"] / "none")])
    assert rc == 2 and "motifs needs --data" in _one_error_line(capsys)


def test_cli_optimize_with_layer_or_data_is_refused(registry, capsys):  # noqa: F811
    rc = _deep(registry, "opt_both", "--optimize", "output:0")
    assert rc == 2 and "--optimize works without data and instead of --layer" in _one_error_line(capsys)
    assert not (registry["root"] / "opt_both").exists()
