"""RNA base exchange against ModeRNA's miR-125a variants (a subset; all 300 in the benchmark)."""

from __future__ import annotations

import numpy as np
import pytest

from components.mutation import Mutator, mutate, mutate_many, parse_variant
from components.mutation.geometry import dihedral
from components.mutation.io import load_structure
from components.mutation.nucleic import BASE_ATOMS
from tests.conftest import shared


@pytest.fixture(scope="module")
def wt():
    return load_structure(shared("mir125a", "mir125a_WT.pdb"))


def _res(arr, pos):
    return arr[arr.res_id == pos]


def _chi(res):
    names = res.atom_name.tolist()
    purine = "N9" in names
    order = ("O4'", "C1'", "N9", "C4") if purine else ("O4'", "C1'", "N1", "C2")
    return float(np.degrees(dihedral(*(res.coord[names.index(a)].astype(float) for a in order))))


def test_matches_moderna_subset(wt):
    files = sorted(shared("mir125a", "variants_sample").glob("mir125a_*.pdb"))[::20]
    assert len(files) == 15
    mutator = Mutator(wt)
    rmsd = []
    for f in files:
        text = f.stem.removeprefix("mir125a_")
        ((name, ours),) = mutate_many(mutator, [text])
        assert name == text  # DynaSig-ML naming round-trips
        theirs = load_structure(f)
        assert ours.array_length() == theirs.array_length()
        for m in parse_variant(text):
            a, b = _res(ours, m.position), _res(theirs, m.position)
            assert sorted(a.atom_name) == sorted(b.atom_name)
            bi = {n: i for i, n in enumerate(b.atom_name)}
            d2 = [np.sum((a.coord[i] - b.coord[bi[n]]) ** 2) for i, n in enumerate(a.atom_name)]
            rmsd.append(float(np.sqrt(np.mean(d2))))
    assert np.median(rmsd) <= 0.3
    assert max(rmsd) <= 1.0


def test_base_exchange_keeps_backbone_chi_and_pdb_order(wt):
    var = mutate(wt, "A12G;C74U;G13A")
    for pos, new in ((12, "G"), (74, "U"), (13, "A")):
        old_res, new_res = _res(wt, pos), _res(var, pos)
        assert set(new_res.res_name) == {new}
        sugar = [n for n in old_res.atom_name if n not in BASE_ATOMS["A"] + BASE_ATOMS["C"] + BASE_ATOMS["G"]]
        assert new_res.atom_name.tolist() == sugar + list(BASE_ATOMS[new])
        for n in sugar:  # backbone and sugar untouched
            np.testing.assert_array_equal(
                new_res.coord[new_res.atom_name == n], old_res.coord[old_res.atom_name == n]
            )
        assert abs((_chi(new_res) - _chi(old_res) + 180) % 360 - 180) < 5.0
        glyco = "N9" if new in "AG" else "N1"
        bond = np.linalg.norm(
            new_res.coord[new_res.atom_name == "C1'"] - new_res.coord[new_res.atom_name == glyco]
        )
        assert 1.40 < bond < 1.55
    untouched = ~np.isin(wt.res_id, [12, 13, 74])
    np.testing.assert_array_equal(var.coord[~np.isin(var.res_id, [12, 13, 74])], wt.coord[untouched])


def test_wild_type_row_and_cache_reuse(wt):
    mutator = Mutator(wt)
    out = dict(mutate_many(mutator, ["", "A12C", "A12C;C74A"]))
    assert set(out) == {"WT", "A12C", "A12C_C74A"}
    np.testing.assert_array_equal(out["WT"].coord, mutator.wt.coord)
    np.testing.assert_array_equal(_res(out["A12C"], 12).coord, _res(out["A12C_C74A"], 12).coord)


def test_signatures_close_to_moderna(wt):
    from components import encom

    for stem in ("mir125a_A12G", "mir125a_A12C_G13C_U75A_G76U"):
        f = shared("mir125a", "variants_sample", f"{stem}.pdb")
        ours = mutate(wt, stem.removeprefix("mir125a_"))
        a = encom.compute_signatures(ours, [1.0])
        b = encom.compute_signatures(f, [1.0])
        assert a.labels == b.labels
        assert np.corrcoef(a.entropic[0], b.entropic[0])[0, 1] >= 0.99


def test_ideal_geometry_file_matches_biotite_ccd():
    import biotite.structure.info as info

    from components.mutation.ideal import ideal_residue

    for name in ("G", "TRP"):
        comp = info.residue(name)
        comp = comp[comp.element != "H"]
        ours = ideal_residue(name)
        assert ours.atom_names == tuple(comp.atom_name)
        np.testing.assert_allclose(ours.coords, comp.coord, atol=1e-3)


def _ideal_single(res_name):
    """A one-residue structure made of the CCD ideal coordinates (chain D, residue 5)."""
    import biotite.structure as struc

    from components.mutation.ideal import ideal_residue

    ideal = ideal_residue(res_name)
    keep = [i for i, n in enumerate(ideal.atom_names) if n != "OP3"]
    arr = struc.AtomArray(len(keep))
    arr.coord = ideal.coords[keep]
    arr.atom_name = [ideal.atom_names[i] for i in keep]
    arr.element = [ideal.elements[i] for i in keep]
    arr.res_name[:] = res_name
    arr.res_id[:] = 5
    arr.chain_id[:] = "D"
    return arr


@pytest.mark.parametrize("old, text, new", [("DA", "A5T", "DT"), ("DC", "C5G", "DG"), ("U", "U5A", "A")])
def test_dna_and_rna_on_ideal_residues(old, text, new):
    from components.mutation.ideal import ideal_residue

    wt = _ideal_single(old)
    var = mutate(wt, text)
    assert set(var.res_name) == {new}
    assert [n for n in var.atom_name if n in BASE_ATOMS[new]] == list(BASE_ATOMS[new])
    # on an ideal residue the exchanged base lands on the ideal nucleotide of the new type
    ref = ideal_residue(new)
    c1 = var.coord[var.atom_name == "C1'"][0]
    for name in BASE_ATOMS[new]:
        got = np.linalg.norm(var.coord[var.atom_name == name][0] - c1)
        want = np.linalg.norm(ref.coords[ref.index(name)] - ref.coords[ref.index("C1'")])
        assert got == pytest.approx(want, abs=0.1), name
    with pytest.raises(Exception, match="unknown target residue 'U'" if old.startswith("D") else "'T'"):
        mutate(wt, f"{text[:-1]}{'U' if old.startswith('D') else 'T'}")
