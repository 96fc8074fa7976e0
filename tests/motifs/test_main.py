"""``python -m components.motifs`` (the ``motifs`` image's entry point): file in, files out."""

from components.motifs.__main__ import main
from components.seqmodels.__main__ import main as train_main
from tests.seqmodels.test_training import TINY
from tests.seqmodels.toy import binary_fastas


def test_trains_then_interprets_a_local_bundle(tmp_path, capsys):
    import json

    pos, neg = binary_fastas(tmp_path, n=50, length=20)
    data = [f"bound={pos}", f"unbound={neg}"]
    args = ["--data", *data, "--epochs", "2", "--params", json.dumps(TINY), "--out-dir", str(tmp_path / "m")]
    assert train_main(args) == 0
    out = tmp_path / "motifs"
    rc = main(
        ["--model", str(tmp_path / "m"), "--data", *data, "--out-dir", str(out), "--attribution", "none"]
    )
    assert rc == 0, capsys.readouterr().err
    assert {"motifs.meme", "kernels.tsv", "report.html", "metrics.json"} <= {p.name for p in out.iterdir()}
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["n_kernels"] == TINY["kernel_num"]


def test_errors_are_one_line(tmp_path, capsys):
    rc = main(["--model", str(tmp_path), "--data", "x.fa", "--out-dir", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err == f"error: {tmp_path}: not a sequence model: no bundle.json in the folder"
    assert not (tmp_path / "o").exists()
