"""Parity with NRGTEN 1.2.9 (the reference implementation) on every golden structure."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from components.encom import DEFAULT_BETAS, compute_signatures
from components.encom.engine import hessian_of, prepare_beads
from components.encom.params import PARAMETER_SETS
from tests.conftest import shared
from tests.encom._golden import DATA, assert_signature_close, max_rel

PROTEINS = ["closed_clean", "open_clean", "test_medium"]
RNAS = [
    "mir125a_WT",
    "mir125a_U9G_G77C_C78U",
    "mir125a_C8U_U9G_C10G_G77C_G79C",
    "mir125a_A47U",
    "mir125a_U15A_C16G_A71G_C73G",
    "mir125a_G2U_C3U_C4U_G83C_G84C_C85U",
]


def _shared_case(stem: str):
    if stem in PROTEINS:
        folder = shared("nrgten_test_structures")
        return folder / f"{stem}.pdb", folder / stem, json.loads((folder / "reference_info.json").read_text())
    folder = shared("mir125a", "nrgten_reference")
    pdb = (
        shared("mir125a", "mir125a_WT.pdb")
        if stem == "mir125a_WT"
        else shared("mir125a", "variants_sample", f"{stem}.pdb")
    )
    return pdb, folder / stem, json.loads((folder / "reference_info.json").read_text())


@pytest.mark.parametrize("stem", PROTEINS + RNAS)
def test_parity_with_nrgten_golden(stem):
    pdb, prefix, info = _shared_case(stem)
    res = compute_signatures(pdb, msf=True)
    sig = pd.read_csv(f"{prefix}_entropic_signature.csv")
    eig = pd.read_csv(f"{prefix}_eigenvalues.csv")
    msf = pd.read_csv(f"{prefix}_bfactors_msf.csv")
    assert res.nrgten_labels == sig["bead_label"].tolist()
    assert res.labels == [lab.split(".", 1)[1] for lab in sig["bead_label"]]
    np.testing.assert_array_equal(res.betas, DEFAULT_BETAS)
    assert_signature_close(res.entropic, sig.iloc[:, 1:].to_numpy().T)
    assert max_rel(res.eigenvalues[6 : 6 + len(eig)], eig["eigenvalue"]) <= 1e-6
    assert max_rel(res.msf, msf["msf_bfactor"]) <= 1e-6
    entry = next(s for s in info["structures"] if s["stem"] == stem)
    assert (res.n_bonds, res.n_angles, res.n_dihedrals) == (
        entry["n_bonds"],
        entry["n_angles"],
        entry["n_dihedrals"],
    )


def test_clash_variants_topology_counts():
    """ModeRNA clash 'bonds' (any atom pair <= 2 A) are reproduced: 257/341/343 and 259/345/353."""
    for stem, counts in [
        ("mir125a_C8U_U9G_C10G_G77C_G79C", (257, 341, 343)),
        ("mir125a_U15A_C16G_A71G_C73G", (259, 345, 353)),
    ]:
        pdb, _, _ = _shared_case(stem)
        res = compute_signatures(pdb, betas=[1.0])
        assert (res.n_bonds, res.n_angles, res.n_dihedrals) == counts


@pytest.mark.parametrize(
    "case,params",
    [
        ("rna_fragment", "nrgten-1.2.9"),
        ("rna_two_chains", "nrgten-1.2.9"),
        ("rna_fragment_dynasigml-2022", "dynasigml-2022"),
        ("rna_fragment_nrgten-optimized", "nrgten-optimized"),
        ("dna_like_fragment", "nrgten-1.2.9"),
        ("rna_protein_mixed", "nrgten-1.2.9"),
    ],
)
def test_parity_small_bundled(case, params):
    """Bundled inputs (no ../shared needed): two chains, DNA names, RNA + protein, other parameter sets."""
    gold = json.loads((DATA / "golden" / f"{case}.json").read_text())
    res = compute_signatures(DATA / gold["source"], msf=True, params=params)
    assert res.params == params
    assert res.nrgten_labels == gold["labels"]
    assert_signature_close(res.entropic, np.array(gold["entropic"]))
    assert max_rel(res.eigenvalues[6:26], gold["eigenvalues_7_26"]) <= 1e-6
    assert max_rel(res.msf, gold["msf"]) <= 1e-6
    assert (res.n_bonds, res.n_angles, res.n_dihedrals) == (
        gold["n_bonds"],
        gold["n_angles"],
        gold["n_dihedrals"],
    )


def test_two_chains_labels_and_bonds():
    res = compute_signatures(DATA / "rna_two_chains.pdb", betas=[1.0])
    chains = {lab.split("|")[2] for lab in res.labels}
    assert chains == {"A", "B"}
    assert res.labels[0] == "S|1|A|1" and res.labels[-1].endswith("|B|16")


@pytest.mark.parametrize("source", ["rna_fragment.pdb", "rna_two_chains.pdb"])
def test_hessian_symmetric_with_six_zero_modes(source):
    params = PARAMETER_SETS["nrgten-1.2.9"]
    beads = prepare_beads(DATA / source, params)
    hess, _ = hessian_of(beads, params)
    assert np.array_equal(hess, hess.T)
    vals = np.linalg.eigvalsh(hess)
    assert np.all(np.abs(vals[:6]) < 1e-8 * vals[-1])
    assert vals[6] > 1e-3


def test_large_beta_gives_exact_zeros_like_float_power():
    """Stiff modes at large beta contribute exactly 0 (NRGTEN's float_power overflow), never NaN."""
    res = compute_signatures(DATA / "rna_fragment.pdb", betas=[1e6, 1.0])
    assert np.all(res.entropic[0] == 0.0)
    assert np.all(np.isfinite(res.entropic[1])) and np.all(res.entropic[1] > 0)
