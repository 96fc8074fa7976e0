"""Batch API: process pool, chunked resumable outputs, label checks; CLI round trips."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import components.encom.batch as batch_mod
from components.common.errors import DynamotifError, DynamotifWarning, InputError
from components.encom import compute_signatures, compute_signatures_batch, read_structure
from flows.cli import main as dynamotif
from tests.conftest import REPO
from tests.encom._golden import DATA

FRAG = DATA / "rna_fragment.pdb"
BETAS = [0.5, 1.0, 2.0]


@pytest.fixture
def three_files(tmp_path):
    """Three distinct structures with the same beads: the fragment, and two slightly shifted copies."""
    paths = []
    lines = FRAG.read_text().splitlines()
    for k in range(3):
        out = []
        for ln in lines:
            if ln.startswith("ATOM") and k and ln[12:16].strip() == "N3":
                ln = ln[:30] + f"{float(ln[30:38]) + 0.05 * k:8.3f}" + ln[38:]
            out.append(ln)
        p = tmp_path / f"s{k}.pdb"
        p.write_text("\n".join(out) + "\n")
        paths.append(p)
    return paths


def test_batch_long_table_matches_single_calls(three_files, tmp_path):
    df = compute_signatures_batch(three_files, BETAS, msf=True, jobs=2, chunk_size=2, progress=False)
    assert list(df.columns) == ["structure", "beta", "bead", "value"]
    assert df["structure"].unique().tolist() == ["s0.pdb", "s1.pdb", "s2.pdb"]
    for p in three_files:
        res = compute_signatures(p, BETAS, msf=True)
        sub = df[df["structure"] == p.name]
        got = sub[sub["beta"].notna()]["value"].to_numpy().reshape(len(BETAS), -1)
        np.testing.assert_array_equal(got, res.entropic)
        np.testing.assert_array_equal(sub[sub["beta"].isna()]["value"].to_numpy(), res.msf)
        assert sub["bead"].iloc[: len(res.labels)].tolist() == res.labels
    # distinct inputs give distinct numbers
    a, b = (df[df["structure"] == n]["value"].to_numpy() for n in ("s0.pdb", "s1.pdb"))
    assert not np.allclose(a, b)


def test_batch_atomarray_items_and_duplicate_names(three_files):
    atoms = read_structure(three_files[0])
    df = compute_signatures_batch([("wt", atoms), ("copy", three_files[0])], [1.0], progress=False)
    v = df.pivot_table(index="bead", columns="structure", values="value", observed=True)
    np.testing.assert_array_equal(v["wt"], v["copy"])
    with pytest.raises(InputError, match="appears twice"):
        compute_signatures_batch([three_files[0], three_files[0]], [1.0], progress=False)


def test_batch_rejects_disagreeing_bead_labels(three_files, tmp_path):
    other = tmp_path / "renumbered.pdb"
    other.write_text(
        "\n".join(
            ln[:22] + f"{int(ln[22:26]) + 100:4d}" + ln[26:] if ln.startswith("ATOM") else ln
            for ln in FRAG.read_text().splitlines()
        )
    )
    for jobs, size in ((1, 10), (2, 1)):
        with pytest.raises(InputError, match="bead labels differ") as err:
            compute_signatures_batch(
                [three_files[0], other], [1.0], jobs=jobs, chunk_size=size, progress=False
            )
        assert "renumbered.pdb" in str(err.value)


def test_batch_resumes_finished_chunks(three_files, tmp_path, monkeypatch):
    chunks = tmp_path / "chunks"
    first = compute_signatures_batch(three_files, BETAS, out=chunks, chunk_size=1, progress=False)
    files = sorted(chunks.glob("chunk_*.parquet"))
    assert len(files) == 3 and (chunks / "manifest.json").exists()
    # a crash after two chunks: remove the last one, rerun, only that structure is recomputed
    files[-1].unlink()
    calls = []
    real = batch_mod.compute_signatures
    monkeypatch.setattr(
        batch_mod, "compute_signatures", lambda s, *a, **k: calls.append(s) or real(s, *a, **k)
    )
    again = compute_signatures_batch(three_files, BETAS, out=chunks, chunk_size=1, progress=False)
    assert [os.path.basename(c) for c in map(str, calls)] == ["s2.pdb"]
    pd.testing.assert_frame_equal(first, again)
    meta = json.loads((chunks / "manifest.json").read_text())
    assert meta["params"]["name"] == "nrgten-1.2.9" and meta["betas"] == BETAS
    with pytest.raises(InputError, match="other settings"):
        compute_signatures_batch(three_files, [1.0], out=chunks, chunk_size=1, progress=False)


def test_batch_bad_structure_names_the_file(three_files, tmp_path):
    bad = tmp_path / "bad.pdb"
    bad.write_text("garbage\n")
    with pytest.raises(InputError, match="bad.pdb"):
        compute_signatures_batch([three_files[0], bad], [1.0], progress=False)


def test_cli_round_trip_csv_and_parquet(three_files, tmp_path, capsys):
    out_csv = tmp_path / "sig.csv"
    rc = dynamotif(
        [
            "signatures",
            *map(str, three_files),
            "--beta",
            "0.5,1,2",
            "--msf",
            "--out",
            str(out_csv),
            "--no-progress",
        ]
    )
    assert rc == 0, capsys.readouterr().err
    df = pd.read_csv(out_csv)
    assert list(df.columns) == ["structure", "beta", "bead", "value"]
    assert df["beta"].isna().sum() == 3 * 23
    params = json.loads((tmp_path / "sig.csv.params.json").read_text())
    assert params["params"]["name"] == "nrgten-1.2.9" and params["n_structures"] == 3
    assert not (tmp_path / ".sig.csv.chunks").exists()
    out_pq = tmp_path / "sig.parquet"
    rc = dynamotif(
        [
            "signatures",
            *map(str, three_files),
            "--beta",
            "0.5,1,2",
            "--msf",
            "--jobs",
            "2",
            "--chunk-size",
            "1",
            "--out",
            str(out_pq),
            "--no-progress",
        ]
    )
    assert rc == 0
    pq = pd.read_parquet(out_pq)
    np.testing.assert_allclose(pq["value"].to_numpy(), df["value"].to_numpy(), rtol=1e-15)
    import pyarrow.parquet as papq

    meta = json.loads(papq.read_schema(out_pq).metadata[b"dynamotif.encom"])
    assert meta["params"]["interact_const"] == 3.0


def test_cli_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("no atoms here\n")
    rc = dynamotif(["signatures", str(bad), "--out", str(tmp_path / "o.csv"), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and "not a structure file" in err and len(err.strip().splitlines()) == 1
    rc = dynamotif(["signatures", str(FRAG), "--beta", "1,abc", "--out", str(tmp_path / "o.csv")])
    assert rc == 2 and "abc" in capsys.readouterr().err
    rc = dynamotif(["signatures", str(FRAG), "--params", "nope", "--out", str(tmp_path / "o.csv")])
    assert rc == 2 and "nope" in capsys.readouterr().err


def test_component_entry_point(tmp_path):
    src = tmp_path / "in.pdb"
    shutil.copy(FRAG, src)
    out = tmp_path / "o.parquet"
    from components.encom.cli import main as component_main

    assert component_main([str(src), "--beta", "1", "--out", str(out), "--no-progress"]) == 0
    assert len(pd.read_parquet(out)) == 23
    proc = subprocess.run(
        [sys.executable, "-m", "components.encom", str(tmp_path / "missing.pdb"), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_batch_skip_failed_goes_on_and_names_the_structure(three_files, tmp_path):
    bad = tmp_path / "bad.pdb"
    bad.write_text("garbage\n")
    items = [three_files[0], bad, three_files[1]]
    with pytest.warns(DynamotifWarning, match=r"skipped .*bad\.pdb"):
        df = compute_signatures_batch(items, [1.0], chunk_size=2, progress=False, skip_failed=True)
    assert df["structure"].unique().tolist() == ["s0.pdb", "s1.pdb"]
    assert list(df.attrs["failed"]) == ["bad.pdb"]
    with pytest.warns(DynamotifWarning), pytest.raises(DynamotifError, match="every structure failed"):
        compute_signatures_batch([bad], [1.0], progress=False, skip_failed=True)


def test_cli_skip_failed(three_files, tmp_path, capsys):
    bad = tmp_path / "bad.pdb"
    bad.write_text("garbage\n")
    out = tmp_path / "sig.csv"
    args = ["signatures", str(three_files[0]), str(bad), "--beta", "1", "--out", str(out), "--no-progress"]
    assert dynamotif(args) == 2
    assert "bad.pdb" in capsys.readouterr().err and not out.exists()
    with pytest.warns(DynamotifWarning):
        assert dynamotif([*args, "--skip-failed"]) == 0
    assert "1 skipped: bad.pdb" in capsys.readouterr().out
    assert pd.read_csv(out)["structure"].unique().tolist() == ["s0.pdb"]
    params = json.loads((tmp_path / "sig.csv.params.json").read_text())
    assert params["n_structures"] == 1 and "bad.pdb" in params["failed"]


def test_batch_chunks_are_keyed_by_content(three_files, tmp_path, monkeypatch):
    """A structure edited in place (same name) is recomputed; an unchanged one is not."""
    chunks = tmp_path / "chunks"
    compute_signatures_batch(three_files, BETAS, out=chunks, chunk_size=1, progress=False)
    text = three_files[1].read_text()
    three_files[1].write_text(three_files[2].read_text())  # s1.pdb now holds s2's coordinates
    calls = []
    real = batch_mod.compute_signatures
    monkeypatch.setattr(
        batch_mod, "compute_signatures", lambda s, *a, **k: calls.append(s) or real(s, *a, **k)
    )
    again = compute_signatures_batch(three_files, BETAS, out=chunks, chunk_size=1, progress=False)
    assert [os.path.basename(str(c)) for c in calls] == ["s1.pdb"]
    s1 = again[again.structure == "s1.pdb"].value.to_numpy()
    s2 = again[again.structure == "s2.pdb"].value.to_numpy()
    np.testing.assert_array_equal(s1, s2)
    assert text != three_files[1].read_text()
