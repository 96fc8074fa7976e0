"""``dynamotif motifs`` on a registered model (sqlite MLflow store in a temp folder) and its error lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flows.cli import main
from tests.motifs.synthetic import make_data


class _NotASequenceModel:  # a pyfunc model without a seqmodels bundle
    pass


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """An untrained tiny CNN bundle logged as a pyfunc model and registered as toy@champion."""
    import mlflow

    from components.seqmodels.alphabet import RNA
    from components.seqmodels.bundle import make_bundle, save_bundle
    from components.seqmodels.data import SequenceData
    from flows import tracking

    root = tmp_path_factory.mktemp("registry")
    mp = pytest.MonkeyPatch()
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mp.chdir(root)
    seqs, y, _, _ = make_data(n=160, seed=3)
    data = SequenceData(seqs, [f"s{i}" for i in range(len(seqs))], y, "regression", ["y"])
    params = {
        "conv_num": 1,
        "kernel_num": 4,
        "kernel_len": 8,
        "pool_size": 1,
        "dense_num": 1,
        "neuron_num": 8,
        "global_pool": "max",
    }
    bundle = make_bundle("cnn", params, RNA, len(seqs[0]), data)
    bdir = save_bundle(bundle, root / "bundle")

    class Wrapper(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return np.zeros(len(model_input))

    tracking.configure(uri)
    mlflow.set_experiment("motifs-cli-test")
    with mlflow.start_run() as run:
        info = tracking.log_pyfunc_model(Wrapper(), artifacts={"bundle": str(bdir)})
        other = tracking.log_pyfunc_model(Wrapper(), name="plain")
    tracking.register_and_promote(info.model_uri, "toy", metric="r2", value=0.5)
    tracking.register_and_promote(other.model_uri, "plain", metric="r2", value=0.5)
    fasta = root / "seqs.fa"
    fasta.write_text("".join(f">s{i}\n{s}\n" for i, s in enumerate(seqs)))
    yield {"root": root, "run_id": run.info.run_id, "fasta": fasta, "seqs": seqs}
    mp.undo()


def test_cli_writes_outputs_and_logs_to_model_run(registry, capsys):
    import mlflow

    out = registry["root"] / "out"
    rc = main(
        [
            "motifs",
            "--model",
            "models:/toy@champion",
            "--data",
            str(registry["fasta"]),
            "--out-dir",
            str(out),
            "--attribution",
            "none",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    for name in ("motifs.meme", "tomtom.tsv", "report.html", "cooccurrence.png"):
        assert (out / name).exists()
    assert "report" in capsys.readouterr().out
    arts = {a.path for a in mlflow.MlflowClient().list_artifacts(registry["run_id"], "motifs")}
    assert {"motifs/motifs.meme", "motifs/tomtom.tsv", "motifs/report.html"} <= arts


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _motifs(registry, model: str, data: Path, out: str, *extra: str) -> int:
    return main(
        ["motifs", "--model", model, "--data", str(data), "--out-dir", str(registry["root"] / out), *extra]
    )


def test_cli_not_a_sequence_model(registry, capsys):
    rc = _motifs(registry, "models:/plain@champion", registry["fasta"], "o2")
    assert rc == 2 and "not a sequence model" in _one_error_line(capsys)


def test_cli_alphabet_mismatch(registry, capsys):
    dna = registry["root"] / "dna.fa"
    dna.write_text("".join(f">s{i}\n{s.replace('U', 'T')}\n" for i, s in enumerate(registry["seqs"][:30])))
    rc = _motifs(registry, "models:/toy@champion", dna, "o3")
    line = _one_error_line(capsys)
    assert rc == 2 and "convert T to U" in line and "dna.fa" in line


def test_cli_unreadable_meme(registry, capsys):
    bad: Path = registry["root"] / "broken.meme"
    bad.write_text("this is not a motif file\n")
    rc = _motifs(registry, "models:/toy@champion", registry["fasta"], "o4", "--motif-db", str(bad))
    line = _one_error_line(capsys)
    assert rc == 2 and "broken.meme" in line and "no motifs found" in line
