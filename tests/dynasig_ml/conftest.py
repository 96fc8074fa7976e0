"""Synthetic DynaSig data: signatures whose β = e^0 block carries a linear signal."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from components.dynasig_ml import SignatureSet

BETAS = np.array([np.e**-1, 1.0, np.e])


def synthetic(n: int = 120, n_res: int = 10, seed: int = 0) -> tuple[SignatureSet, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    letters = "ACGU"
    variants: list[str] = []
    for k in itertools.count(1):
        pos = sorted(rng.choice(np.arange(1, n_res + 1), size=1 + k % 4, replace=False))
        muts = []
        for p in pos:
            wt = letters[p % 4]
            new = letters[(p + 1 + rng.integers(3)) % 4]
            muts.append(f"{wt}{p}{new}")
        v = ";".join(muts)
        if v not in variants:
            variants.append(v)
        if len(variants) == n:
            break
    labels = [
        f"{b}|{r}|A|{r}" for r in range(1, n_res + 1) for b in ("P", "S", "B") if not (r == 1 and b == "P")
    ]
    base = rng.normal(size=(n, len(labels)))
    values = np.stack([base * s + rng.normal(scale=0.3 + 0.7 * (s != 1.0), size=base.shape) for s in BETAS])
    energy = rng.normal(size=n)
    y = 0.8 * base[:, 2] - 0.5 * base[:, 7] + 0.4 * energy + rng.normal(scale=0.2, size=n)
    sigs = SignatureSet(variants, BETAS.copy(), labels, values)
    table = pd.DataFrame(
        {"variant": variants, "eff": y, "energy": energy, "n": [v.count(";") + 1 for v in variants]}
    )
    return sigs, table


@pytest.fixture
def synth() -> tuple[SignatureSet, pd.DataFrame]:
    return synthetic()


def protein_cv_config(tmp_path, substitutions: str, seed: int, **changes):
    """Single mutants of residues 91-98 of ``test_medium.pdb`` (``SLNQYGKD``) to each letter of
    ``substitutions``, random ``ddg`` targets, and a ``cv-grouped:3`` config on them (``changes`` over
    it). Returns ``(config, variants)``."""
    from components.dynasig_ml.config import DynasigConfig
    from tests.conftest import shared

    wt = "SLNQYGKD"
    variants = [f"{a}{91 + i}{b}" for i, a in enumerate(wt) for b in substitutions if b != a]
    rng = np.random.default_rng(seed)
    pd.DataFrame({"variant": variants, "ddg": rng.normal(size=len(variants))}).to_csv(
        tmp_path / "v.csv", index=False
    )
    config = DynasigConfig(
        structure=shared("nrgten_test_structures", "test_medium.pdb"),
        variants=tmp_path / "v.csv",
        target="ddg",
        split="cv-grouped:3",
        validation="cv-strict:2",
        betas=(1.0,),
        **changes,
    )
    return config, variants
