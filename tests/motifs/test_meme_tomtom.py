"""MEME round trip, memelite compatibility, error paths, and Tomtom with RNA/DNA alphabets."""

from __future__ import annotations

import numpy as np
import pytest

from components.common.errors import InputError
from components.motifs.meme import Motif, information_content, read_meme, write_meme
from components.motifs.tomtom import bh_fdr, load_motif_db, run_tomtom


def _consensus_motif(cons: str, alphabet: str = "ACGU", mid: str = "q") -> Motif:
    pwm = np.full((len(cons), 4), 0.01)
    for i, c in enumerate(cons):
        pwm[i, alphabet.index(c)] = 0.97
    return Motif(mid, pwm, alphabet)


def test_meme_round_trip_and_memelite(tmp_path):
    rng = np.random.default_rng(1)
    motifs = [
        Motif(f"m{i}", rng.dirichlet(np.ones(4), size=5 + i), "ACGU", name=f"name{i}", nsites=10 * i)
        for i in range(3)
    ]
    path = write_meme(motifs, tmp_path / "x.meme")
    back = read_meme(path)
    assert [m.id for m in back] == ["m0", "m1", "m2"]
    assert [m.name for m in back] == ["name0", "name1", "name2"]
    assert back[2].nsites == 20 and back[0].alphabet == "ACGU"
    for a, b in zip(motifs, back, strict=True):
        np.testing.assert_allclose(a.pwm, b.pwm, atol=1e-6)
    # a second round trip is byte-identical
    assert write_meme(back, tmp_path / "y.meme").read_text() == path.read_text()
    from memelite.io import read_meme as mm_read

    mm = mm_read(str(path))
    assert list(mm) == ["m0 name0", "m1 name1", "m2 name2"]
    np.testing.assert_allclose(mm["m1 name1"], motifs[1].pwm.T, atol=1e-6)


def test_information_content_bounds():
    assert information_content(np.full((1, 4), 0.25))[0] == pytest.approx(0.0, abs=1e-9)
    assert information_content(np.array([[1.0, 0, 0, 0]]))[0] == pytest.approx(2.0, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no motifs"),
        ("hello world\n", "not a MEME file"),
        (
            "MEME version 4\nALPHABET= ACGU\nMOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.25 0.25 x 0.25\n",
            "not numeric",
        ),
        (
            "MEME version 4\nALPHABET= ACGU\nMOTIF a\nletter-probability matrix: alength= 4 w= 3\n0.25 0.25 0.25 0.25\n",
            "declares w= 3",
        ),
        (
            "MEME version 4\nALPHABET= ACGU\nMOTIF a\nletter-probability matrix: alength= 4 w= 1\n0.5 0.5 0.0\n",
            "3 columns",
        ),
    ],
)
def test_unreadable_meme_is_one_clear_error(tmp_path, text, reason):
    p = tmp_path / "bad.meme"
    p.write_text(text)
    with pytest.raises(InputError, match=reason) as exc:
        read_meme(p)
    assert "\n" not in exc.value.one_line() and "bad.meme" in exc.value.one_line()


def test_binary_file_and_missing_file(tmp_path):
    p = tmp_path / "bin.meme"
    p.write_bytes(b"\xff\xfe\x00\x81" * 20)
    with pytest.raises(InputError, match="not a text file"):
        read_meme(p)
    with pytest.raises(InputError, match="does not exist"):
        read_meme(tmp_path / "missing.meme")


def test_bh_fdr_matches_definition():
    p = np.array([0.01, 0.04, 0.03, 0.5, np.nan])
    q = bh_fdr(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert np.isnan(q[4])


def test_tomtom_pum_in_attract_for_rna_and_dna_queries():
    db = load_motif_db("attract")
    assert len(db) == 1194 and db[0].alphabet == "ACGU"
    rna = _consensus_motif("UGUAAAUA", "ACGU", "pum_rna")
    dna = _consensus_motif("TGTAAATA", "ACGT", "pum_dna")
    tt = run_tomtom([rna, dna], db, top_n=3)
    assert list(tt.columns[:5]) == ["query", "target", "target_name", "p_value", "q_value"]
    for q in ("pum_rna", "pum_dna"):
        best = tt[(tt["query"] == q) & (tt["rank"] == 1)].iloc[0]
        assert best["target_name"] in ("PUM1", "PUM2") and best["q_value"] < 0.05
        assert (tt[tt["query"] == q]["p_value"].diff().dropna() >= 0).all()  # ranked


def test_tomtom_alphabet_mismatch_is_clear():
    prot = Motif("p", np.full((3, 20), 0.05), "ACDEFGHIKLMNPQRSTVWY")
    with pytest.raises(InputError, match="does not match"):
        run_tomtom([_consensus_motif("UGUA")], [prot])


def test_jaspar_without_pyjaspar_is_clear():
    try:
        import pyjaspar  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match=r"dynamotif\[jaspar\]"):
            load_motif_db("jaspar")
    else:  # pragma: no cover - only with the extra installed
        assert load_motif_db("jaspar")[0].alphabet == "ACGT"
