"""The motif report says which class each kernel favours and ranks the target class's kernels first."""

import numpy as np
import pandas as pd

from components.motifs.pipeline import interpret_model, rank_kernels
from components.seqmodels.data import load_data, split_data
from components.seqmodels.pipeline import train_model
from tests.seqmodels.test_training import LENGTH, TINY
from tests.seqmodels.toy import binary_fastas


def test_background_kernels_rank_after_the_target_class_and_are_marked():
    table = pd.DataFrame(
        {
            "kernel": [0, 1, 2],
            "importance": [0.9, 0.5, 0.1],  # the most important kernel favours the background
            "favours": ["background", "PUM2", "PUM2"],
        }
    )
    notes: list[str] = []
    ranked = rank_kernels(table, "PUM2", notes)
    assert ranked["kernel"].tolist() == [1, 2, 0] and ranked["rank"].tolist() == [1, 2, 3]
    assert ranked["favours_target"].tolist() == [True, True, False]
    assert "1 kernel(s) favour another class (background-enriched)" in notes[0]
    assert rank_kernels(table, None, [])["kernel"].tolist() == [0, 1, 2]  # no target: importance only


def test_binary_report_names_the_class_each_kernel_favours(tmp_path):
    pos, neg = binary_fastas(tmp_path, n=80, length=LENGTH)
    data, alph = load_data([f"bound={pos}", f"unbound={neg}"])
    tr, va = split_data(data, (0.8,), seed=0)
    bundle, _ = train_model(tr, va, alph, params={**TINY, "max_epochs": 3}, length=LENGTH, seed=0)
    res = interpret_model(bundle, data.sequences, data.y, tmp_path / "m", attribution="none", pair_kernels=2)
    kt = res["kernel_table"]
    assert res["target_class"] == "bound" and set(kt["favours"]) <= {"bound", "unbound"}
    flags = kt.sort_values("rank")["favours_target"].to_numpy()
    assert flags[0] and not np.any(np.diff(flags.astype(int)) > 0)  # target kernels form the first block
    assert (kt["favours_target"] == (kt["favours"] == "bound")).all()
    report = (tmp_path / "m" / "report.html").read_text()
    assert "Kernels favouring bound first" in report and "favours bound" in report
    assert ("(background-enriched)" in report) == bool((kt["favours"] == "unbound").any())
    assert pd.read_csv(tmp_path / "m" / "kernels.tsv", sep="\t")["rank"].tolist() == list(
        range(1, len(kt) + 1)
    )
