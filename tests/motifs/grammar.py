"""Synthetic planted-grammar data: the label is 1 iff motif A is followed by motif B at gap ``GAP``.

Negatives hold A alone, B alone, B before A, A and B at a wrong gap, or neither, so neither motif
decides the label on its own. A 3-conv-layer CNN learns the rule in seconds on one core.
"""

from __future__ import annotations

import numpy as np

from components.motifs.meme import Motif
from tests.motifs.synthetic import fit_plain_cnn

LETTERS = "ACGU"
MOTIF_A = "GCAUCGA"
MOTIF_B = "UAGGCUU"
DECOY = "CCUUGAAU"
GAP = 3  # letters between the end of A and the start of B


def planted_motifs(purity: float = 0.9) -> list[Motif]:
    """A, B and a decoy as PWMs (``purity`` on the consensus letter)."""
    out = []
    for name, cons in (("motif_A", MOTIF_A), ("motif_B", MOTIF_B), ("decoy", DECOY)):
        pwm = np.full((len(cons), 4), (1 - purity) / 3)
        pwm[np.arange(len(cons)), [LETTERS.index(c) for c in cons]] = purity
        out.append(Motif(name, pwm, LETTERS, name=name))
    return out


def make_grammar_data(n: int = 3000, length: int = 50, seed: int = 0):
    """Returns (sequences, y (n, 1) float32, kind (n,) str)."""
    rng = np.random.default_rng(seed)
    kinds = ["AB", "AB", "AB", "A", "B", "BA", "A_far_B", "none"]
    seqs, ys, ks = [], [], []
    la, lb = len(MOTIF_A), len(MOTIF_B)
    for _ in range(n):
        s = list(rng.choice(list(LETTERS), size=length))
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind in ("AB", "A_far_B"):
            gap = GAP if kind == "AB" else int(rng.integers(GAP + 6, GAP + 12))
            a = int(rng.integers(0, length - la - gap - lb + 1))
            s[a : a + la] = MOTIF_A
            s[a + la + gap : a + la + gap + lb] = MOTIF_B
        elif kind == "BA":
            b = int(rng.integers(0, length - la - GAP - lb + 1))
            s[b : b + lb] = MOTIF_B
            s[b + lb + GAP : b + lb + GAP + la] = MOTIF_A
        elif kind in ("A", "B"):
            m = MOTIF_A if kind == "A" else MOTIF_B
            a = int(rng.integers(0, length - len(m) + 1))
            s[a : a + len(m)] = m
        seqs.append("".join(s))
        ys.append(1.0 if kind == "AB" else 0.0)
        ks.append(kind)
    return seqs, np.asarray(ys, np.float32)[:, None], np.asarray(ks)


def train_grammar_cnn(seqs, y, *, seed: int = 0, epochs: int = 12, lr: float = 5e-3):
    """A 3-conv-layer CNN (seqmodels API) trained with a plain Adam loop on the binary task."""
    import torch

    from components.seqmodels.data import SequenceData

    torch.manual_seed(seed)
    n = len(seqs)
    data = SequenceData(
        list(seqs), [f"s{i}" for i in range(n)], y, "binary", ["y"], class_names=["pos", "neg"]
    )
    params = {
        "conv_num": 3,
        "kernel_num": [16, 16, 8],
        "kernel_len": [6, 5, 3],
        "pool_size": 2,
        "dense_num": 1,
        "neuron_num": 16,
        "dropout_input": 0.0,
        "dropout_conv": 0.0,
        "dropout_dense": 0.0,
        "global_pool": "max",
    }
    return fit_plain_cnn(data, params, seed=seed, epochs=epochs, lr=lr, loss="bce")
