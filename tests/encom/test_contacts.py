"""Vcontacts-equivalent contact areas against golden surface dicts from NRGTEN 1.2.9 / pyvcon 1.0.2.

Golden files: ``data/contacts/<stem>.npz``, made by ``data/contacts/make_contacts_golden.py`` (see its
docstring). Each holds Vcontacts' input atom table (the temporary PDB NRGTEN writes) and every entry of
NRGTEN's surface dict, with areas as the float32 Vcontacts stores; the dict value is ``%.9g`` of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from components.encom.contacts import VCONTACTS_RADII, contact_areas, vcontacts_radii

DATA = Path(__file__).resolve().parent / "data" / "contacts"
STEMS = ["test_medium", "mir125a_WT", "mir125a_U15A_C16G_A71G_C73G", "mir125a_A12G"]


def _golden(stem: str) -> dict[str, np.ndarray]:
    with np.load(DATA / f"{stem}.npz") as z:
        return {k: z[k] for k in z.files}


@pytest.mark.parametrize("stem", STEMS)
def test_areas_equal_nrgten_surface_dict(stem: str) -> None:
    g = _golden(stem)
    radii = vcontacts_radii(g["atom_name"], g["element"], g["res_name"])
    i, j, area = contact_areas(g["coords"], radii)
    gi = g["pair_i"].astype(np.int64)
    gj = g["pair_j"].astype(np.int64)
    # the surface dict values NRGTEN parses from the .vcon text (printf "%.9g" of a C float)
    expected = np.array([float(f"{x:.9g}") for x in g["area_f32"].tolist()])
    assert i.dtype == np.int64 and j.dtype == np.int64 and area.dtype == np.float64
    got_pairs = set(zip(i.tolist(), j.tolist(), strict=True))
    want_pairs = set(zip(gi.tolist(), gj.tolist(), strict=True))
    assert len(got_pairs) == len(i), "duplicate pairs"
    assert got_pairs - want_pairs == set(), "pairs absent from the NRGTEN surface dict"
    assert want_pairs - got_pairs == set(), "pairs of the NRGTEN surface dict are missing"
    np.testing.assert_array_equal(i, gi)
    np.testing.assert_array_equal(j, gj)
    np.testing.assert_array_equal(area, expected)


def test_radii_match_the_vcontacts_table() -> None:
    f = lambda v: float(np.float32(v))  # noqa: E731
    names = [
        "P",
        "OP1",
        "O1P",
        "O5'",
        "O2",
        "N6",
        "N1",
        "C1'",
        "C2",
        "C2",
        "C4",
        "C5",
        "C5",
        "C6",
        "C6",
        "C8",
    ]
    res = ["G", "G", "G", "G", "U", "A", "A", "C", "A", "G", "C", "U", "G", "A", "C", "G"]
    want = [1.80, 0.0, 1.42, 1.46, 1.42, 1.64, 1.64, 1.88, 1.76, 1.61, 1.61, 1.76, 1.61, 1.61, 1.76, 1.76]
    np.testing.assert_array_equal(vcontacts_radii(names, None, res), [f(w) for w in want])
    names = [
        "N",
        "CA",
        "C",
        "O",
        "OG",
        "OH",
        "SG",
        "CG",
        "CD",
        "CZ",
        "CG",
        "CE1",
        "CB",
        "OXT",
        "NZ",
        "N",
        "ZN",
    ]
    res = ["ALA", "ALA", "ALA", "ALA", "SER", "TYR", "CYS", "ASP", "GLU", "ARG", "PHE", "TYR", "TRP"]
    res += ["ALA", "LYS", "PRO", "ZN"]
    want = [1.64, 1.88, 1.61, 1.42, 1.46, 1.46, 1.77, 1.61, 1.61, 1.61, 1.76, 1.76, 1.88, 1.42, 1.64]
    want += [1.64, 1.80]
    np.testing.assert_array_equal(vcontacts_radii(names, None, res), [f(w) for w in want])
    assert VCONTACTS_RADII["DEF"] == 1.80


def test_radii_of_golden_inputs_cover_nucleic_rules() -> None:
    g = _golden("mir125a_WT")
    radii = vcontacts_radii(g["atom_name"], g["element"], g["res_name"])
    op = np.isin(g["atom_name"], ["OP1", "OP2"])
    # Vcontacts tests column 16 == 'P' (old O1P naming): OP1/OP2 keep an unset (zero) radius
    assert op.sum() > 100 and np.all(radii[op] == 0.0)
    assert np.all(radii[~op] > 1.4)


def test_two_isolated_atoms_share_a_spherical_cap() -> None:
    # two equal spheres: radical plane at d/2, each side sees a cap of the probe-extended sphere
    r, d = 1.5, 3.0
    i, j, area = contact_areas(np.array([[0.0, 0.0, 0.0], [d, 0.0, 0.0], [30.0, 0.0, 0.0]]), np.full(3, r))
    rado = float(np.float32(r + 1.4))
    cap = 2.0 * 3.14159265 * rado * (rado - d / 2)
    assert i.tolist() == [0, 1] and j.tolist() == [1, 0]
    np.testing.assert_allclose(area, cap, rtol=1e-7)


def test_translation_changes_areas_only_by_float32_rounding() -> None:
    g = _golden("test_medium")
    radii = vcontacts_radii(g["atom_name"], g["element"], g["res_name"])
    i, j, a = contact_areas(g["coords"], radii)
    i2, j2, a2 = contact_areas(g["coords"].astype(np.float64) + 8.0, radii)
    np.testing.assert_array_equal(i, i2)
    np.testing.assert_array_equal(j, j2)
    np.testing.assert_allclose(a, a2, rtol=2e-3, atol=1e-4)


def test_empty_and_bad_inputs() -> None:
    i, j, a = contact_areas(np.zeros((0, 3)), np.zeros(0))
    assert i.shape == j.shape == a.shape == (0,)
    with pytest.raises(ValueError, match="coords"):
        contact_areas(np.zeros((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match="radii"):
        contact_areas(np.zeros((3, 3)), np.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        contact_areas(np.full((2, 3), np.nan), np.ones(2))
    with pytest.raises(ValueError, match="radii"):
        contact_areas(np.zeros((2, 3)), np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match="res_names"):
        vcontacts_radii(["CA"], None, ["ALA", "GLY"])


# ----------------------------------------------------------------------------------------------------
# side-chain mutants of test_medium.pdb (golden files: data/contacts/mutants, see make_mutant_pdbs.py)

MUTANTS = DATA / "mutants"
CRASHING = ["L92A", "L92C", "L92N", "L92P", "L92S", "L92T", "L92V", "Y95A", "Y95D", "Y95P", "Y95T", "Y95C"]


def _areas_of(g: dict[str, np.ndarray], n: int | None = None) -> dict[tuple[int, int], float]:
    """Golden pairs among the first ``n`` atoms, as NRGTEN's surface dict holds them."""
    n = len(g["coords"]) if n is None else n
    values = [float(f"{x:.9g}") for x in g["area_f32"].tolist()]
    return {
        (int(p), int(q)): v
        for p, q, v in zip(g["pair_i"].tolist(), g["pair_j"].tolist(), values, strict=True)
        if p < n and q < n
    }


def _mine(coords: np.ndarray, g: dict[str, np.ndarray], n: int) -> dict[tuple[int, int], float]:
    radii = vcontacts_radii(g["atom_name"][:n], g["element"][:n], g["res_name"][:n])
    i, j, a = contact_areas(coords[:n], radii)
    return dict(zip(zip(i.tolist(), j.tolist(), strict=True), a.tolist(), strict=True))


@pytest.mark.parametrize("variant", ["L92F", "Y95F", "K97R"])
def test_mutants_vcontacts_survives_are_bit_equal(variant: str) -> None:
    with np.load(MUTANTS / f"test_medium_{variant}.npz") as z:
        g = {k: z[k] for k in z.files}
    assert _mine(g["coords"], g, len(g["coords"])) == _areas_of(g)


@pytest.mark.parametrize("variant", CRASHING)
def test_mutants_vcontacts_crashes_on_equal_nrgten_with_a_spectator(variant: str) -> None:
    # Vcontacts segfaults on the peptide alone; with a far glycine (4 atoms, chain B) it does not
    with np.load(MUTANTS / f"test_medium_{variant}_spectator.npz") as z:
        g = {k: z[k] for k in z.files}
    n = len(g["coords"]) - 4
    assert set(g["chain_id"][n:].tolist()) == {"B"} and set(g["chain_id"][:n].tolist()) == {"A"}
    assert _mine(g["coords"], g, len(g["coords"])) == _areas_of(g)  # with the spectator: parity
    assert _mine(g["coords"], g, n) == _areas_of(g, n)  # without it: the same areas, no crash


def test_mutants_of_test_medium_get_signatures() -> None:
    from components.encom import compute_signatures
    from components.mutation import mutate
    from components.mutation.io import load_structure
    from tests.conftest import shared

    wt = load_structure(shared("nrgten_test_structures", "test_medium.pdb"))
    for variant in ("L92A", "Y95D"):
        res = compute_signatures(mutate(wt, variant), [1.0], name=f"variant {variant}")
        assert res.entropic.shape == (1, 8) and np.all(np.isfinite(res.entropic))
        assert np.all(res.entropic > 0)


def test_a_cell_that_cannot_close_names_the_variant_and_the_atom(monkeypatch: pytest.MonkeyPatch) -> None:
    import components.encom.contacts as contacts_mod
    from components.encom import compute_signatures, read_structure
    from tests.encom._golden import DATA as ENCOM_DATA

    def fail(coords: np.ndarray, radii: np.ndarray, **_: object) -> None:
        raise contacts_mod.ContactAreaError(5, np.asarray(coords)[5])

    monkeypatch.setattr(contacts_mod, "contact_areas", fail)
    atoms = read_structure(ENCOM_DATA / "rna_fragment.pdb")
    with pytest.raises(contacts_mod.ContactAreaError) as info:
        compute_signatures(atoms, [1.0], name="variant G3A")
    msg = str(info.value)
    assert msg.startswith("variant G3A, atom ") and " of bead " in msg and "cannot be closed" in msg
    assert info.value.atom == 5
    import pickle

    again = pickle.loads(pickle.dumps(info.value))  # raised in a worker process, re-raised here
    assert str(again) == msg and again.atom == 5


def test_variant_signatures_name_the_variant_that_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    # the path of `dynasig`, `predict` and serving: variants -> mutants -> signatures
    import components.encom.contacts as contacts_mod
    from components.dynasig_ml import variant_signatures
    from tests.conftest import shared

    wt = shared("nrgten_test_structures", "test_medium.pdb")
    sigs = variant_signatures(wt, ["L92A", "Y95C"], [1.0])
    assert np.all(np.isfinite(sigs.values)) and sigs.values.shape == (1, 2, 8)

    def fail(coords: np.ndarray, radii: np.ndarray, **_: object) -> None:
        raise contacts_mod.ContactAreaError(0, np.asarray(coords)[0])

    monkeypatch.setattr(contacts_mod, "contact_areas", fail)
    with pytest.raises(contacts_mod.ContactAreaError, match=r"^variant L92A, atom N of bead SER.CA\|91"):
        variant_signatures(wt, ["L92A"], [1.0])
