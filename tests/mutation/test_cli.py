"""``dynamotif mutate`` and ``python -m components.mutation``: outputs, naming, bad rows, atomicity."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from components.mutation.io import load_structure
from flows.cli import main
from tests.conftest import REPO, shared

BAD_ROWS = {
    2: ("G12C", "wild-type letter G does not match residue 12 of chain A, which is A"),
    3: ("A200C", "residue 200 (A200C) is not in the structure"),
    4: ("A12X", "unknown target residue 'X'"),
    5: ("A12C;A12G", "two mutations at one residue"),
    6: ("A12", "malformed"),
}


def _table(tmp_path, rows, column="variant"):
    path = tmp_path / "variants.csv"
    pd.DataFrame({column: rows}).to_csv(path, index=False)
    return path


def test_writes_one_pdb_per_variant_with_dynasig_names(tmp_path):
    wt = shared("mir125a", "mir125a_WT.pdb")
    table = _table(tmp_path, ["C74A;A12C", "A12G", None], column="mutations")
    out = tmp_path / "out"
    rc = main(["mutate", "--structure", str(wt), "--variants", str(table), "--out-dir", str(out)])
    assert rc == 0
    names = sorted(p.name for p in out.glob("*.pdb"))
    assert names == ["mir125a_A12C_C74A.pdb", "mir125a_A12G.pdb", "mir125a_WT.pdb"]
    v = load_structure(out / "mir125a_A12C_C74A.pdb")
    assert v[v.res_id == 12].res_name[0] == "C" and v[v.res_id == 74].res_name[0] == "A"
    assert (out / "metrics.json").exists() and (out / "params.json").exists()
    assert not (out / "rejected.csv").exists()


def test_all_bad_rows_listed_exit_2_nothing_written(tmp_path, capsys):
    wt = shared("mir125a", "mir125a_WT.pdb")
    rows = ["A12C"] + [BAD_ROWS[r][0] for r in sorted(BAD_ROWS)]
    out = tmp_path / "out"
    rc = main(
        ["mutate", "--structure", str(wt), "--variants", str(_table(tmp_path, rows)), "--out-dir", str(out)]
    )
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "5 invalid variant(s)" in err
    for row, (text, reason) in BAD_ROWS.items():
        assert f"row {row} ({text!r}): " in err and reason in err
    assert not out.exists()


def test_skip_invalid_writes_good_rows_and_rejected_csv(tmp_path):
    wt = shared("mir125a", "mir125a_WT.pdb")
    rows = ["A12C"] + [BAD_ROWS[r][0] for r in sorted(BAD_ROWS)]
    out = tmp_path / "out"
    table = _table(tmp_path, rows)
    args = ["--structure", str(wt), "--variants", str(table), "--out-dir", str(out), "--skip-invalid"]
    assert main(["mutate", *args]) == 0
    assert sorted(p.name for p in out.glob("*.pdb")) == ["mir125a_A12C.pdb"]
    rejected = pd.read_csv(out / "rejected.csv")
    assert rejected["row"].tolist() == sorted(BAD_ROWS)
    for _, r in rejected.iterrows():
        assert r["variant"] == BAD_ROWS[r["row"]][0] and BAD_ROWS[r["row"]][1] in r["reason"]


def test_column_option_and_missing_column(tmp_path, capsys):
    wt = shared("mir125a", "mir125a_WT.pdb")
    table = _table(tmp_path, ["A12C"], column="muts")
    out = tmp_path / "out"
    assert main(["mutate", "--structure", str(wt), "--variants", str(table), "--out-dir", str(out)]) == 2
    assert "no variant column" in capsys.readouterr().err
    args = ["--structure", str(wt), "--variants", str(table), "--out-dir", str(out), "--column", "muts"]
    assert main(["mutate", *args]) == 0
    assert (out / "mir125a_A12C.pdb").exists()


def test_python_dash_m_entrypoint(tmp_path):
    pdb = shared("nrgten_test_structures", "test_medium.pdb")
    table = _table(tmp_path, ["A:Q94W", "K97R;S91A", "Y95F", "W94Q"])
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "components.mutation", "--structure", str(pdb), "--variants", str(table)]
    r = subprocess.run(
        [*cmd, "--out-dir", str(out), "--skip-invalid"], cwd=REPO, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.glob("*.pdb")) == [
        "test_medium_Q94W.pdb",
        "test_medium_S91A_K97R.pdb",
        "test_medium_Y95F.pdb",
    ]
    assert pd.read_csv(out / "rejected.csv")["row"].tolist() == [4]
    r = subprocess.run([*cmd, "--out-dir", str(tmp_path / "out2")], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "row 4 ('W94Q'): wild-type letter W" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "out2").exists()
