"""Unit tests of the DynaSig-ML component on synthetic data and the miR-125a reference files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso
from sklearn.metrics import r2_score

from components.common.errors import DynamotifWarning, InputError
from components.dynasig_ml import (
    build_dataset,
    canonical_variant,
    ef_dynasigml,
    ef_topk,
    fit_model,
    load_signatures,
    make_split,
    parse_model_spec,
    r2,
    save_signatures,
    score_all,
    signatures_from_frame,
    validation_folds,
)
from components.dynasig_ml.fit import lasso_coefficients
from components.dynasig_ml.splits import strict_position_folds
from tests.conftest import shared


# ------------------------------------------------------------------------------------- variants
@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("A12C;C74A", "A12C;C74A"),
        ("C74A_A12C", "A12C;C74A"),
        ("mir125a_A12C_C74A.pdb", "A12C;C74A"),
        ("mir125a_WT.pdb", "WT"),
        ("", "WT"),
        ("wt", "WT"),
        ("A-K45R", "A:K45R"),
        ("A12C,C74A", "A12C;C74A"),
        ("B:K45aR_A:G3D", "A:G3D;B:K45aR"),
    ],
)
def test_canonical_variant(raw: str, key: str) -> None:
    assert canonical_variant(raw) == key


@pytest.mark.parametrize("raw", ["A12C;A12G", "A12C;junk", "12C", "mir125a", "a12c", "A12A", "junk;A12C"])
def test_canonical_variant_rejects(raw: str) -> None:
    with pytest.raises(InputError):
        canonical_variant(raw)


# -------------------------------------------------------------------------------------- metrics
def test_metrics_match_sklearn_and_scipy() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    p = y + rng.normal(scale=0.5, size=200)
    m = score_all(y, p)
    assert m["r2"] == pytest.approx(r2_score(y, p))
    assert m["pearson_r"] == pytest.approx(np.corrcoef(y, p)[0, 1])
    assert m["rmse"] == pytest.approx(np.sqrt(np.mean((y - p) ** 2)))
    assert ef_topk(y, y) == pytest.approx(10.0)
    assert ef_topk(y, -y) == 0.0


def test_ef_topk_counts_overlap() -> None:
    y = np.arange(20.0)  # top 10 % = indices 18, 19
    p = y.copy()
    p[19] = -1  # the best variant predicted worst: one of two found
    assert ef_topk(y, p) == pytest.approx(0.5 / 0.1)


def test_ef_dynasigml_off_by_one() -> None:
    """DynaSig-ML counts the lowest-predicted variant (index -0) instead of the k-th best."""
    y = np.arange(20.0)
    # k' = int(0.1 * 20 + 1) = 3: threshold = 2nd best measure (18); looks at preds[-0], [-1], [-2].
    p = y.copy()
    assert ef_dynasigml(y, p) == pytest.approx(2 / 2 / 0.1)  # 19 and 18 found, index 0 (y=0) is not
    p2 = y.copy()
    p2[0], p2[19] = 19.5, -1  # the lowest-predicted is now the best measure: DynaSig-ML counts it
    assert ef_dynasigml(y, p2) == pytest.approx(10.0)
    assert ef_topk(y, p2) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("folder", "model"),
    [("graphs_hard", "lasso"), ("graphs_hard", "RF"), ("graphs_hard", "GBR"), ("graphs_inverted", "GBR")],
)
def test_ef_and_r2_reproduce_reference_summary(folder: str, model: str) -> None:
    ref = shared("mir125a", "reference_outputs")
    path = ref / folder / f"{model}_testing_performance.df"
    if not path.exists():
        path = path.with_name(path.name + ".gz")
    df = pd.read_csv(path, sep=r"\s+")
    summary = pd.read_csv(ref / "reference_performance_summary.csv")
    row = summary[
        (summary.split == folder.split("_")[1])
        & (summary.predictors == "dynasig+mcfold_energy")
        & (summary.model == model)
    ].iloc[0]
    assert r2(df.measured, df.predicted) == pytest.approx(row.r2, abs=1e-4)
    assert ef_dynasigml(df.measured.to_numpy(), df.predicted.to_numpy()) == pytest.approx(
        row.ef10_dynasigml, abs=1e-3
    )
    assert ef_topk(df.measured, df.predicted) == pytest.approx(row.ef10_topk, abs=1e-3)


# ----------------------------------------------------------------------------------------- data
def test_signature_formats_round_trip(synth, tmp_path) -> None:
    sigs, _ = synth
    long = pd.DataFrame(
        [
            {"structure": v, "beta": b, "bead": lab, "value": sigs.values[k, i, j]}
            for k, b in enumerate(sigs.betas)
            for i, v in enumerate(sigs.ids[:5])
            for j, lab in enumerate(sigs.labels)
        ]
    )
    from_long = signatures_from_frame(long)
    assert from_long.ids == sigs.ids[:5] and from_long.labels == sigs.labels
    np.testing.assert_allclose(from_long.values, sigs.values[:, :5])
    wide = pd.DataFrame(
        [
            {
                "file_id": f"x_{v.replace(';', '_')}.pdb",
                "beta": b,
                **dict(zip(sigs.labels, sigs.values[k, i], strict=True)),
            }
            for k, b in enumerate(sigs.betas)
            for i, v in enumerate(sigs.ids[:5])
        ]
    )
    from_wide = signatures_from_frame(wide)
    np.testing.assert_allclose(from_wide.matrix(1.0, sigs.ids[:5]), sigs.matrix(1.0, sigs.ids[:5]))
    path = save_signatures(sigs, tmp_path / "s.npz")
    back = load_signatures(path)
    assert back.ids == sigs.ids and back.labels == sigs.labels
    np.testing.assert_array_equal(back.values, sigs.values)


def test_reads_reference_wide_signatures() -> None:
    sigs = load_signatures(shared("mir125a", "precomputed_signatures", "dsdf_98_signatures.csv.gz"))
    assert sigs.values.shape == (13, 78, 257)
    assert "WT" in sigs and sigs.labels[0] == "S|1|A|1"


def test_build_dataset_errors(synth) -> None:
    sigs, table = synth
    with pytest.raises(InputError, match="target column 'nope' does not exist"):
        build_dataset(table, "nope", signatures=sigs)
    bad = table.astype({"eff": object})
    bad.loc[3, "eff"] = "high"
    with pytest.raises(InputError, match="row 5: column 'eff' is not numeric: 'high'"):
        build_dataset(bad, "eff", signatures=sigs)
    unknown = pd.concat([table, pd.DataFrame({"variant": ["G9999A"], "eff": [1.0], "energy": [0.0]})])
    with pytest.raises(InputError, match="unknown variant.*G9999A"):
        build_dataset(unknown, "eff", signatures=sigs)
    nan = table.copy()
    nan.loc[[1, 4], "eff"] = np.nan
    with pytest.warns(DynamotifWarning, match="dropped 2 row"):
        ds = build_dataset(nan, "eff", signatures=sigs, features=["energy"])
    assert len(ds) == len(table) - 2 and ds.n_dropped == 2
    with pytest.raises(InputError, match="strict"):
        build_dataset(nan, "eff", signatures=sigs, strict=True)
    dup = pd.concat([table, table.iloc[[0]]])
    with pytest.raises(InputError, match="appears twice"):
        build_dataset(dup, "eff", signatures=sigs)


# --------------------------------------------------------------------------------------- splits
def test_splits(synth, tmp_path) -> None:
    sigs, table = synth
    ds = build_dataset(table, "eff", signatures=sigs)
    a, b = make_split("random:0.25", ds, seed=3), make_split("random:0.25", ds, seed=3)
    np.testing.assert_array_equal(a.test, b.test)
    assert a.test.size == 30 and np.intersect1d(a.train, a.test).size == 0
    nm = make_split("n_mut:2", ds)
    assert all(ds.ids[i].count(";") <= 1 for i in nm.train) and all(
        ds.ids[i].count(";") >= 2 for i in nm.test
    )
    table2 = table.assign(role=np.where(np.arange(len(table)) % 3 == 0, "test", "train"))
    col = make_split("column:role", build_dataset(table2, "eff", signatures=sigs))
    assert col.test.size == 40
    ids = tmp_path / "test_ids.json"
    ids.write_text(json.dumps([f"mir_{v.replace(';', '_')}.pdb" for v in ds.ids[:7]]))
    sp = make_split(f"ids:{ids}", ds)
    assert sp.test.tolist() == list(range(7)) and sp.train.size == len(ds) - 7
    ids.write_text(json.dumps({"train": ds.ids[10:20], "test": ds.ids[:5]}))
    sp = make_split(f"ids:{ids}", ds)
    assert sp.train.tolist() == list(range(10, 20))
    with pytest.raises(InputError, match="leaves the test set empty"):
        make_split("n_mut:99", ds)
    with pytest.raises(InputError, match="unknown split"):
        make_split("bogus:1", ds)


def test_validation_folds_stay_inside_train() -> None:
    train = np.arange(10, 60)
    for spec in ("split:0.2", "cv:5"):
        folds = validation_folds(train, spec, seed=1)
        for fit_idx, val_idx in folds:
            assert set(fit_idx) | set(val_idx) == set(train)
            assert not set(fit_idx) & set(val_idx)
    assert len(validation_folds(train, "cv:5")) == 5


def _position_keys() -> list[str]:
    rng = np.random.default_rng(3)
    keys = ["WT"]
    while len(keys) < 80:
        pos = sorted(rng.choice(np.arange(1, 16), size=int(rng.integers(1, 4)), replace=False))
        key = ";".join(f"A{p}C" for p in pos)
        if key not in keys:
            keys.append(key)
    return keys


def test_position_folds_hold_out_positions() -> None:
    keys = _position_keys()
    pos = [set() if k == "WT" else {int(t[1:-1]) for t in k.split(";")} for k in keys]
    train = np.arange(5, 80)  # indices into keys; 0-4 play the test set
    folds = validation_folds(train, "cv-positions:4", seed=2, ids=keys)
    assert len(folds) == 4
    held_sets = []
    for fit_idx, val_idx in folds:
        assert set(fit_idx) | set(val_idx) == set(train) and not set(fit_idx) & set(val_idx)
        seen = set().union(*(pos[i] for i in fit_idx))
        held = set().union(*(pos[i] for i in train)) - seen
        # every validation variant mutates at least one position never mutated in its fitting rows
        assert all(pos[i] & held for i in val_idx)
        held_sets.append(held)
    # the held-out groups partition the positions mutated in training
    assert sorted(p for h in held_sets for p in h) == sorted(set().union(*(pos[i] for i in train)))
    again = validation_folds(train, "cv-positions:4", seed=2, ids=keys)
    assert all((a[0] == b[0]).all() and (a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))
    other = validation_folds(train, "cv-positions:4", seed=3, ids=keys)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))
    # a background mutation shared by every mutant (U20G here) is never held out
    bg = ["WT"] + [k + ";U20G" for k in keys[1:]]
    for fit_idx, val_idx in validation_folds(train, "cv-positions:4", seed=2, ids=bg):
        assert fit_idx.size > 0 and val_idx.size > 0


@pytest.mark.parametrize(
    ("spec", "ids", "message"),
    [
        ("cv-positions:4", None, "needs the variant ids"),
        ("cv-positions:40", "keys", "mutate only 15 position"),
        ("cv-positions:1", "keys", "cv-positions:K"),
        ("cv-positions:x", "keys", "bad validation"),
    ],
)
def test_position_folds_errors(spec: str, ids: str | None, message: str) -> None:
    keys = _position_keys()
    with pytest.raises(InputError, match=message):
        validation_folds(np.arange(80), spec, ids=keys if ids else None)


def _assert_strict(folds, pos, train) -> None:
    val_all = [i for _, val_idx in folds for i in val_idx]
    assert len(val_all) == len(set(val_all))  # disjoint validation folds
    for fit_idx, val_idx in folds:
        assert set(fit_idx) <= set(train) and set(val_idx) <= set(train) and not set(fit_idx) & set(val_idx)
        seen = set().union(*(pos[i] for i in fit_idx))
        # no position of any validation variant is mutated in its fitting rows
        assert all(pos[i] and not pos[i] & seen for i in val_idx)


def test_strict_position_folds_unseen_positions_disjoint() -> None:
    keys = _position_keys()
    pos = [set() if k == "WT" else {int(t[1:-1]) for t in k.split(";")} for k in keys]
    train = np.arange(0, 80)
    folds = validation_folds(train, "cv-strict:3", seed=2, ids=keys)
    assert len(folds) == 3
    _assert_strict(folds, pos, train)
    assert all(0 in fit_idx for fit_idx, _ in folds)  # WT only fits
    # the random co-mutation graph is one component here: units are single positions
    assert validation_folds(train, "cv-strict:3", seed=2, ids=keys)[0][1].tolist() == folds[0][1].tolist()


def test_strict_position_folds_keep_co_mutated_blocks_together() -> None:
    # two-position blocks mutated together (as paired bases are): every variant validates exactly once
    blocks = [(2, 30), (5, 27), (8, 24), (11, 21)]
    pos = [()] + [b for b in blocks for _ in range(3)] + [(b[0],) for b in blocks]
    folds = strict_position_folds(pos, 2, seed=0)
    _assert_strict(folds, [set(p) for p in pos], range(len(pos)))
    assert sorted(i for _, val_idx in folds for i in val_idx) == list(range(1, len(pos)))


def test_strict_position_folds_of_single_mutants_are_residue_groups() -> None:
    pos = [[("A", r)] for r in (1, 1, 2, 3, 3, 3, 4, 5, 6, 6)]
    folds = strict_position_folds(pos, 3, seed=1)
    _assert_strict(folds, [set(p) for p in pos], range(len(pos)))
    assert sorted(i for _, val_idx in folds for i in val_idx) == list(range(10))
    for fit_idx, val_idx in folds:  # the fit is everything else
        assert sorted([*fit_idx, *val_idx]) == list(range(10))


@pytest.mark.parametrize(
    ("pos", "k", "message"),
    [
        ([[1], [2]], 3, "mutate only 2 position"),
        ([[], [1, 2], [1, 3], [2, 3]], 3, "fold 1 leaves"),  # every variant spans two groups
    ],
)
def test_strict_position_folds_errors(pos, k: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        strict_position_folds(pos, k)


def test_fit_model_with_position_cv(synth) -> None:
    sigs, table = synth
    ds = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    split = make_split("random:0.25", ds, seed=0)
    res = fit_model(ds, split, parse_model_spec("ridge"), predictors="both", validation="cv-positions:3")
    assert np.isfinite(res.val_r2) and res.test_metrics["r2"] > 0.5


# ------------------------------------------------------------------------------------ modelling
def test_lars_lasso_equals_coordinate_descent() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 12))
    y = x[:, 0] - 0.5 * x[:, 3] + rng.normal(scale=0.3, size=80)
    alphas = [0.5, 0.1, 0.01]
    coefs, intercepts = lasso_coefficients(x, y, alphas)
    for a, c, b in zip(alphas, coefs, intercepts, strict=True):
        ref = Lasso(alpha=a, tol=1e-12, max_iter=100000).fit(x, y)
        np.testing.assert_allclose(c, ref.coef_, atol=1e-7)
        assert b == pytest.approx(ref.intercept_, abs=1e-7)


def test_model_specs() -> None:
    spec = parse_model_spec("sklearn.svm.SVR:C=3,kernel='rbf'")
    assert spec.name == "SVR" and spec.params == {"C": 3, "kernel": "rbf"}
    assert parse_model_spec("lasso").alphas == tuple(2.0**k for k in range(0, -16, -1))
    assert parse_model_spec("lasso:alphas=[0.1,0.01]").alphas == (0.1, 0.01)
    for bad in ("nosuch", "rf:n_trees=3", "sklearn.nothing.Here", "rf:=3"):
        with pytest.raises(InputError):
            parse_model_spec(bad)


def test_selection_never_sees_test(synth) -> None:
    """Scrambling the test targets changes nothing that was selected or fitted."""
    sigs, table = synth
    ds = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    split = make_split("random:0.3", ds, seed=0)
    scrambled = table.copy()
    scrambled.loc[split.test, "eff"] = np.random.default_rng(5).normal(size=split.test.size) * 100
    ds2 = build_dataset(scrambled, "eff", signatures=sigs, features=["energy"])
    for spec in (parse_model_spec("lasso"), parse_model_spec("rf:n_estimators=20")):
        a = fit_model(ds, split, spec, predictors="both", validation="cv:3")
        b = fit_model(ds2, split, spec, predictors="both", validation="cv:3")
        assert (a.fitted.beta, a.fitted.alpha) == (b.fitted.beta, b.fitted.alpha)
        np.testing.assert_array_equal(a.curves["val_r2"], b.curves["val_r2"])
        np.testing.assert_allclose(a.pred_test, b.pred_test)
        assert a.test_metrics["r2"] != b.test_metrics["r2"]


def test_lasso_finds_the_signal(synth) -> None:
    sigs, table = synth
    ds = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    split = make_split("random:0.25", ds, seed=1)
    res = fit_model(ds, split, parse_model_spec("lasso"), predictors="both")
    assert res.fitted.beta == pytest.approx(1.0)  # the β whose block carries the signal
    assert res.test_metrics["r2"] > 0.7
    coef = res.fitted.signature_coefficients()
    assert coef is not None and set(np.argsort(-np.abs(coef))[:2]) == {2, 7}
    assert res.curves["test_r2"].notna().all()
    feats = fit_model(ds, split, parse_model_spec("lasso"), predictors="features")
    assert feats.fitted.beta is None and feats.test_metrics["r2"] < res.test_metrics["r2"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rf = fit_model(ds, split, parse_model_spec("hgb:max_iter=30"), predictors="signatures")
    assert rf.curves["test_r2"].isna().all()  # test curves for LASSO only, by default
