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
