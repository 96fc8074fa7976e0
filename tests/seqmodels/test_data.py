import numpy as np
import pandas as pd
import pytest

from components.common.errors import InputError
from components.seqmodels.data import load_data, split_data
from tests.seqmodels.toy import binary_fastas, random_seqs, write_fasta


def test_fasta_per_class_names_gzip_and_split(tmp_path):
    pos, neg = binary_fastas(tmp_path, n=30)
    data, alph = load_data([f"yes={pos}", str(neg)])
    assert alph.letters == "ACGU" and data.task == "binary"
    assert data.class_names == ["yes", "unbound"] and data.output_names == ["yes"]
    assert data.y[:30].sum() == 30 and data.y[30:].sum() == 0
    tr, va, te = split_data(data, (0.8, 0.1), seed=1)
    assert len(tr) + len(va) + len(te) == 60 and te.y.sum() == 3  # stratified


def test_three_line_fasta_structures_and_multilabel(tmp_path):
    f = write_fasta(tmp_path / "a.fa", ["GGGAAACCC"], ["(((...)))"])
    g = write_fasta(tmp_path / "b.fa", ["GGGAAACCC"], ["........."])
    data, _ = load_data([str(f), str(g)])
    assert data.structures == ["(((...)))", "........."]
    ml = tmp_path / "ml.fa"
    ml.write_text(">s1 labels=A,B\nACGU\n>s2 labels=B\nACGG\n>0,2\nAAAA\n")
    data, _ = load_data([str(ml)], task="multilabel")
    assert data.task == "multilabel" and data.output_names == ["0", "2", "A", "B"]
    assert data.y.tolist()[0] == [0, 0, 1, 1]


def test_tables_auto_task(tmp_path):
    seqs = random_seqs(30, 12, 0, letters="ACGT")
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "seq": seqs,
            "y": rng.normal(size=30),
            "c": rng.choice(["a", "b", "c"], 30),
            "l1": rng.integers(0, 2, 30),
            "l2": rng.integers(0, 2, 30),
        }
    )
    p = tmp_path / "t.tsv"
    df.to_csv(p, sep="\t", index=False)
    assert load_data([str(p)], targets=["y"])[0].task == "regression"
    d, alph = load_data([str(p)], targets=["c"])
    assert d.task == "multiclass" and alph.name == "DNA" and d.y.shape == (30, 3)
    assert load_data([str(p)], targets=["l1", "l2"])[0].task == "multilabel"
    pq = tmp_path / "t.parquet"
    df.to_parquet(pq)
    assert load_data([str(pq)], targets=["l1"])[0].task == "binary"


@pytest.mark.parametrize(
    ("case", "pattern"),
    [
        ("invalid", r"bad\.fa: record 'seq1' \(line 3\): invalid character 'X' at position 5"),
        ("empty", r"empty\.fa: file is empty"),
        ("single", r"single FASTA file is a single class"),
        ("mismatch", r"labels do not match the task: binary needs 2 classes"),
        ("nan", r"t\.csv: row 2: target 'y' is NaN"),
        ("regression_fasta", r"labels do not match the task"),
    ],
)
def test_errors_name_file_record_and_reason(tmp_path, case, pattern):
    good = write_fasta(tmp_path / "good.fa", ["ACGUACGU", "ACGUACGU"])
    if case == "invalid":
        bad = tmp_path / "bad.fa"
        bad.write_text(">seq0\nACGUACGU\n>seq1\nACGUXCGU\n")
        args, kw = [str(good), str(bad)], {}
    elif case == "empty":
        (tmp_path / "empty.fa").write_text("")
        args, kw = [str(good), str(tmp_path / "empty.fa")], {}
    elif case == "single":
        args, kw = [str(good)], {"task": "binary"}
    elif case == "mismatch":
        pd.DataFrame({"sequence": ["ACGU"] * 3, "y": ["a", "b", "c"]}).to_csv(tmp_path / "t.csv", index=False)
        args, kw = [str(tmp_path / "t.csv")], {"targets": ["y"], "task": "binary"}
    elif case == "nan":
        pd.DataFrame({"sequence": ["ACGU"] * 3, "y": [1.0, None, 2.0]}).to_csv(
            tmp_path / "t.csv", index=False
        )
        args, kw = [str(tmp_path / "t.csv")], {"targets": ["y"]}
    else:
        args, kw = [str(good), str(good).replace("good", "good")], {"task": "regression"}
        other = write_fasta(tmp_path / "other.fa", ["ACGUACGU"])
        args = [str(good), str(other)]
    with pytest.raises(InputError, match=pattern) as exc:
        load_data(args, **kw)
    assert "\n" not in exc.value.one_line()


def test_split_keeps_identical_sequences_on_one_side():
    seqs = random_seqs(60, 12, seed=4)
    seqs += seqs[:20]  # 20 sequences twice, one copy with the other label
    y = np.r_[np.ones(30), np.zeros(30), np.zeros(10), np.ones(10)][:, None].astype(np.float32)
    from components.seqmodels.data import SequenceData

    data = SequenceData(seqs, [str(i) for i in range(80)], y, "binary", ["p"], ["p", "n"])
    for seed in range(5):
        parts = [set(p.sequences) for p in split_data(data, (0.7, 0.15), seed=seed)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert sum(len(p) for p in split_data(data, (0.7, 0.15), seed=seed)) == 80


def test_test_file_repeating_training_sequences_warns_with_the_count(tmp_path):
    from components.common.errors import DynamotifWarning
    from components.seqmodels import run
    from components.seqmodels.config import SequenceConfig

    pos, neg = binary_fastas(tmp_path, n=30)
    test_pos = write_fasta(tmp_path / "tpos.fa", random_seqs(30, 40, 0, "UGUAAAUA")[:4] + ["ACGU" * 10])
    test_neg = write_fasta(tmp_path / "tneg.fa", random_seqs(5, 40, 9))
    cfg = SequenceConfig.from_mapping(
        {"data": [f"p={pos}", f"n={neg}"], "test": [f"p={test_pos}", f"n={test_neg}"]}
    )
    with pytest.warns(
        DynamotifWarning, match=r"4 of 10 test sequences \(.*tpos\.fa.*\) also occur in the training"
    ):
        splits = run.load(cfg)
    assert splits.n_test_in_train == 4 and splits.sizes()["n_test_in_train"] == 4
