"""Protein side-chain replacement: ideal bonds, no clashes, rotamer fallbacks (subset of the benchmark)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from components.common.errors import DynamotifWarning
from components.mutation import Mutator
from components.mutation.checks import check_side_chain
from components.mutation.geometry import dihedral, place_atom
from components.mutation.io import load_structure
from components.mutation.variants import AMINO_ACIDS_1TO3, residue_kind
from tests.conftest import shared


def _random_mutants(mutator, n, rng):
    residues = []
    for s in np.unique(mutator.wt.res_id, return_index=True)[1]:
        kind = residue_kind(str(mutator.wt.res_name[s]))
        residues.append((int(mutator.wt.res_id[s]), kind[1]))
    out = []
    for _ in range(n):
        pos, wt = residues[rng.integers(len(residues))]
        out.append(f"{wt}{pos}{rng.choice([a for a in AMINO_ACIDS_1TO3 if a != wt])}")
    return out


def _check(mutator, text):
    (v,), bad = mutator.validate([text])
    assert not bad
    mu = v.mutations[0]
    arr = mutator.build(v.mutations)
    had_cb = "CB" in mutator.residue((mu.chain, mu.position, mu.ins_code)).atom_name
    return arr, check_side_chain(arr, mu, wt_had_cb=had_cb)


@pytest.mark.parametrize("stem, n", [("closed_clean", 8), ("open_clean", 8), ("test_medium", 12)])
def test_random_point_mutants_ideal_and_clash_free(stem, n):
    """Ideal bonds always; no clash < 2.2 A unless the fixed backbone forbids it, which is flagged.

    (Example of the latter: G96P of the peptide, a glycine with a positive phi; the benchmark
    reports how often it happens on 150 mutants.)
    """
    mutator = Mutator(load_structure(shared("nrgten_test_structures", f"{stem}.pdb")))
    rng = np.random.default_rng(3)
    flagged = 0
    for text in _random_mutants(mutator, n, rng):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DynamotifWarning)
            arr, c = _check(mutator, text)
        warned = any(issubclass(w.category, DynamotifWarning) for w in caught)
        assert c.max_bond_deviation <= 0.05, text
        assert (c.min_distance >= 2.2) != warned, text
        flagged += warned
        target = AMINO_ACIDS_1TO3[text[-1]]
        res = arr[arr.res_id == int(text[1:-1])]
        assert set(res.res_name) == {target}
        assert res.atom_name[:4].tolist() == ["N", "CA", "C", "O"]
    assert flagged <= n // 8


def test_every_amino_acid_builds_with_all_ccd_atoms():
    from components.mutation.ideal import ideal_residue

    mutator = Mutator(load_structure(shared("nrgten_test_structures", "test_medium.pdb")))
    for letter, name in AMINO_ACIDS_1TO3.items():
        if letter == "Q":
            continue  # residue 94 is GLN (SLNQYGKD, 91-98)
        arr, c = _check(mutator, f"Q94{letter}")
        res = arr[arr.res_id == 94]
        expected = [a for a in ideal_residue(name).atom_names if a != "OXT"]
        assert sorted(res.atom_name) == sorted(expected), name
        assert c.max_bond_deviation <= 0.05, name


def test_repacks_a_clashing_neighbour():
    # P at open_clean L58: every closed pucker hits Glu239's side chain, which is rebuilt
    mutator = Mutator(load_structure(shared("nrgten_test_structures", "open_clean.pdb")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamotifWarning)
        arr, c = _check(mutator, "L58P")
    assert c.min_distance >= 2.2 and c.max_bond_deviation <= 0.05
    wt239 = mutator.wt[mutator.wt.res_id == 239]
    new239 = arr[arr.res_id == 239]
    assert set(new239.res_name) == {"GLU"} and sorted(new239.atom_name) == sorted(wt239.atom_name)
    assert not np.allclose(new239.coord, wt239.coord)
    others = ~np.isin(arr.res_id, [58, 239])
    np.testing.assert_array_equal(arr.coord[others], mutator.wt.coord[~np.isin(mutator.wt.res_id, [58, 239])])
    _, c239 = _check_residue(arr, "E239E")
    assert c239.min_distance >= 2.2


def _check_residue(arr, text):
    from components.mutation.variants import Mutation

    mu = Mutation("A", int(text[1:-1]), "", text[0], text[-1])
    return arr, check_side_chain(arr, mu)


def test_warns_when_the_fixed_backbone_forbids_it():
    # Pro inside a helix: CD hits the carbonyl O of residue i-4 whatever the pucker
    mutator = Mutator(load_structure(shared("nrgten_test_structures", "closed_clean.pdb")))
    with pytest.warns(DynamotifWarning, match="no clash-free rotamer"):
        _arr, c = _check(mutator, "E335P")
    assert c.max_bond_deviation <= 0.05


def test_place_atom_inverts_internal_coordinates():
    rng = np.random.default_rng(0)
    p = rng.normal(size=(4, 3))
    bond = float(np.linalg.norm(p[3] - p[2]))
    ang = float(np.arccos(np.dot(p[3] - p[2], p[1] - p[2]) / bond / np.linalg.norm(p[1] - p[2])))
    phi = float(dihedral(p[3], p[2], p[1], p[0]))
    np.testing.assert_allclose(place_atom(p[2], p[1], p[0], bond, ang, phi), p[3], atol=1e-9)


def test_neighbouring_mutations_are_placed_together():
    mutator = Mutator(load_structure(shared("nrgten_test_structures", "test_medium.pdb")))
    (v,), bad = mutator.validate(["Y95W;Q94F"])
    assert not bad and v.name == "Q94F_Y95W"
    arr = mutator.build(v.mutations)
    for mu in v.mutations:
        c = check_side_chain(arr, mu)
        assert c.max_bond_deviation <= 0.05 and c.min_distance >= 2.2, str(mu)
    assert arr[arr.res_id == 94].res_name[0] == "PHE" and arr[arr.res_id == 95].res_name[0] == "TRP"
