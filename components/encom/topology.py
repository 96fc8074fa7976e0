"""Bead topology: bonds (NRGTEN's any-atom-pair <= 2 A rule), angles, dihedrals and long-range pairs."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.spatial import cKDTree

from components.encom.beads import BeadModel

__all__ = ["Topology", "build_topology", "bonds_from_atoms", "angles_from_bonds", "dihedrals_from_bonds"]


@dataclasses.dataclass(frozen=True)
class Topology:
    """Covalent-like topology of the beads.

    Attributes
    ----------
    bonds : ndarray, shape=(n_bonds, 2)
        Bead pairs (i < j), sorted.
    angles : ndarray, shape=(n_angles, 3)
        Paths i-j-k with i < k.
    dihedrals : ndarray, shape=(n_dihedrals, 4)
        Paths i-j-k-l of 4 distinct beads with i < l.
    long_range : ndarray, shape=(N, N), bool
        Pairs not related as 1-2, 1-3 or 1-4 (up to ``interact_level``); symmetric, False on the diagonal.
    """

    bonds: np.ndarray
    angles: np.ndarray
    dihedrals: np.ndarray
    long_range: np.ndarray


def bonds_from_atoms(beads: BeadModel, cutoff: float) -> np.ndarray:
    """Bead pairs of the same class with any atom pair at most ``cutoff`` apart, shape (n, 2), i < j."""
    tree = cKDTree(beads.atom_coords)
    pairs = tree.query_pairs(cutoff + 1e-6, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    bi = beads.atom_bead[pairs[:, 0]]
    bj = beads.atom_bead[pairs[:, 1]]
    ok = (bi != bj) & (beads.bead_class[bi] == beads.bead_class[bj])
    pairs, bi, bj = pairs[ok], bi[ok], bj[ok]
    diff = beads.atom_coords[pairs[:, 0]] - beads.atom_coords[pairs[:, 1]]
    ok = np.sqrt(np.einsum("ij,ij->i", diff, diff)) <= cutoff
    lo, hi = np.minimum(bi[ok], bj[ok]), np.maximum(bi[ok], bj[ok])
    n = beads.n_beads
    codes = np.unique(lo.astype(np.int64) * n + hi)
    return np.stack([codes // n, codes % n], axis=1)


def _neighbours(bonds: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed edges sorted by source: (src, dst, start offset of each source)."""
    src = np.concatenate([bonds[:, 0], bonds[:, 1]])
    dst = np.concatenate([bonds[:, 1], bonds[:, 0]])
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    starts = np.searchsorted(src, np.arange(n + 1))
    return src, dst, starts


def _pairs_within_groups(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ordered index pairs (a, b), a != b, inside groups [starts, starts+counts)."""
    reps = counts * counts
    group = np.repeat(np.arange(len(counts)), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    c = counts[group]
    a = starts[group] + offset // np.maximum(c, 1)
    b = starts[group] + offset % np.maximum(c, 1)
    keep = a != b
    return a[keep], b[keep]


def angles_from_bonds(bonds: np.ndarray, n: int) -> np.ndarray:
    """All bonded paths i-j-k (i != k), each once as i < k; shape (n_angles, 3)."""
    src, dst, starts = _neighbours(bonds, n)
    counts = np.diff(starts)
    a, b = _pairs_within_groups(starts[:-1], counts)
    i, k, j = dst[a], dst[b], src[a]
    keep = i < k
    out = np.stack([i[keep], j[keep], k[keep]], axis=1)
    return out[np.lexsort(out.T[::-1])] if len(out) else out.reshape(0, 3)


def dihedrals_from_bonds(bonds: np.ndarray, n: int) -> np.ndarray:
    """All bonded paths i-j-k-l of 4 distinct beads, each once as i < l; shape (n_dihedrals, 4)."""
    src, dst, starts = _neighbours(bonds, n)
    counts = np.diff(starts)
    # middle edge j -> k (both directions), i in N(j), l in N(k)
    j, k = src, dst
    nj, nk = counts[j], counts[k]
    reps = nj * nk
    e = np.repeat(np.arange(len(j)), reps)
    offset = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    i = dst[starts[j[e]] + offset // np.maximum(nk[e], 1)]
    l_ = dst[starts[k[e]] + offset % np.maximum(nk[e], 1)]
    jj, kk = j[e], k[e]
    keep = (i != kk) & (l_ != jj) & (i != l_) & (i < l_)
    out = np.stack([i[keep], jj[keep], kk[keep], l_[keep]], axis=1)
    return out[np.lexsort(out.T[::-1])] if len(out) else out.reshape(0, 4)


def build_topology(beads: BeadModel, *, cutoff: float = 2.0, interact_level: int = 3) -> Topology:
    """Bonds, angles, dihedrals and the long-range pair mask of ``beads``."""
    n = beads.n_beads
    bonds = bonds_from_atoms(beads, cutoff)
    angles = angles_from_bonds(bonds, n)
    dihedrals = dihedrals_from_bonds(bonds, n)
    related = np.zeros((n, n), dtype=bool)
    groups = [bonds, angles, dihedrals][: max(0, min(interact_level, 3))]
    for tuples in groups:
        width = tuples.shape[1]
        for a in range(width):
            for b in range(a + 1, width):
                related[tuples[:, a], tuples[:, b]] = True
    related |= related.T
    long_range = ~related
    np.fill_diagonal(long_range, False)
    return Topology(bonds=bonds, angles=angles, dihedrals=dihedrals, long_range=long_range)
