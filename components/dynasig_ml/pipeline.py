"""The fitted end-to-end predictor: variant strings -> mutation -> signatures -> standardise -> model.

:func:`variant_signatures` computes the ENCoM Entropic Signatures of variants of a WT structure (in
memory: :func:`components.mutation.mutate_many` then :func:`components.encom.compute_signatures`); it
is what the flow maps over chunks. :class:`DynaSigPipeline` bundles a :class:`FittedModel` with the WT
structure and the ENCoM parameter set, so a registered model needs nothing but variant strings (plus
the extra feature columns, e.g. ``mcfold_energy``, when the model uses them).

Saved layout (:meth:`DynaSigPipeline.save`): ``pipeline.json`` (metadata, scaler), ``estimator.skops``
(the scikit-learn estimator in skops format: loading it runs no pickled code, only the types of
:data:`TRUSTED_TYPES` beyond skops' defaults are accepted) and ``wt.pdb``.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.errors import InputError
from components.dynasig_ml.data import SignatureSet
from components.dynasig_ml.fit import FittedModel
from components.encom.params import DEFAULT_PARAMS
from components.mutation.variants import canonical_variant

__all__ = ["variant_signatures", "DynaSigPipeline", "signature_labels", "TRUSTED_TYPES"]

FORMAT_VERSION = 2

#: types of fitted tree ensembles that skops does not trust by default (plain data holders)
TRUSTED_TYPES = (
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfSquaredError",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
)


def signature_labels(labels: Sequence[str]) -> list[str]:
    """DynaSig-ML labels (``S|12|A|12``): drop the residue-name prefix of NRGTEN labels (``U.S|12|A|12``)."""
    return [lab.split(".", 1)[1] if "." in lab.split("|")[0] else lab for lab in labels]


def variant_signatures(
    wt: Any,
    variants: Sequence[str],
    betas: Sequence[float],
    *,
    params: str = DEFAULT_PARAMS,
    timings: dict[str, float] | None = None,
) -> SignatureSet:
    """Entropic Signatures of ``variants`` of the WT structure ``wt`` (path or AtomArray).

    ``timings``, when given, accumulates the seconds spent in mutation (``mutation_s``) and in ENCoM
    (``signatures_s``), the latter split into building the Hessian (``matrix_s``: beads, topology,
    contact areas, Hessian terms; ``contacts_s`` alone) and its eigendecomposition (``eigh_s``).

    Raises
    ------
    InputError
        On a variant that does not fit the structure (all bad rows listed by the mutation component)
        or variants whose bead labels differ from the first one.
    """
    from biotite.structure import AtomArray

    from components.encom import compute_signatures, read_structure
    from components.mutation import mutate_many

    atoms = wt if isinstance(wt, AtomArray) else read_structure(wt)
    keys = [canonical_variant(v) for v in variants]
    values = np.empty((len(betas), len(keys), 0))
    labels: list[str] | None = None
    blocks = []
    texts = ["" if k == "WT" else k for k in keys]
    t_mut = t_sig = 0.0
    stages = {"matrix_s": 0.0, "contacts_s": 0.0, "eigh_s": 0.0}
    t0 = time.perf_counter()
    for _name, mutant in mutate_many(atoms, texts):
        t1 = time.perf_counter()
        t_mut += t1 - t0
        res = compute_signatures(mutant, betas=list(betas), params=params, name=f"variant {_name}")
        t0 = time.perf_counter()
        t_sig += t0 - t1
        st = res.timings
        stages["matrix_s"] += sum(st.get(k, 0.0) for k in ("beads", "topology", "contacts", "hessian"))
        stages["contacts_s"] += st.get("contacts", 0.0)
        stages["eigh_s"] += st.get("eigh", 0.0)
        labs = signature_labels(res.labels)
        if labels is None:
            labels = labs
        elif labs != labels:
            raise InputError(f"variant {_name!r} has different ENCoM beads than the others")
        blocks.append(np.asarray(res.entropic, dtype=np.float64))
    if labels is None:
        raise InputError("no variants to compute")
    values = np.stack(blocks, axis=1)
    if timings is not None:
        timings["mutation_s"] = timings.get("mutation_s", 0.0) + t_mut
        timings["signatures_s"] = timings.get("signatures_s", 0.0) + t_sig
        for key, value in stages.items():
            timings[key] = timings.get(key, 0.0) + value
    return SignatureSet(keys, np.asarray(betas, dtype=float), labels, values)


@dataclass
class DynaSigPipeline:
    """A :class:`FittedModel` plus what it needs to go from variant strings to predictions."""

    fitted: FittedModel
    wt_pdb: Path
    params: str = DEFAULT_PARAMS
    metrics: dict[str, float] | None = None

    @property
    def needs_signatures(self) -> bool:
        from components.dynasig_ml.predictors import parse_predictors

        return "signatures" in parse_predictors(self.fitted.predictors)

    @property
    def input_columns(self) -> list[str]:
        return ["variant", *self.fitted.feature_names]

    def predict_frame(self, df: pd.DataFrame, *, signatures: SignatureSet | None = None) -> np.ndarray:
        """Predict for a table with a ``variant`` column (+ the model's feature columns).

        ``signatures`` may hold precomputed signatures of these variants (at the model's β).
        """
        if "variant" not in df.columns:
            raise InputError(f"input needs a 'variant' column; columns are {', '.join(map(str, df.columns))}")
        missing = [c for c in self.fitted.feature_names if c not in df.columns]
        if missing:
            raise InputError(f"this model also needs column(s) {', '.join(missing)}")
        keys = [
            canonical_variant(
                "WT" if v is None or (isinstance(v, float) and np.isnan(v)) else v, record=f"row {i + 1}"
            )
            for i, v in enumerate(df["variant"])
        ]
        feats = None
        if self.fitted.feature_names:
            feats = df[self.fitted.feature_names].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(feats).all(axis=1)
            if bad.any():
                raise InputError(
                    f"row {int(np.flatnonzero(bad)[0]) + 1}: non-numeric or missing feature value"
                )
        from components.dynasig_ml.predictors import needs_wt

        if needs_wt(self.fitted.predictors):
            return self.fitted.predict_matrix(self._derived_design(keys, feats, signatures))
        sig = None
        if self.needs_signatures:
            assert self.fitted.beta is not None
            if signatures is None or not all(k in signatures for k in keys):
                unique = list(dict.fromkeys(keys))
                signatures = variant_signatures(self.wt_pdb, unique, [self.fitted.beta], params=self.params)
            sig = signatures.matrix(self.fitted.beta, keys)
            if signatures.labels != self.fitted.signature_labels:
                raise InputError("signature bead labels differ from the model's (another WT structure?)")
        return self.fitted.predict(feats, sig)

    def _derived_design(
        self, keys: list[str], feats: np.ndarray | None, signatures: SignatureSet | None
    ) -> np.ndarray:
        """Predictor matrix of a model using ENCoM-derived blocks (needs the WT's signature too)."""
        from components.dynasig_ml.predictors import derive_predictors, parse_predictors, residue_context
        from components.encom import read_structure

        beta = 1.0 if self.fitted.beta is None else float(self.fitted.beta)
        unique = list(dict.fromkeys([*keys, "WT"]))
        if signatures is None or not all(k in signatures for k in unique):
            signatures = variant_signatures(self.wt_pdb, unique, [beta], params=self.params)
        b = signatures.beta_index(beta)
        per_row = signatures.values[b : b + 1][:, signatures.rows(keys)]
        wt_sig = signatures.values[b : b + 1, signatures.rows(["WT"])[0]]
        context = residue_context(read_structure(self.wt_pdb), wt_sig, signatures.labels, [beta])
        derived = derive_predictors(keys, per_row, context)
        rows = np.arange(len(keys))
        blocks = []
        for name in parse_predictors(self.fitted.predictors):
            if name == "features":
                blocks.append(np.zeros((len(keys), 0)) if feats is None else feats)
            elif name == "signatures":
                blocks.append(per_row[0])
            else:
                blocks.append(derived.block(name, 0, rows))
        return np.hstack(blocks)

    def predict_variants(
        self, variants: Sequence[str], features: dict[str, Sequence[float]] | None = None
    ) -> np.ndarray:
        df = pd.DataFrame({"variant": list(variants), **(features or {})})
        return self.predict_frame(df)

    # ---------------------------------------------------------------------------------------- I/O
    def save(self, folder: str | Path) -> Path:
        """Write the pipeline into ``folder`` (created; must not hold another pipeline)."""
        import skops.io as sio

        blob = sio.dumps(self.fitted.estimator)
        untrusted = sorted(set(sio.get_untrusted_types(data=blob)) - set(TRUSTED_TYPES))
        if untrusted:
            raise InputError(
                f"model {self.fitted.model!r} holds type(s) {', '.join(untrusted)} that cannot be stored "
                "without pickle; use one of lasso, ridge, rf, gbr, hgb or another scikit-learn estimator"
            )
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.wt_pdb, folder / "wt.pdb")
        (folder / "estimator.skops").write_bytes(blob)
        f = self.fitted
        meta = {
            "format_version": FORMAT_VERSION,
            "model": f.model,
            "predictors": f.predictors,
            "beta": f.beta,
            "alpha": f.alpha,
            "feature_names": f.feature_names,
            "signature_labels": f.signature_labels,
            "mean": f.mean.tolist(),
            "scale": f.scale.tolist(),
            "target": f.target,
            "params": self.params,
            "metrics": self.metrics or {},
        }
        (folder / "pipeline.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> DynaSigPipeline:
        import skops.io as sio

        folder = Path(folder)
        meta_path = folder / "pipeline.json"
        if not meta_path.exists():
            raise InputError("not a DynaSig pipeline folder (no pipeline.json)", file=folder)
        meta = json.loads(meta_path.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise InputError(f"unsupported pipeline format {meta.get('format_version')!r}", file=meta_path)
        fitted = FittedModel(
            model=meta["model"],
            predictors=meta["predictors"],
            beta=meta["beta"],
            alpha=meta["alpha"],
            feature_names=list(meta["feature_names"]),
            signature_labels=list(meta["signature_labels"]),
            mean=np.asarray(meta["mean"], dtype=float),
            scale=np.asarray(meta["scale"], dtype=float),
            estimator=sio.load(folder / "estimator.skops", trusted=list(TRUSTED_TYPES)),
            target=meta["target"],
        )
        return cls(
            fitted=fitted, wt_pdb=folder / "wt.pdb", params=meta["params"], metrics=meta.get("metrics")
        )
