"""Coefficient maps, graphs and the saved pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from components.common.errors import InputError
from components.dynasig_ml import (
    DynaSigPipeline,
    build_dataset,
    fit_model,
    make_split,
    map_coefficients,
    parse_model_spec,
)
from components.dynasig_ml.graphs import (
    plot_coefficients,
    plot_pred_vs_measured,
    plot_r2_vs_alpha,
    plot_r2_vs_beta,
    save_figure,
)
from tests.conftest import shared


def _pdb_values(path) -> dict[int, tuple[str, str, float, float]]:
    out = {}
    for line in open(path):
        if line.startswith(("ATOM", "HETATM")):
            out[int(line[6:11])] = (line[12:16], line[30:54], float(line[54:60]), float(line[60:66]))
    return out


def test_coefficient_pdb_round_trip(tmp_path) -> None:
    from biotite.structure.io import pdb

    wt = shared("mir125a", "mir125a_WT.pdb")
    ref = pd.read_csv(shared("mir125a", "reference_outputs", "lasso_coefficients_by_mass.csv"))
    rng = np.random.default_rng(0)
    coefs = rng.normal(size=len(ref)) * (rng.random(len(ref)) < 0.3)
    cmap = map_coefficients(wt, list(ref.mass_label), coefs, tmp_path)
    assert cmap.n_atoms == 1824  # every bead atom; the 5' O5' and 3' O3' are in no bead
    atoms = pdb.PDBFile.read(cmap.pdb).get_structure(
        model=1, extra_fields=["occupancy", "b_factor", "atom_id"]
    )
    np.testing.assert_allclose(atoms.b_factor, np.abs(atoms.occupancy))
    assert np.abs(atoms.occupancy).max() == pytest.approx(1.0)
    # bead -> atoms: every atom of residue r's base carries the B|r coefficient
    norm = coefs / np.abs(coefs).max()
    table = cmap.table.set_index("label")
    base12 = (atoms.res_id == 12) & np.isin(atoms.atom_name, ["N9", "C8", "C4", "C2"])
    np.testing.assert_allclose(
        atoms.occupancy[base12], round(norm[table.loc["B|12|A|12", "bead_index"]], 2), atol=5e-3
    )
    assert "spectrum q, blue_white_red" in cmap.pml.read_text() and "cartoon putty" in cmap.pml.read_text()
    assert len(pd.read_csv(cmap.csv)) == len(ref)


def test_coefficient_pdb_matches_dynasigml_reference(tmp_path) -> None:
    """Written with the reference coefficients, our PDB has the same atoms, coordinates and values."""
    ref = pd.read_csv(shared("mir125a", "reference_outputs", "lasso_coefficients_by_mass.csv"))
    for split in ("inverted", "hard"):
        cmap = map_coefficients(
            shared("mir125a", "mir125a_WT.pdb"),
            list(ref.mass_label),
            ref[f"coef_norm_{split}"].to_numpy(),
            tmp_path,
        )
        ours = _pdb_values(cmap.pdb)
        theirs = _pdb_values(shared("mir125a", "reference_outputs", f"coefficients_{split}.pdb"))
        assert ours == theirs


def test_coefficient_map_rejects_foreign_bead(tmp_path) -> None:
    with pytest.raises(InputError, match="not in the structure"):
        map_coefficients(shared("mir125a", "mir125a_WT.pdb"), ["B|999|A|999"], np.ones(1), tmp_path)


def test_graphs_and_pipeline_round_trip(synth, tmp_path) -> None:
    sigs, table = synth
    ds = build_dataset(table, "eff", signatures=sigs, features=["energy"])
    split = make_split("random:0.25", ds, seed=0)
    res = fit_model(ds, split, parse_model_spec("lasso"), predictors="both")
    for name, fig in {
        "pred": plot_pred_vs_measured(res),
        "alpha": plot_r2_vs_alpha(res),
        "beta": plot_r2_vs_beta(res),
        "coef": plot_coefficients(sigs.labels, res.fitted.signature_coefficients()),
    }.items():
        path = save_figure(fig, tmp_path / f"{name}.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
    wt = tmp_path / "wt.pdb"
    wt.write_text("ATOM      1  P     G A   1       0.000   0.000   0.000  1.00  0.00           P\n")
    pipe = DynaSigPipeline(res.fitted, wt_pdb=wt, metrics=res.test_metrics)
    back = DynaSigPipeline.load(pipe.save(tmp_path / "pipe"))
    rows = table.iloc[split.test]
    pred = back.predict_frame(rows.rename(columns={}), signatures=sigs)
    np.testing.assert_allclose(pred, res.pred_test)
    with pytest.raises(InputError, match="energy"):
        back.predict_frame(rows[["variant"]], signatures=sigs)
