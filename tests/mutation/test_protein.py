"""Protein side-chain replacement: ideal bonds, no clashes, rotamer fallbacks (subset of the benchmark)."""

from __future__ import annotations

import warnings

import biotite.structure as struc
import numpy as np
import pytest

from components.common.errors import DynamotifWarning
from components.mutation import Mutator, protein
from components.mutation.checks import check_moved_atoms, check_side_chain
from components.mutation.geometry import dihedral, place_atom
from components.mutation.ideal import ideal_residue
from components.mutation.io import load_structure
from components.mutation.protein import side_chain_template
from components.mutation.relax import local_topology, relax_coordinates
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


def _assert_relaxed(mutator, arr, text):
    """Clash-free, ideal bonds, and only a small local backbone move (relaxation, not repacking only)."""
    (v,), _ = mutator.validate([text])
    mu = v.mutations[0]
    had_cb = "CB" in mutator.residue((mu.chain, mu.position, mu.ins_code)).atom_name
    c = check_side_chain(arr, mu, wt_had_cb=had_cb)
    assert c.min_distance >= 2.2 and c.max_bond_deviation <= 0.05, c
    moved = check_moved_atoms(mutator.wt, arr, mu)
    assert moved.n_moved > 0 and moved.min_distance >= 2.2, moved
    assert 0.0 < moved.backbone_rmsd < 0.5, moved
    assert all(
        abs(r - mu.position) <= 12 or _ca_distance(mutator.wt, r, mu.position) < 20 for _, r in moved.residues
    )
    # every residue that changed keeps ideal (rebuilt) or wild-type (relaxed) bond lengths
    for chain, r in moved.residues:
        res = arr[(arr.chain_id == chain) & (arr.res_id == r)]
        wt_res = mutator.wt[(mutator.wt.chain_id == chain) & (mutator.wt.res_id == r)]
        ideal = ideal_residue(str(res.res_name[0]))
        for i, j in ideal.bonds:
            a, b = ideal.atom_names[i], ideal.atom_names[j]
            if a in res.atom_name and b in res.atom_name:
                d = np.linalg.norm(res.coord[res.atom_name == a][0] - res.coord[res.atom_name == b][0])
                refs = [np.linalg.norm(ideal.coords[i] - ideal.coords[j])]
                if a in wt_res.atom_name and b in wt_res.atom_name and res.res_name[0] == wt_res.res_name[0]:
                    refs.append(
                        np.linalg.norm(
                            wt_res.coord[wt_res.atom_name == a][0] - wt_res.coord[wt_res.atom_name == b][0]
                        )
                    )
                assert min(abs(d - ref) for ref in refs) <= 0.05, (r, a, b, d, refs)
    return moved


def _ca_distance(wt, r1, r2):
    ca = wt[wt.atom_name == "CA"]
    return float(np.linalg.norm(ca.coord[ca.res_id == r1][0] - ca.coord[ca.res_id == r2][0]))


def test_relaxes_proline_inside_a_helix():
    # Pro at closed_clean E335: CD hits the carbonyl O of residue 331 (i-4) whatever the pucker; the
    # local backbone (i-1..i+1, the carbonyl's peptide) moves a little and the clash goes
    mutator = Mutator(load_structure(shared("nrgten_test_structures", "closed_clean.pdb")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamotifWarning)
        arr, _ = _check(mutator, "E335P")
    moved = _assert_relaxed(mutator, arr, "E335P")
    assert ("A", 331) in moved.residues and ("A", 335) in moved.residues
    far = ~np.isin(arr.res_id, [r for _, r in moved.residues])
    np.testing.assert_array_equal(
        arr.coord[far], mutator.wt.coord[~np.isin(mutator.wt.res_id, [r for _, r in moved.residues])]
    )


def test_relaxes_a_rebuilt_cb_of_a_wild_type_glycine():
    # G404Y of open_clean: the new CB itself is too close to its neighbours on the fixed backbone
    mutator = Mutator(load_structure(shared("nrgten_test_structures", "open_clean.pdb")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamotifWarning)
        arr, _ = _check(mutator, "G404Y")
    _assert_relaxed(mutator, arr, "G404Y")


def _peptide_with_waters(offsets, beyond=0.0):
    """test_medium (8 residues) + waters at the would-be CB of Gly96 shifted by ``offsets`` (Å)

    and by ``beyond`` Å along CA->CB."""
    wt = load_structure(shared("nrgten_test_structures", "test_medium.pdb"))
    res = wt[wt.res_id == 96]
    x = {a: res.coord[res.atom_name == a][0].astype(np.float64) for a in ("N", "CA", "C")}
    t = side_chain_template("ALA")
    cb = place_atom(x["CA"], x["N"], x["C"], *t.cb)
    cb = cb + beyond * (cb - x["CA"]) / np.linalg.norm(cb - x["CA"])
    water = struc.AtomArray(len(offsets))
    for cat in wt.get_annotation_categories():
        value = wt.get_annotation(cat)[0]
        water.set_annotation(cat, np.full(len(offsets), value, dtype=wt.get_annotation(cat).dtype))
    water.coord = (cb + np.asarray(offsets, dtype=np.float64)).astype(np.float32)
    water.res_name[:] = "HOH"
    water.atom_name[:] = "O"
    water.element[:] = "O"
    water.hetero[:] = True
    water.res_id = np.arange(900, 900 + len(offsets))
    return Mutator(wt + water)


def test_a_clashing_rebuilt_cb_is_seen_and_relaxed():
    # one water 1.9 A beyond the new CB: Ala has no atom after CB, yet the clash must be found
    mutator = _peptide_with_waters([[0.0, 0.0, 0.0]], beyond=1.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DynamotifWarning)
        arr, c = _check(mutator, "G96A")
    assert c.min_distance >= 2.2 and c.max_bond_deviation <= 0.05
    moved = check_moved_atoms(mutator.wt, arr, _check_mutation(mutator, "G96A"))
    assert moved.min_distance >= 2.2 and moved.max_bond_change <= 0.05


def _check_mutation(mutator, text):
    (v,), _ = mutator.validate([text])
    return v.mutations[0]


def test_warns_when_even_the_relaxation_cannot_remove_the_clash():
    # a cluster of seven waters on the would-be CB: nothing local can make room
    cage = [[0, 0, 0], [1.2, 0, 0], [-1.2, 0, 0], [0, 1.2, 0], [0, -1.2, 0], [0, 0, 1.2], [0, 0, -1.2]]
    mutator = _peptide_with_waters(cage)
    with pytest.warns(DynamotifWarning, match="no clash-free rotamer .* nor after a local relaxation"):
        arr, c = _check(mutator, "G96A")
    moved = check_moved_atoms(mutator.wt, arr, _check_mutation(mutator, "G96A"))
    assert min(c.min_distance, moved.min_distance) < 2.2
    assert c.max_bond_deviation <= 0.05


def test_relax_coordinates_pushes_apart_and_keeps_the_geometry():
    # ideal Ser + a fixed point 1.5 A from OG: OG/CB move, bonds and angles stay, the point stays
    ideal = ideal_residue("SER")
    keep = [k for k, a in enumerate(ideal.atom_names) if a != "OXT"]
    atoms = struc.AtomArray(len(keep))
    atoms.coord = ideal.coords[keep].astype(np.float32)
    atoms.atom_name = np.array([ideal.atom_names[k] for k in keep])
    atoms.element = np.array([ideal.elements[k] for k in keep])
    atoms.res_name[:] = "SER"
    atoms.res_id[:] = 1
    atoms.chain_id[:] = "A"
    topo = local_topology(atoms, np.zeros(len(keep), dtype=bool))
    og = int(np.flatnonzero(atoms.atom_name == "OG")[0])
    ca = int(np.flatnonzero(atoms.atom_name == "CA")[0])
    cb = int(np.flatnonzero(atoms.atom_name == "CB")[0])
    direction = atoms.coord[og] - atoms.coord[0]  # from N: off the CB-OG and CA-OG lines
    point = atoms.coord[og] + 1.5 * direction / np.linalg.norm(direction)
    start = np.concatenate([atoms.coord.astype(np.float64), point[None].astype(np.float64)])
    movable = np.zeros(len(start), dtype=bool)
    movable[[og]] = True
    polar = np.zeros(len(start), dtype=bool)
    out = relax_coordinates(start, topo, movable, polar, weights=np.full(len(start), 0.05))
    np.testing.assert_array_equal(out[~movable], start[~movable])
    assert np.linalg.norm(out[og] - out[-1]) >= 2.2
    assert abs(np.linalg.norm(out[og] - out[cb]) - np.linalg.norm(start[og] - start[cb])) <= 0.05
    assert abs(np.linalg.norm(out[og] - out[ca]) - np.linalg.norm(start[og] - start[ca])) <= 0.1
    # rotatable chi1 (CA-CB): OG moves around the axis, not along the bond
    assert np.linalg.norm(out[og] - start[og]) > 0.3


def test_topology_bonds_and_rigid_pairs():
    ideal = ideal_residue("PHE")
    atoms = struc.AtomArray(len(ideal.atom_names))
    atoms.coord = ideal.coords.astype(np.float32)
    atoms.atom_name = np.array(ideal.atom_names)
    atoms.element = np.array(ideal.elements)
    atoms.res_name[:] = "PHE"
    atoms.res_id[:] = 1
    topo = local_topology(atoms, np.ones(len(ideal.atom_names), dtype=bool))
    assert (topo.order == 2).sum() == len(ideal.bonds)
    name = {a: k for k, a in enumerate(ideal.atom_names)}
    pairs = {
        tuple(sorted((int(i), int(j)))): int(o) for (i, j), o in zip(topo.pairs, topo.order, strict=True)
    }
    assert pairs[tuple(sorted((name["CB"], name["CE1"])))] == 4  # across the rigid CG-CD1 bond
    assert tuple(sorted((name["N"], name["CG"]))) not in pairs  # across chi1: free
    np.testing.assert_allclose(
        topo.d0,
        np.linalg.norm(ideal.coords[topo.pairs[:, 0]] - ideal.coords[topo.pairs[:, 1]], axis=1),
        atol=1e-5,
    )
    assert topo.typed.all()


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


# ------------------------------------------------------------------ rotamer library and energy terms
def _ideal_backbone(res_name: str) -> dict[str, np.ndarray]:
    comp = ideal_residue(res_name)
    return {a: comp.coords[comp.index(a)] for a in ("N", "CA", "C", "O", "CB")}


def _chi1(backbone: dict[str, np.ndarray], names, xyz) -> float:
    built = dict(zip(names, xyz, strict=True))
    gamma = next(a for a in names if a in ("CG", "OG", "OG1", "CG1", "SG"))
    return float(np.degrees(dihedral(backbone["N"], backbone["CA"], backbone["CB"], built[gamma])))


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_lj_energy_well_zero_crossing_and_linear_repulsion():
    r0 = 3.6
    d = np.linspace(2.4, 6.0, 3601)
    e = protein.lj_energy(d, r0, epsilon=0.5)
    assert d[np.argmin(e)] == pytest.approx(r0, abs=2e-3)
    assert e.min() == pytest.approx(-0.5 * protein.LJ_ATTRACTION, rel=1e-6)
    np.testing.assert_allclose(protein.lj_energy(2 ** (-1 / 6) * r0, r0, epsilon=0.5), 0.0, atol=1e-9)
    close = np.linspace(1.0, protein.LJ_LINEAR_BELOW * r0 - 0.01, 50)
    assert np.allclose(np.diff(protein.lj_energy(close, r0), n=2), 0.0, atol=1e-9)  # a straight line
    x = protein.LJ_LINEAR_BELOW * r0
    assert protein.lj_energy(x - 1e-7, r0) == pytest.approx(float(protein.lj_energy(x + 1e-7, r0)), abs=1e-5)
    assert np.all(np.diff(protein.lj_energy(np.linspace(1.0, r0, 100), r0)) < 0)


def test_hbond_energy_distance_and_angle_windows():
    good = np.radians(120.0)
    assert protein.hbond_energy(np.array([2.9]), np.array([good]), weight=2.0)[0] == pytest.approx(-2.0)
    far = protein.hbond_energy(np.array([3.35, 3.6, 2.3]), np.full(3, good), weight=1.0)
    np.testing.assert_allclose(far, [-0.5, 0.0, 0.0], atol=1e-9)
    bent = protein.hbond_energy(np.full(3, 2.9), np.radians([70.0, 90.0, 100.0]), weight=1.0)
    np.testing.assert_allclose(bent, [0.0, -0.5, -1.0], atol=1e-9)


def test_hbond_roles_of_protein_and_other_atoms():
    res = np.array(["SER", "SER", "PRO", "ASP", "LYS", "LEU", "HOH", "ALA"])
    names = np.array(["N", "OG", "N", "OD1", "NZ", "CD1", "O", "OXT"])
    d, a = protein.DONOR, protein.ACCEPTOR
    assert protein.hbond_roles(res, names).tolist() == [d, d | a, 0, a, d, 0, d | a, a]


def test_library_rotamers_depend_on_the_backbone():
    helix, _p, _s = protein.library_rotamers("LEU", -60.0, -40.0)
    assert np.degrees(helix[0]) == pytest.approx([-65.0, 175.0], abs=10.0)  # mt dominates in helices
    chis, prob, sigma = protein.library_rotamers("SER", -120.0, 130.0, coverage=0.999)
    assert np.all(np.diff(prob) <= 0) and 0.99 <= prob.sum() <= 1.0 + 1e-6
    assert np.degrees(chis[0, 0]) == pytest.approx(180.0, abs=15.0) or np.degrees(chis[0, 0]) < -160
    assert np.all(sigma > 0)
    with pytest.raises(ValueError, match="GLY"):
        protein.library_rotamers("GLY", -60.0, -40.0)


def test_a_blocking_atom_turns_the_side_chain_away():
    bb = _ideal_backbone("LEU")
    names, _e, xyz, info = protein.place_side_chain(bb, "LEU", np.zeros((0, 3)))
    free = _chi1(bb, names, xyz)
    cg = dict(zip(names, xyz, strict=True))["CG"]
    names2, _e2, xyz2, info2 = protein.place_side_chain(
        bb, "LEU", cg[None] + 0.3, env_elements=np.array(["C"])
    )
    assert info["n_clashes"] == 0 and info2["n_clashes"] == 0
    assert _angle_diff(_chi1(bb, names2, xyz2), free) > 60.0


def test_a_hydrogen_bond_partner_picks_the_serine_rotamer():
    bb = _ideal_backbone("SER")
    t = protein.side_chain_template("SER")
    # OG at chi1 = -60 (not the most probable rotamer at the default phi/psi), an acceptor 2.8 A beyond it
    og = place_atom(bb["CB"], bb["CA"], bb["N"], t.bond[0], t.theta[0], np.radians(-60.0))
    acc = place_atom(og, bb["CB"], bb["CA"], 2.8, np.radians(110.0), np.radians(180.0))
    names, _e, xyz, _i = protein.place_side_chain(bb, "SER", np.zeros((0, 3)))
    assert _angle_diff(_chi1(bb, names, xyz), -60.0) > 40.0  # alone: another rotamer
    acceptor = {"env_elements": np.array(["O"]), "env_hbond": np.array([protein.ACCEPTOR])}
    names, _e, xyz, _i = protein.place_side_chain(bb, "SER", acc[None], **acceptor)
    assert _angle_diff(_chi1(bb, names, xyz), -60.0) < 40.0
    carbon = {"env_elements": np.array(["C"]), "env_hbond": np.array([0])}
    names, _e, xyz, _i = protein.place_side_chain(bb, "SER", acc[None], **carbon)
    assert _angle_diff(_chi1(bb, names, xyz), -60.0) > 40.0  # the same contact with a carbon repels


def test_when_every_library_rotamer_clashes_the_pruned_grid_finds_a_gap():
    bb = _ideal_backbone("PHE")
    t = protein.side_chain_template("PHE")
    # carbon atoms where CZ (on the CB-CG axis, so set by chi1 alone) lies for chi1 every 10 deg,
    # except 80-160 deg: a gap between the library rotamers (-65, 62, 180 +- their widths)
    chi1 = np.array([c for c in np.arange(-180.0, 180.0, 10.0) if not 80.0 <= c <= 160.0])
    pos = {a: np.broadcast_to(bb[a], (len(chi1), 3)) for a in ("N", "CA", "C", "CB")}
    protein._build(
        pos,
        t.names,
        t.parents,
        t.bond,
        t.theta,
        t.chi_index,
        t.phi0,
        np.stack([np.radians(chi1), np.zeros_like(chi1)], axis=1),
    )
    env = pos["CZ"]
    names, _e, xyz, info = protein.place_side_chain(bb, "PHE", env, env_elements=np.full(len(env), "C"))
    assert info["n_clashes"] == 0
    assert 95.0 < _chi1(bb, names, xyz) < 145.0


@pytest.mark.parametrize(
    "res_id", [7, 30, 44]
)  # Leu7, Phe30 (buried), Thr44: the library's top chi1 is wrong
def test_rebuilt_side_chain_of_gb1_matches_the_crystal_chi1(res_id):
    atoms = load_structure(shared("gb1_stability_nisthal2019", "gb1_1pga.pdb"))
    atoms = atoms[struc.filter_amino_acids(atoms) & (atoms.element != "H")]
    coord = atoms.coord.astype(np.float64)
    own = atoms.res_id == res_id
    name = str(atoms.res_name[own][0])
    names = atoms.atom_name[own].tolist()
    xyz = coord[own]
    bb = {a: xyz[names.index(a)] for a in ("N", "CA", "C", "O", "CB")}
    env_idx = np.flatnonzero(~own)
    env = atoms[env_idx]
    prev_c = int(np.flatnonzero((env.atom_name == "C") & (env.res_id == res_id - 1))[0])
    next_n = int(np.flatnonzero((env.atom_name == "N") & (env.res_id == res_id + 1))[0])
    phi, psi = protein.backbone_dihedrals(bb, coord[env_idx][prev_c], coord[env_idx][next_n])
    top = float(np.degrees(protein.library_rotamers(name, phi, psi)[0][0, 0]))
    out_names, _e, out_xyz, info = protein.place_side_chain(
        bb,
        name,
        coord[env_idx],
        prev_c=prev_c,
        next_n=next_n,
        env_elements=env.element,
        env_hbond=protein.hbond_roles(env.res_name, env.atom_name),
    )
    gamma = next(a for a in names if a in ("CG", "OG1", "CG1"))
    crystal = float(np.degrees(dihedral(bb["N"], bb["CA"], bb["CB"], xyz[names.index(gamma)])))
    assert _angle_diff(top, crystal) > 40.0  # the energy, not the prior alone, makes it right
    assert info["n_clashes"] == 0
    assert _angle_diff(_chi1(bb, out_names, out_xyz), crystal) <= 40.0
