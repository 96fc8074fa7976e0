"""Variant grammar and validation against a structure (no structure code needed)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from components.mutation.variants import (
    Mutation,
    parse_mutation,
    parse_variant,
    validate_variants,
    variant_name,
)


def test_parse_rna_variant_both_separators():
    a = parse_variant("A12C;C74A")
    b = parse_variant(" A12C _ C74A ")
    assert a == b == (Mutation(None, 12, "", "A", "C"), Mutation(None, 74, "", "C", "A"))


def test_parse_protein_chain_and_insertion_code():
    assert parse_mutation("A:K45R") == Mutation("A", 45, "", "K", "R")
    assert parse_mutation("K45aR") == Mutation(None, 45, "A", "K", "R")
    assert parse_mutation("B:K-3aR") == Mutation("B", -3, "A", "K", "R")
    assert str(parse_mutation("B:K45aR")) == "B:K45aR"


@pytest.mark.parametrize("text", ["", "WT", "wt", None, float("nan")])
def test_wild_type_is_empty(text):
    assert parse_variant(text) == ()


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("A12", "malformed"),
        ("12C", "malformed"),
        ("a12c", "malformed"),
        ("A12CC", "malformed"),
        ("A12C;;C74A", "empty mutation"),
        ("A12C;A12G", "two mutations at one residue"),
        ("A12A", "does not change"),
        ("A:B:K45R", "malformed"),
    ],
)
def test_malformed(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_variant(text)


def test_name_sorted_by_position():
    muts = parse_variant("C74A;A12C")
    assert variant_name(muts) == "A12C_C74A"
    assert variant_name(()) == "WT"
    assert variant_name(parse_variant("B:K45R;A:G3aD")) == "A-G3aD_B-K45R"
    assert variant_name(parse_variant("B:K45R"), with_chain=False) == "K45R"


def _toy():
    """Two protein chains (A 1-3, B 1 + 2A insertion) and an RNA chain R 1-2 with a ligand."""
    rows = [
        ("A", 1, "", "LYS", ["N", "CA", "C", "O", "CB"]),
        ("A", 2, "", "GLY", ["N", "CA", "C", "O"]),
        ("A", 3, "", "SER", ["N", "CA", "C", "O", "CB", "OG"]),
        ("B", 1, "", "LYS", ["N", "CA", "C", "O", "CB"]),
        ("B", 2, "A", "ALA", ["N", "CA", "C", "O", "CB"]),
        ("R", 1, "", "G", ["C1'", "N9", "C4", "C8"]),
        ("R", 2, "", "U", ["C1'", "N1", "C2"]),  # C6 missing
        ("R", 3, "", "HOH", ["O"]),
    ]
    cols: dict[str, list] = {k: [] for k in ("chain_id", "res_id", "ins_code", "res_name", "atom_name")}
    for ch, rid, ic, rn, atoms in rows:
        for a in atoms:
            for k, v in zip(cols, (ch, rid, ic, rn, a), strict=True):
                cols[k].append(v)
    return SimpleNamespace(**{k: np.array(v) for k, v in cols.items()})


def test_validate_collects_every_bad_row():
    variants = [
        "A:K1R",  # 1 ok
        "K1R",  # 2 ambiguous (chains A and B)
        "A:G2W;A:S3A",  # 3 ok
        "R:G1A",  # 4 ok (RNA)
        "R:G1T",  # 5 T is not an RNA target
        "A:S9A",  # 6 not in the structure
        "A:A3G",  # 7 WT mismatch (S)
        "B:A2aG",  # 8 ok with insertion code
        "B:A2G",  # 9 2 without insertion code does not exist
        "R:U2C",  # 10 anchor atom missing
        "C:K1R",  # 11 unknown chain
        "K1",  # 12 malformed
        "A:K1R",  # 13 duplicate of row 1
        "R:X3A",  # 14 not a residue we can mutate
        "",  # 15 wild type
    ]
    good, bad = validate_variants(_toy(), variants)
    assert [g.row for g in good] == [1, 3, 4, 8, 15]
    assert [g.name for g in good] == ["A-K1R", "A-G2W_A-S3A", "R-G1A", "B-A2aG", "WT"]
    reasons = {r.row: r.reason for r in bad}
    assert sorted(reasons) == [2, 5, 6, 7, 9, 10, 11, 12, 13, 14]
    assert "chains A, B" in reasons[2]
    assert "unknown target residue 'T'" in reasons[5]
    assert "not in the structure" in reasons[6] and "not in the structure" in reasons[9]
    assert "wild-type letter A does not match" in reasons[7] and "which is S (SER)" in reasons[7]
    assert "lacks atom(s) C6" in reasons[10]
    assert "chain 'C'" in reasons[11]
    assert "malformed" in reasons[12]
    assert "same variant as row 1" in reasons[13]
    assert "HOH" in reasons[14]
    assert all(r.variant == variants[r.row - 1] for r in bad)


def test_grammar_module_is_light():
    code = (
        "import sys, components.mutation as m; m.parse_variant('A12C');"
        "heavy = [k for k in ('biotite', 'torch', 'scipy', 'pandas') if k in sys.modules];"
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


SPELLINGS = [
    "A12C;C74A",
    " A12C _ C74A ",
    "A12C,C74A",
    "A12C+C74A",
    "A:K45R",
    "A-K45R",
    "B:K45aR;A:G3D",
    "WT",
    "",
    "a12c",
    "A12A",
    "A12C;;C74A",
    "A12C;A12G",
    "A12",
    "K45AR",
]


@pytest.mark.parametrize("text", SPELLINGS)
def test_one_grammar_for_mutation_and_keys(text):
    """parse_variant (mutate) and canonical_variant (tables, signatures, serving) accept the same strings."""
    from components.common.errors import InputError
    from components.mutation.variants import canonical_variant

    try:
        muts = parse_variant(text)
    except ValueError:
        with pytest.raises(InputError):
            canonical_variant(text)
        return
    key = canonical_variant(text)
    assert parse_variant(key) == tuple(sorted(muts, key=Mutation.sort_key))
    assert canonical_variant(variant_name(muts)) == key  # file names read back


def test_canonical_variant_reads_file_ids_and_refuses_non_strings():
    from components.common.errors import InputError
    from components.mutation.variants import canonical_variant

    assert canonical_variant("mir125a_C74A_A12C.pdb") == "A12C;C74A"
    assert canonical_variant("mir125a_WT.pdb") == "WT"
    for value in (5, 5.5, True, None):
        with pytest.raises(InputError, match="must be a string"):
            canonical_variant(value)
