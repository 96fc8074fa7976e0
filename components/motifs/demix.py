"""Layer-wise demixing of a deep neuron's samples into motifs and their grammar (NeuronMotif).

A neuron of conv layer ``l`` combines several lower-level patterns. Its samples (receptive-field
windows, :mod:`components.motifs.sampling`) are clustered with k-means (scikit-learn) on their
feature maps at layer ``l - 1``, each cluster again on layer ``l - 2`` and so on down to layer 1;
the number of clusters per lower layer comes from a small criterion (:func:`load_criterion`).
Every leaf cluster gives a position frequency matrix over the receptive field, which is split into
*segments* (runs of informative columns, information content corrected for the number of
samples); consecutive segments of a leaf form the neuron's *grammar*: motif A, motif B, the gap
between them and how many samples support it (Wei et al., PNAS 2023; Zeng et al., CombMotif).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from components.common.errors import InputError
from components.motifs.meme import Motif, information_content
from components.motifs.receptive import ConvLayer, conv_feature_maps

__all__ = [
    "DEFAULT_CRITERION",
    "load_criterion",
    "clusters_for",
    "Leaf",
    "Segment",
    "demix",
    "decode_counts",
    "split_segments",
    "leaf_segments",
    "grammar_table",
]

#: cluster counts: ``default`` per lower layer, overridden per (neuron layer, lower layer) in ``layers``
DEFAULT_CRITERION: dict[str, Any] = {
    "default": 3,
    "min_cluster_size": 10,
    "layers": {"conv2": {"conv1": 4}, "conv3": {"conv2": 3, "conv1": 2}},
}


def load_criterion(spec: str | Path | dict | None = None) -> dict[str, Any]:
    """The demixing criterion from a YAML/JSON file or a dict, merged over :data:`DEFAULT_CRITERION`.

    Format::

        default: 3              # clusters at every lower layer not listed below
        min_cluster_size: 10    # never make clusters smaller than this
        layers:
          conv3: {conv2: 3, conv1: 2}   # a conv3 neuron: 3 clusters on conv2 maps, then 2 on conv1

    Raises
    ------
    InputError
        Unreadable file, unknown keys, layer names that are not ``convN``, counts that are not
        positive integers.
    """
    file = None
    if spec is None:
        raw: Any = {}
    elif isinstance(spec, dict):
        raw = spec
    else:
        import yaml

        file = Path(spec)
        if not file.is_file():
            raise InputError("demixing criterion file not found", file=file)
        try:
            raw = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"not valid YAML/JSON: {str(exc).splitlines()[0]}", file=file) from None
    if not isinstance(raw, dict):
        raise InputError(
            "demixing criterion must be a mapping (default, min_cluster_size, layers)", file=file
        )
    unknown = set(raw) - set(DEFAULT_CRITERION)
    if unknown:
        raise InputError(
            f"unknown key(s) {', '.join(sorted(map(str, unknown)))} in the demixing criterion; "
            f"allowed: {', '.join(DEFAULT_CRITERION)}",
            file=file,
        )

    def count(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{where} must be a positive integer, got {value!r}", file=file)
        return int(value)

    out: dict[str, Any] = {
        "default": count(raw.get("default", DEFAULT_CRITERION["default"]), "default"),
        "min_cluster_size": count(
            raw.get("min_cluster_size", DEFAULT_CRITERION["min_cluster_size"]), "min_cluster_size"
        ),
        "layers": {k: dict(v) for k, v in DEFAULT_CRITERION["layers"].items()},
    }
    layers = raw.get("layers", {}) or {}
    if not isinstance(layers, dict):
        raise InputError("'layers' must map a layer (conv3) to {lower layer: clusters}", file=file)
    for top, lower in layers.items():
        if not _is_conv(top) or not isinstance(lower, dict):
            raise InputError(
                f"layers: {top!r} must be a conv layer name (conv2, conv3, ...) with a mapping", file=file
            )
        for low, k in lower.items():
            if not _is_conv(low) or int(str(low)[4:]) >= int(str(top)[4:]):
                raise InputError(f"layers.{top}: {low!r} must be a conv layer below {top}", file=file)
            out["layers"].setdefault(str(top), {})[str(low)] = count(k, f"layers.{top}.{low}")
    return out


def _is_conv(name: Any) -> bool:
    s = str(name)
    return s.startswith("conv") and s[4:].isdigit() and int(s[4:]) >= 1


def clusters_for(criterion: dict[str, Any], layer: int, lower: int) -> int:
    """Clusters on the maps of conv layer ``lower`` when demixing a neuron of conv layer ``layer``."""
    return int(criterion["layers"].get(f"conv{layer}", {}).get(f"conv{lower}", criterion["default"]))


@dataclass(frozen=True)
class Leaf:
    """One leaf cluster of a neuron's samples."""

    path: tuple[int, ...]  # cluster index at each lower layer, from layer l-1 down
    indices: np.ndarray  # rows of the neuron's samples
    counts: np.ndarray  # (receptive_field, channels) letter counts (outside columns count nothing)
    mean_activation: float

    @property
    def label(self) -> str:
        return "-".join(map(str, self.path)) if self.path else "all"


def demix(
    net: nn.Module,
    windows: np.ndarray,
    activations: np.ndarray,
    layer: ConvLayer,
    criterion: dict[str, Any],
    *,
    seed: int = 0,
    batch_size: int = 512,
) -> list[Leaf]:
    """Cluster a neuron's samples recursively on the feature maps of the layers below.

    Parameters
    ----------
    windows
        ``(m, channels, layer.receptive_field)`` samples of one neuron of ``layer``.
    activations
        ``(m,)`` the neuron's activation on each sample.

    Returns
    -------
    list of Leaf
        Largest first. A layer-1 neuron gives a single leaf.
    """
    from sklearn.cluster import KMeans

    m = len(windows)
    maps: list[np.ndarray] = []
    if layer.index > 1 and m:
        net.eval()
        parts: list[list[np.ndarray]] = [[] for _ in range(layer.index - 1)]
        with torch.no_grad():
            for i in range(0, m, batch_size):
                fm = conv_feature_maps(net, torch.from_numpy(windows[i : i + batch_size]), layer.index - 1)
                for j, f in enumerate(fm):
                    parts[j].append(f.flatten(1).numpy())
        maps = [np.concatenate(p) for p in parts]
    min_size = int(criterion["min_cluster_size"])
    leaves: list[Leaf] = []

    def split(idx: np.ndarray, lower: int, path: tuple[int, ...]) -> None:
        if lower < 1:
            leaves.append(Leaf(path, idx, windows[idx].sum(0).T, float(activations[idx].mean())))
            return
        k = min(clusters_for(criterion, layer.index, lower), len(idx) // min_size)
        if k < 2:
            split(idx, lower - 1, path)
            return
        feats = maps[lower - 1][idx]
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(feats)
        labels = km.labels_
        # clusters numbered by size (0 = largest), so paths are stable between runs
        order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
        for c_new, c in enumerate(order):
            sub = idx[labels == c]
            if len(sub):
                split(sub, lower - 1, (*path, c_new))

    if m:
        split(np.arange(m), layer.index - 1, ())
    return sorted(leaves, key=lambda lf: -len(lf.indices))


def _probabilities(counts: np.ndarray) -> np.ndarray:
    """pysster's pseudocount: ``0.999 * count / n + 0.001 / |alphabet|``; empty columns uniform."""
    n = counts.sum(axis=1, keepdims=True)
    p = np.where(n > 0, counts / np.where(n > 0, n, 1.0), 1.0 / counts.shape[1])
    return 0.999 * p + 0.001 / counts.shape[1]


def decode_counts(
    counts: np.ndarray, channels: list[tuple[str, str | None]]
) -> tuple[np.ndarray, str, np.ndarray | None, str | None]:
    """Channel counts -> ``(sequence counts, sequence letters, structure counts, structure letters)``.

    For a plain alphabet the structure parts are None; for a sequence x structure alphabet every
    channel's count is added to its base and to its structure letter.
    """
    bases = list(dict.fromkeys(b for b, _ in channels))
    structs = list(dict.fromkeys(s for _, s in channels if s is not None))
    seq = np.zeros((len(counts), len(bases)))
    st = np.zeros((len(counts), len(structs))) if structs else None
    for c, (b, s) in enumerate(channels):
        seq[:, bases.index(b)] += counts[:, c]
        if st is not None and s is not None:
            st[:, structs.index(s)] += counts[:, c]
    return seq, "".join(bases), st, ("".join(structs) if structs else None)


def _corrected_ic(counts: np.ndarray) -> np.ndarray:
    """Information content per column minus the small-sample bias ``(A - 1) / (2 ln 2 n)``."""
    n = counts.sum(axis=1)
    ic = information_content(_probabilities(counts))
    bias = (counts.shape[1] - 1) / (2 * math.log(2) * np.maximum(n, 1))
    return np.where(n > 0, ic - bias, 0.0)


def split_segments(informative: np.ndarray, *, max_gap: int = 1, min_width: int = 4) -> list[tuple[int, int]]:
    """Runs of informative columns -> ``(start, end)`` segments (end exclusive).

    Runs separated by at most ``max_gap`` uninformative columns are merged; segments narrower than
    ``min_width`` are dropped.
    """
    cols = np.flatnonzero(informative)
    segs: list[list[int]] = []
    for c in cols:
        if segs and c - segs[-1][1] <= max_gap:
            segs[-1][1] = int(c) + 1
        else:
            segs.append([int(c), int(c) + 1])
    return [(a, b) for a, b in segs if b - a >= min_width]


@dataclass(frozen=True)
class Segment:
    """A motif segment of a leaf PFM (positions relative to the receptive field)."""

    leaf: str
    index: int
    start: int
    end: int
    motif: Motif  # sequence letters
    structure_motif: Motif | None  # structure letters (sequence x structure models)
    n_samples: int


def leaf_segments(
    leaf: Leaf,
    channels: list[tuple[str, str | None]],
    prefix: str,
    *,
    min_bits: float = 0.5,
    max_gap: int = 1,
    min_width: int = 4,
) -> tuple[Motif, Motif | None, list[Segment]]:
    """The leaf's full sequence (and structure) motif and its segments.

    A column is informative when its corrected information content reaches ``min_bits`` in the
    sequence letters or in the structure letters.
    """
    seq, letters, st, st_letters = decode_counts(leaf.counts, channels)
    n = int(len(leaf.indices))
    informative = _corrected_ic(seq) >= min_bits
    if st is not None:
        informative |= _corrected_ic(st) >= min_bits
    full = Motif(f"{prefix}_leaf{leaf.label}", _probabilities(seq), letters, nsites=n)
    full_st = (
        None
        if st is None
        else Motif(f"{prefix}_leaf{leaf.label}_structure", _probabilities(st), str(st_letters), nsites=n)
    )
    segs = []
    for i, (a, b) in enumerate(split_segments(informative, max_gap=max_gap, min_width=min_width)):
        mid = f"{prefix}_leaf{leaf.label}_seg{i}"
        sm = Motif(mid, full.pwm[a:b], letters, nsites=n, meta={"start": a, "end": b})
        ssm = (
            None
            if full_st is None
            else Motif(f"{mid}_structure", full_st.pwm[a:b], full_st.alphabet, nsites=n)
        )
        segs.append(Segment(leaf.label, i, a, b, sm, ssm, n))
    return full, full_st, segs


def grammar_table(neuron: str, segments: list[Segment], names: dict[str, str] | None = None) -> pd.DataFrame:
    """Consecutive segment pairs of each leaf: ``neuron, leaf, motif_a, motif_b, name_a, name_b,
    consensus_a, consensus_b, distance`` (letters between the end of A and the start of B),
    ``offset`` (start to start) and ``count`` (samples of the leaf).

    ``names`` maps a segment motif id to a display name (e.g. its best Tomtom match).
    """
    names = names or {}
    rows = []
    by_leaf: dict[str, list[Segment]] = {}
    for s in segments:
        by_leaf.setdefault(s.leaf, []).append(s)
    for leaf, segs in by_leaf.items():
        segs = sorted(segs, key=lambda s: s.start)
        for a, b in zip(segs[:-1], segs[1:], strict=True):
            rows.append(
                {
                    "neuron": neuron,
                    "leaf": leaf,
                    "motif_a": a.motif.id,
                    "motif_b": b.motif.id,
                    "name_a": names.get(a.motif.id, a.motif.consensus()),
                    "name_b": names.get(b.motif.id, b.motif.consensus()),
                    "consensus_a": a.motif.consensus(),
                    "consensus_b": b.motif.consensus(),
                    "distance": b.start - a.end,
                    "offset": b.start - a.start,
                    "count": a.n_samples,
                }
            )
    cols = ["neuron", "leaf", "motif_a", "motif_b", "name_a", "name_b", "consensus_a", "consensus_b"]
    return pd.DataFrame(rows, columns=[*cols, "distance", "offset", "count"])
