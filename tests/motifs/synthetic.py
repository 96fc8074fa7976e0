"""Synthetic RNA data with planted motifs and a known interaction, and a tiny trained model.

``y = A + B + 2 * A * B + C + noise``: motifs A and B act synergistically, C is additive with both.
Everything is seeded; the model trains in a few seconds on one CPU core.
"""

from __future__ import annotations

import numpy as np

from components.motifs.meme import Motif

LETTERS = "ACGU"
PLANTED = {"motif_A": "GCAUCGAC", "motif_B": "UACGGUAG", "motif_C": "CCUUGAAU"}


def planted_motifs(purity: float = 0.9) -> list[Motif]:
    """The planted consensus sequences as PWMs (``purity`` on the consensus letter)."""
    out = []
    for name, cons in PLANTED.items():
        pwm = np.full((len(cons), 4), (1 - purity) / 3)
        for i, c in enumerate(cons):
            pwm[i, LETTERS.index(c)] = purity
        out.append(Motif(name, pwm, LETTERS, name=name))
    return out


def make_data(n: int = 2400, length: int = 50, seed: int = 0, noise: float = 0.1):
    """Random sequences, each motif planted with probability 0.5 at a random free position.

    Returns (sequences, y (n, 1) float32, presence (n, 3) bool, sites dict name -> list of (start, end) or None).
    """
    rng = np.random.default_rng(seed)
    seqs, ys, pres = [], [], []
    sites: dict[str, list] = {k: [] for k in PLANTED}
    for _ in range(n):
        s = list(rng.choice(list(LETTERS), size=length))
        taken = np.zeros(length, bool)
        p = rng.random(3) < 0.5
        for present, (name, cons) in zip(p, PLANTED.items(), strict=True):
            if not present:
                sites[name].append(None)
                continue
            while True:
                start = int(rng.integers(0, length - len(cons) + 1))
                if not taken[max(0, start - 1) : start + len(cons) + 1].any():
                    break
            s[start : start + len(cons)] = list(cons)
            taken[start : start + len(cons)] = True
            sites[name].append((start, start + len(cons)))
        a, b, c = p.astype(float)
        ys.append(a + b + 2 * a * b + c + noise * rng.normal())
        seqs.append("".join(s))
        pres.append(p)
    return seqs, np.asarray(ys, np.float32)[:, None], np.asarray(pres), sites


def train_toy_bundle(seqs, y, *, seed: int = 0, kernel_num: int = 8, epochs: int = 12, lr: float = 5e-3):
    """A tiny CNN (seqmodels API) trained on the synthetic regression task."""
    import torch

    from components.seqmodels.data import SequenceData

    torch.manual_seed(seed)
    n = len(seqs)
    data = SequenceData(list(seqs), [f"s{i}" for i in range(n)], y, "regression", ["y"])
    params = {
        "conv_num": 1,
        "kernel_num": kernel_num,
        "kernel_len": 10,
        "pool_size": 1,
        "dense_num": 1,
        "neuron_num": 32,
        "dropout_input": 0.0,
        "dropout_conv": 0.0,
        "dropout_dense": 0.0,
        "global_pool": "max",
    }
    return fit_plain_cnn(data, params, seed=seed, epochs=epochs, lr=lr, loss="mse")


def fit_plain_cnn(data, params: dict, *, seed: int, epochs: int, lr: float, loss: str):
    """A CNN bundle for ``data`` trained with a plain Adam loop (no Lightning start-up cost): the tests
    only need a model that learned the rule. ``loss``: ``mse`` or ``bce`` (logits)."""
    import torch

    from components.seqmodels.alphabet import RNA
    from components.seqmodels.bundle import encode_data, make_bundle

    loss_fn = {
        "mse": torch.nn.functional.mse_loss,
        "bce": torch.nn.functional.binary_cross_entropy_with_logits,
    }[loss]
    bundle = make_bundle("cnn", params, RNA, len(data.sequences[0]), data)
    enc = encode_data(bundle, data, None)
    net, n = bundle.net, len(data.sequences)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    net.train()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, 64):
            idx = perm[i : i + 64]
            opt.zero_grad()
            loss_fn(net(enc.X[idx]), enc.y[idx]).backward()
            opt.step()
    net.eval()
    return bundle
