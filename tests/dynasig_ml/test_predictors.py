"""ENCoM-derived predictors on a tiny protein, predictor-set parsing, outer folds by residue."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.common.errors import InputError
from components.dynasig_ml import build_dataset, fit_model, parse_model_spec, variant_signatures
from components.dynasig_ml.crossval import cross_validate, select_per_fold
from components.dynasig_ml.predictors import (
    aa_columns,
    derive_predictors,
    needs_wt,
    parse_predictors,
    residue_context,
)
from components.dynasig_ml.splits import is_outer_cv, make_split, outer_folds, strict_position_folds
from components.encom import compute_signatures, read_structure
from components.mutation.variants import mutation_positions
from tests.conftest import EXAMPLES, shared

BETAS = [np.exp(-1.0), 1.0, np.e]
# test_medium.pdb: SER91 LEU92 ASN93 GLN94 TYR95 GLY96 LYS97 ASP98
VARIANTS = ["WT", "L92W", "Y95F", "G96A", "K97E", "N93D", "S91P", "Q94R"]


def test_parse_predictors_aliases_combinations_and_errors():
    assert parse_predictors("both") == ("features", "signatures")
    assert parse_predictors("local") == ("svib", "dynamics", "structure", "aa")
    assert parse_predictors("aa+features+svib") == ("features", "svib", "aa")
    assert parse_predictors("local+local-encom") == parse_predictors("local")
    assert needs_wt("delta") and not needs_wt("both")
    for bad in ("", "signature", "local+bogus"):
        with pytest.raises(InputError):
            parse_predictors(bad)


@pytest.fixture(scope="module")
def tiny():
    atoms = read_structure(shared("nrgten_test_structures", "test_medium.pdb"))
    sigs = variant_signatures(atoms, VARIANTS, BETAS)
    wt_row = sigs.rows(["WT"])[0]
    context = residue_context(atoms, sigs.values[:, wt_row], sigs.labels, sigs.betas)
    return atoms, sigs, context


def test_svib_is_the_vibrational_entropy_difference(tiny):
    atoms, sigs, context = tiny
    derived = derive_predictors(sigs.ids, sigs.values, context)
    names, dsvib = derived.blocks["svib"]
    assert names == ["dsvib"] and dsvib.shape == (3, len(VARIANTS), 1)
    from components.mutation import mutate

    wt_s = compute_signatures(atoms, BETAS).vib_entropy
    for k in ("L92W", "G96A"):
        mut_s = compute_signatures(mutate(atoms, k), BETAS).vib_entropy
        np.testing.assert_allclose(dsvib[:, sigs.ids.index(k), 0], mut_s - wt_s, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dsvib[:, sigs.ids.index("WT"), 0], 0.0, atol=1e-12)


def test_local_columns_on_a_tiny_protein(tiny):
    _atoms, sigs, context = tiny
    derived = derive_predictors(sigs.ids, sigs.values, context)
    delta_names, delta = derived.blocks["delta"]
    assert delta_names[0].startswith("d:") and delta.shape == (3, len(VARIANTS), 8)
    dyn_names, dyn = derived.blocks["dynamics"]
    r = sigs.ids.index("Y95F")
    bead = [i for i, lab in enumerate(sigs.labels) if lab.split("|")[1] == "95"][0]
    np.testing.assert_allclose(dyn[:, r, dyn_names.index("dsig_site")], delta[:, r, bead])
    near = [i for i, lab in enumerate(sigs.labels) if lab.split("|")[1] in ("94", "96")]
    np.testing.assert_allclose(dyn[:, r, dyn_names.index("dsig_seq1")], delta[:, r, near].mean(axis=1))
    wt_rel = context.wt_signature[:, bead] / context.wt_signature.mean(axis=1)
    np.testing.assert_allclose(dyn[:, r, dyn_names.index("wt_sig_site")], wt_rel)
    s_names, struct = derived.blocks["structure"]
    assert struct[sigs.ids.index("S91P"), s_names.index("terminus")] == 0
    assert struct[sigs.ids.index("N93D"), s_names.index("terminus")] == 2
    assert set(np.unique(struct[:, s_names.index("helix")])) <= {0.0, 1.0}
    # contacts: residue centroids within 8 Å, brute force
    c = context.centroid
    k = context.keys.index(("A", 95))
    assert struct[r, s_names.index("contacts_8")] == np.sum(np.linalg.norm(c - c[k], axis=1) < 8.0) - 1
    a_names, aa = derived.blocks["aa"]
    g = sigs.ids.index("G96A")
    assert aa[g, a_names.index("from_gly")] == 1 and aa[g, a_names.index("wt:G")] == 1
    assert aa[g, a_names.index("d_volume")] == pytest.approx(88.6 - 60.1)
    assert aa[sigs.ids.index("K97E"), a_names.index("charge_mut")] == -1
    assert np.all(aa[sigs.ids.index("WT")] == 0)


def test_aa_columns_of_multi_mutants_are_means():
    names, x = aa_columns(["A1G;L3P"], "ACDEFGHIKLMNPQRSTVWY")
    assert x[0, names.index("to_gly")] == 0.5 and x[0, names.index("to_pro")] == 0.5
    assert x[0, names.index("n_mutations")] == 2
    with pytest.raises(InputError, match="not an amino-acid"):
        aa_columns(["B1G"], "ACDEFGHIKLMNPQRSTVWY")


def test_context_rejects_foreign_beads(tiny):
    atoms, sigs, _ = tiny
    with pytest.raises(InputError, match="not in the WT"):
        residue_context(atoms, np.zeros((1, 1)), ["CA|500|A|1"], [1.0])
    with pytest.raises(InputError, match="shape"):
        residue_context(atoms, np.zeros((2, 8)), sigs.labels, [1.0])


def test_dataset_designs_and_fit_with_local_predictors(tiny):
    _atoms, sigs, context = tiny
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"variant": VARIANTS, "y": rng.normal(size=len(VARIANTS)), "e": rng.normal(size=len(VARIANTS))}
    )
    data = build_dataset(table, "y", signatures=sigs, features=["e"], context=context)
    x = data.design("local+features", 1.0)
    assert x.shape == (len(VARIANTS), len(data.predictor_names("local+features")))
    assert data.predictor_names("local+features")[:2] == ["e", "dsvib"]
    assert data.design("structure+aa", None).shape[0] == len(VARIANTS) and not data.needs_beta("structure+aa")
    plain = build_dataset(table, "y", signatures=sigs)
    with pytest.raises(InputError, match="WT structure"):
        plain.design("delta", 1.0)
    sp = make_split("random:0.3", data, seed=1)
    res = fit_model(data, sp, parse_model_spec("ridge"), predictors="local", validation="cv:2")
    assert res.fitted.beta in sigs.betas and np.isfinite(res.test_metrics["rmse"])
    pred = res.fitted.predict_matrix(data.design("local", res.fitted.beta, sp.test))
    np.testing.assert_allclose(pred, res.pred_test)


def _single_mutants(n_pos: int = 12, per_pos: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    aa = "ACDEFGHIKLMNPQRSTVWY"
    rows = []
    for p in range(1, n_pos + 1):
        for new in rng.choice(list(aa[1:]), size=per_pos, replace=False):
            rows.append(f"A{p}{new}")
    return pd.DataFrame({"variant": rows, "y": rng.normal(size=len(rows)), "f": rng.normal(size=len(rows))})


def test_grouped_outer_folds_never_share_a_residue():
    data = build_dataset(_single_mutants(), "y", features=["f"])
    folds = outer_folds("cv-grouped:5", data, seed=2)
    assert len(folds) == 5 and is_outer_cv("cv-grouped:5") and not is_outer_cv("random:0.2")
    tested = np.concatenate([f.test for f in folds])
    assert np.array_equal(np.sort(tested), np.arange(len(data)))  # every variant tested exactly once
    for f in folds:
        fit_pos = {p for i in f.train for p in mutation_positions(data.ids[i])}
        test_pos = {p for i in f.test for p in mutation_positions(data.ids[i])}
        assert fit_pos and test_pos and not fit_pos & test_pos
    strict = strict_position_folds([mutation_positions(i) for i in data.ids], 5, seed=2)
    for f, (fit, val) in zip(folds, strict, strict=True):  # single mutants: the cv-strict residue folds
        assert np.array_equal(f.train, fit) and np.array_equal(f.test, val)
    random = outer_folds("cv:4", data, seed=2)
    assert np.array_equal(np.sort(np.concatenate([f.test for f in random])), np.arange(len(data)))
    for bad in ("cv:1", "cv-grouped:x", "cv-grouped:13"):
        with pytest.raises(InputError):
            outer_folds(bad, data)


def test_cross_validate_out_of_fold_and_per_fold_selection():
    data = build_dataset(_single_mutants(), "y", features=["f"])
    folds = outer_folds("cv-grouped:3", data, seed=0)
    a = cross_validate(
        data, folds, parse_model_spec("ridge"), predictors="features", validation="cv-positions:3"
    )
    b = cross_validate(
        data, folds, parse_model_spec("ridge:alpha=100.0"), predictors="features", validation="cv-positions:3"
    )
    assert np.isfinite(a.oof).all() and a.metrics["n_tested"] == len(data)
    sel = select_per_fold(data, folds, [a, b])
    for i, r in enumerate(sel.folds):
        assert r.val_r2 == max(a.folds[i].val_r2, b.folds[i].val_r2)
    assert set(sel.predictions().columns) == {"variant", "predicted", "measured"}


def test_pipeline_predicts_variant_strings_with_derived_blocks(tiny, tmp_path):
    from components.dynasig_ml.pipeline import DynaSigPipeline

    atoms, sigs, context = tiny
    rng = np.random.default_rng(1)
    table = pd.DataFrame({"variant": VARIANTS, "y": rng.normal(size=len(VARIANTS)), "e": rng.normal(size=8)})
    data = build_dataset(table, "y", signatures=sigs, features=["e"], context=context)
    sp = make_split("random:0.3", data, seed=1)
    res = fit_model(
        data, sp, parse_model_spec("ridge"), predictors="local+features", validation="cv:2", betas=[1.0]
    )
    pdb = tmp_path / "wt.pdb"
    pdb.write_text(shared("nrgten_test_structures", "test_medium.pdb").read_text())
    pipe = DynaSigPipeline.load(DynaSigPipeline(res.fitted, wt_pdb=pdb).save(tmp_path / "pipe"))
    test = table.iloc[sp.test]
    np.testing.assert_allclose(pipe.predict_frame(test), res.pred_test, rtol=1e-6, atol=1e-9)


def test_config_takes_block_combinations_and_skip_invalid():
    from components.dynasig_ml.config import DynasigConfig
    from components.dynasig_ml.splits import check_split_spec

    base = {"structure": "wt.pdb", "variants": "v.csv", "target": "ddg"}
    cfg = DynasigConfig.from_mapping(
        {**base, "predictors": ["local+features", "delta"], "skip_invalid": True}
    )
    assert cfg.predictor_sets == ("local+features", "delta") and cfg.skip_invalid
    with pytest.raises(InputError, match="option 'predictors': unknown predictor block 'bogus'"):
        DynasigConfig.from_mapping({**base, "predictors": ["local+bogus"]})
    check_split_spec("cv-grouped:5")
    with pytest.raises(InputError, match="K >= 2"):
        check_split_spec("cv-grouped:1")
    data = build_dataset(_single_mutants(), "y", features=["f"])
    with pytest.raises(InputError, match="outer cross-validation"):
        make_split("cv-grouped:5", data)


def test_rna_context_uses_the_nucleotide_alphabet():
    """A, C and G are amino-acid letters too: an RNA's residues are told apart by their names."""
    from components.dynasig_ml.pipeline import signature_labels

    atoms = read_structure(EXAMPLES / "mir125a" / "mir125a_WT.pdb")
    res = compute_signatures(atoms, betas=[1.0])
    context = residue_context(atoms, res.entropic, signature_labels(res.labels), [1.0])
    assert context.alphabet == "ACGU"
    names, aa = aa_columns(["G76U", "A12C;C74A"], context.alphabet)
    assert "purine_wt" in names and aa.shape == (2, len(names))
