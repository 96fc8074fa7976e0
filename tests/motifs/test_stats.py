"""Dinucleotide shuffle, scramble interaction test and neuron contribution on known functions."""

from __future__ import annotations

from collections import Counter

import numpy as np

from components.motifs.contribution import neuron_contribution
from components.motifs.interaction import dinucleotide_shuffle, interaction_table, pair_interaction


def _dinucs(s: str) -> Counter:
    return Counter(s[i : i + 2] for i in range(len(s) - 1))


def test_dinucleotide_shuffle_preserves_counts_and_ends():
    rng = np.random.default_rng(0)
    s = "".join(rng.choice(list("ACGU"), 60))
    outs = {dinucleotide_shuffle(s, rng) for _ in range(20)}
    assert len(outs) > 10  # it actually shuffles
    for o in outs:
        assert _dinucs(o) == _dinucs(s) and o[0] == s[0] and o[-1] == s[-1]
    assert dinucleotide_shuffle("AAAA", rng) == "AAAA"
    assert dinucleotide_shuffle("AC", rng) == "AC"


def _toy_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    seqs, sa, sb, sc = [], [], [], []
    for _ in range(n):
        s = list(rng.choice(list("ACGU"), 40))
        s[5:12], s[20:27], s[30:37] = list("GCAUCGA"), list("UACGGUA"), list("CCUUGAA")
        seqs.append("".join(s))
        sa.append((5, 12))
        sb.append((20, 27))
        sc.append((30, 37))
    return seqs, sa, sb, sc


def _predict(seqs):
    a = np.array([("GCAUCGA" in s) for s in seqs], float)
    b = np.array([("UACGGUA" in s) for s in seqs], float)
    c = np.array([("CCUUGAA" in s) for s in seqs], float)
    return (a + b + 2 * a * b + c)[:, None]


def test_pair_interaction_calls_synergy_and_additivity():
    seqs, sa, sb, sc = _toy_data()
    ab = pair_interaction(_predict, seqs, sa, sb, seed=1)
    ac = pair_interaction(_predict, seqs, sa, sc, seed=2)
    ab.update(motif_a="A", motif_b="B")
    ac.update(motif_a="A", motif_b="C")
    table = interaction_table([ab, ac])
    calls = dict(zip(table["motif_b"], table["call"], strict=True))
    assert calls == {"B": "synergistic", "C": "additive"}
    assert ab["joint_median"] > ab["additive_median"]


def test_pair_interaction_antagonism():
    seqs, sa, sb, _ = _toy_data()

    def sub_additive(s):
        a = np.array([("GCAUCGA" in x) for x in s], float)
        b = np.array([("UACGGUA" in x) for x in s], float)
        return np.maximum(a, b)[:, None]  # either one is enough

    r = pair_interaction(sub_additive, seqs, sa, sb, seed=3)
    r.update(motif_a="A", motif_b="B")
    assert interaction_table([r])["call"].iloc[0] == "antagonistic"


def test_neuron_contribution_signs():
    rng = np.random.default_rng(0)
    n = 400
    acts = rng.random((n, 3))
    values = 2.0 * (acts[:, 0] > 0.7) - 1.5 * (acts[:, 1] > 0.7) + 0.1 * rng.normal(size=n)
    df = neuron_contribution(acts, values, threshold=0.7)
    assert df["sign"].tolist()[:2] == ["enhancing", "repressing"]
    assert abs(df.loc[2, "cohens_d"]) < 0.3  # the unrelated neuron has no real effect
    assert df.loc[0, "cohens_d"] > 1 and df.loc[1, "cohens_d"] < -1
    assert {"p_value", "mw_p_value", "q_value", "n_firing"} <= set(df.columns)


def test_dinucleotide_shuffle_large_alphabet_is_fast_and_exact():
    """Sequence x structure letters (20 symbols): the tree step must not be a rejection loop."""
    import collections
    import time

    rng = np.random.default_rng(0)
    seq = "".join(chr(65 + i) for i in rng.integers(0, 20, 200))
    t0 = time.perf_counter()
    outs = [dinucleotide_shuffle(seq, rng) for _ in range(200)]
    assert time.perf_counter() - t0 < 10  # the rejection sampler it replaces did not finish in minutes

    def pairs(s):
        return collections.Counter(zip(s, s[1:], strict=False))

    for out in outs:
        assert pairs(out) == pairs(seq) and out[0] == seq[0] and out[-1] == seq[-1]
    assert len(set(outs)) > 150
