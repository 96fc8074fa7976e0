"""Parsing, beads and every bad-input path a user can hit."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

from components.common.errors import DynamotifWarning, InputError
from components.encom import compute_signatures, read_structure
from components.encom.beads import build_beads
from components.encom.params import PARAMETER_SETS
from tests.conftest import shared
from tests.encom._golden import DATA

P = PARAMETER_SETS["nrgten-1.2.9"]
FRAG = DATA / "rna_fragment.pdb"


def _atom_lines(path=FRAG):
    return [ln for ln in path.read_text().splitlines() if ln.startswith("ATOM")]


def _write(tmp_path, lines, name="x.pdb"):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\nEND\n")
    return p


def _sig(path, **kw):
    return compute_signatures(path, betas=[1.0], **kw)


def test_not_a_structure_file(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\nthis is not a structure\n")
    with pytest.raises(InputError, match="not a structure file"):
        read_structure(p)
    with pytest.raises(InputError, match="does not exist"):
        read_structure(tmp_path / "missing.pdb")
    with pytest.raises(InputError, match="directory"):
        read_structure(tmp_path)


def test_empty_file_and_no_atoms(tmp_path):
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_structure(empty)
    header_only = tmp_path / "header.pdb"
    header_only.write_text("HEADER    NOTHING\nREMARK no atoms here\nEND\n")
    with pytest.raises(InputError, match="no ATOM/HETATM records"):
        read_structure(header_only)
    only_h = _write(tmp_path, [ln for ln in _atom_lines() if ln[12:16].strip() == "C1'"][:1])
    only_h.write_text(only_h.read_text().replace(" C1'", " H1'").replace("C  \n", "H  \n"))
    with pytest.raises(InputError, match="only hydrogens"):
        read_structure(only_h)


def test_unknown_residue_names_error_and_skip(tmp_path):
    lines = _atom_lines()
    water = "HETATM 9999  O   HOH W 101      10.000  10.000  10.000  1.00  0.00           O  "
    p = _write(tmp_path, lines + [water])
    with pytest.raises(InputError) as err:
        _sig(p)
    msg = str(err.value)
    assert "HOH" in msg and "101" in msg and "'W'" in msg and f"line {len(lines) + 1}" in msg
    with pytest.warns(DynamotifWarning, match="HOH"):
        res = _sig(p, skip_unknown=True)
    np.testing.assert_allclose(res.entropic, _sig(FRAG).entropic, rtol=1e-12)


def test_missing_atoms_follow_nrgten_bead_skipping(tmp_path):
    lines = _atom_lines()
    ref = _sig(FRAG)
    # the P bead of residue 3 without its P atom keeps OP1, OP2, O5' and the moved O3' (> 2 atoms): error
    no_p = [ln for ln in lines if not (ln[12:16].strip() == "P" and int(ln[22:26]) == 3)]
    with pytest.raises(InputError, match=r"missing centre atom 'P'.*G 3|missing centre atom 'P'"):
        _sig(_write(tmp_path, no_p))
    # ... but with at most 2 atoms left (here O5' and OP1 only) the bead is skipped, as NRGTEN does
    drop = {"P", "OP2", "O3'"}
    skipped = [
        ln
        for ln in lines
        if not (
            (ln[12:16].strip() in {"P", "OP2"} and int(ln[22:26]) == 3)
            or (ln[12:16].strip() == "O3'" and int(ln[22:26]) == 2)
        )
    ]
    assert drop
    res = _sig(_write(tmp_path, skipped, "skip.pdb"))
    assert len(res.labels) == len(ref.labels) - 1
    assert not any(lab.startswith("P|3|") for lab in res.labels)
    # a missing base centre C2 with the rest of the base present: error naming the residue
    no_c2 = [ln for ln in lines if not (ln[12:16].strip() == "C2" and int(ln[22:26]) == 5)]
    with pytest.raises(InputError, match="C2"):
        _sig(_write(tmp_path, no_c2, "noc2.pdb"))


def test_protein_without_ca_is_rejected(tmp_path):
    src = shared("nrgten_test_structures", "test_medium.pdb")
    lines = [ln for ln in src.read_text().splitlines() if ln.startswith("ATOM")]
    no_ca = [ln for ln in lines if not (ln[12:16].strip() == "CA" and int(ln[22:26]) == 93)]
    with pytest.raises(InputError, match="'CA'.*93"):
        _sig(_write(tmp_path, no_ca))


def test_alternate_locations_first_wins(tmp_path):
    lines = _atom_lines()
    out = []
    for ln in lines:
        if int(ln[22:26]) == 4 and ln[12:16].strip() in {"N1", "C2", "C1'"}:
            a = ln[:16] + "A" + ln[17:]
            moved = f"{float(ln[30:38]) + 0.8:8.3f}"
            b = ln[:16] + "B" + ln[17:30] + moved + ln[38:]
            out += [a, b]
        else:
            out.append(ln)
    res = _sig(_write(tmp_path, out))
    np.testing.assert_allclose(res.entropic, _sig(FRAG).entropic, rtol=1e-12)
    # the moved B records listed first: B wins for the whole residue
    swapped = list(out)
    for k in range(len(swapped) - 1):
        if swapped[k][16] == "A" and swapped[k + 1][16] == "B":
            swapped[k], swapped[k + 1] = swapped[k + 1], swapped[k]
    res_b = _sig(_write(tmp_path, swapped, "b.pdb"))
    assert not np.allclose(res_b.entropic, res.entropic)


def test_hydrogens_are_ignored(tmp_path):
    lines = _atom_lines()
    with_h = []
    for k, ln in enumerate(lines):
        with_h.append(ln)
        if ln[12:16].strip() == "C1'":
            with_h.append(
                f"ATOM  {9000 + k:5d}  H1'"
                + ln[16:30]
                + f"{float(ln[30:38]) + 1.0:8.3f}"
                + ln[38:76]
                + " H  "
            )
            with_h.append(
                f"ATOM  {9500 + k:5d} 1H2 "
                + ln[16:30]
                + f"{float(ln[30:38]) - 1.0:8.3f}"
                + ln[38:76]
                + " H  "
            )
    atoms = read_structure(_write(tmp_path, with_h))
    assert atoms.array_length() == len(lines)
    np.testing.assert_allclose(_sig(tmp_path / "x.pdb").entropic, _sig(FRAG).entropic, rtol=1e-12)


def test_fast_reader_equals_biotite_reader(tmp_path):
    gz = tmp_path / "frag.pdb.gz"
    gz.write_bytes(gzip.compress(FRAG.read_bytes()))
    for path in (FRAG, DATA / "rna_two_chains.pdb", gz):
        a, b = read_structure(path), read_structure(path, fast=False)
        for cat in b.get_annotation_categories():
            np.testing.assert_array_equal(a.get_annotation(cat), b.get_annotation(cat))
        np.testing.assert_array_equal(a.coord, b.coord)


def test_mmcif_and_atomarray_inputs_equal_pdb(tmp_path):
    from biotite.structure.io import pdbx

    atoms = read_structure(FRAG)
    cif = pdbx.CIFFile()
    pdbx.set_structure(cif, atoms)
    path = tmp_path / "frag.cif"
    cif.write(path)
    ref = _sig(FRAG)
    np.testing.assert_allclose(_sig(path).entropic, ref.entropic, rtol=1e-12)
    np.testing.assert_allclose(_sig(atoms).entropic, ref.entropic, rtol=1e-12)
    assert _sig(path).labels == ref.labels


def test_bead_model_of_fragment():
    beads = build_beads(read_structure(FRAG), P)
    # 8 nucleotides x 3 beads, minus the P bead of nucleotide 1
    assert beads.n_beads == 23
    assert beads.labels[:4] == ["U.S|1|A|1", "U.B|1|A|1", "G.P|2|A|2", "G.S|2|A|2"]
    # the O3' of nucleotide 1 belongs to the P bead of nucleotide 2; the last O3' is dropped
    o3 = beads.atom_name == "O3'"
    assert np.all(np.array([beads.labels[b].split(".")[1][0] for b in beads.atom_bead[o3]]) == "P")
    assert o3.sum() == 7


def test_bad_arguments():
    with pytest.raises(InputError, match="unknown ENCoM parameter set"):
        compute_signatures(FRAG, params="nope")
    with pytest.raises(InputError, match="betas"):
        compute_signatures(FRAG, betas=[-1.0])
    with pytest.raises(TypeError):
        compute_signatures(12345)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_signatures(FRAG, betas=[20.0])  # float_power overflow stays silent
