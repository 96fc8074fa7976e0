"""The ENCoM Hessian: V1 (bonds), V2 (angles), V3 (dihedrals), V4 (long range with surface complementarity).

Frappier & Najmanovich 2014 (PLoS Comput Biol 10:e1003569), as implemented by NRGTEN 1.2.9. All terms are
analytic second derivatives at the input structure, with unit masses:

* V1: block(i, j) = -2 kr D D^T / d^2 for bonded beads (D = x_j - x_i), + on the diagonal blocks.
* V2, V3: H_ab += 2 k / (1 - G^2) dG/da dG/db with G = cos(angle) or cos(dihedral) (STeM form).
* V4: block(i, j) = -120 (epsilon + B_ij) / d^p D D^T for long-range pairs (no distance cutoff).
* B_ij = max(0, sum over atom contacts between beads i and j of S(a->b) e(t_a, t_b)), S the directed
  Vcontacts contact area and e the Sobolev atom-type interaction matrix.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from components.common.errors import DynamotifError
from components.encom.beads import BeadModel
from components.encom.params import EncomParams, interaction_matrix
from components.encom.topology import Topology

__all__ = ["surface_complementarity", "build_hessian", "angle_terms", "dihedral_terms"]


def surface_complementarity(
    beads: BeadModel, contact_i: np.ndarray, contact_j: np.ndarray, area: np.ndarray, params: EncomParams
) -> np.ndarray:
    """B_ij matrix (N, N) from directed atom contacts (indices into the bead atoms of ``beads``)."""
    n = beads.n_beads
    emat = interaction_matrix(params)
    bi = beads.atom_bead[contact_i]
    bj = beads.atom_bead[contact_j]
    weight = area * emat[beads.atom_type[contact_i], beads.atom_type[contact_j]]
    inter = bi != bj
    w = np.bincount(bi[inter] * n + bj[inter], weights=weight[inter], minlength=n * n).reshape(n, n)
    bij = w + w.T
    np.maximum(bij, 0.0, out=bij)
    return bij


def _outer_terms(
    idx: np.ndarray, grad: np.ndarray, const: np.ndarray, dim: int
) -> tuple[np.ndarray, np.ndarray]:
    """Flat (3N x 3N) indices and values of const * grad_a grad_b^T for every term (a, b over its beads)."""
    n_terms, n_pts = idx.shape
    coord = (3 * idx[:, :, None] + np.arange(3)).reshape(n_terms, 3 * n_pts)
    g = grad.reshape(n_terms, 3 * n_pts)
    vals = const[:, None, None] * (g[:, :, None] * g[:, None, :])  # exactly symmetric
    flat = coord[:, :, None] * dim + coord[:, None, :]
    return flat.ravel(), vals.ravel()


def angle_terms(centers: np.ndarray, angles: np.ndarray, ktheta: float) -> tuple[np.ndarray, np.ndarray]:
    """V2 for angles (i, j, k), G = cos of the angle at j: flat (3N x 3N) indices and values to add."""
    dim = 3 * len(centers)
    if len(angles) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    xi, xj, xk = (centers[angles[:, c]] for c in range(3))
    p, q = xi - xj, xk - xj
    np_, nq = np.linalg.norm(p, axis=1), np.linalg.norm(q, axis=1)
    g = np.einsum("ij,ij->i", p, q) / (np_ * nq)
    dp = q / (np_ * nq)[:, None] - (g / np_**2)[:, None] * p
    dq = p / (np_ * nq)[:, None] - (g / nq**2)[:, None] * q
    grad = np.stack([dp, -(dp + dq), dq], axis=1)
    return _outer_terms(angles, grad, 2.0 * ktheta / (1.0 - g**2), dim)


def dihedral_terms(centers: np.ndarray, dihedrals: np.ndarray, kphi: float) -> tuple[np.ndarray, np.ndarray]:
    """V3 for dihedrals (i, j, k, l), G = cos of the dihedral: flat (3N x 3N) indices and values to add."""
    dim = 3 * len(centers)
    if len(dihedrals) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    xi, xj, xk, xl = (centers[dihedrals[:, c]] for c in range(4))
    a, b, c = xj - xi, xk - xj, xl - xk
    v1, v2 = np.cross(a, b), np.cross(b, c)
    n1, n2 = np.linalg.norm(v1, axis=1), np.linalg.norm(v2, axis=1)
    g = np.einsum("ij,ij->i", v1, v2) / (n1 * n2)
    g1 = v2 / (n1 * n2)[:, None] - (g / n1**2)[:, None] * v1  # dG/dv1
    g2 = v1 / (n1 * n2)[:, None] - (g / n2**2)[:, None] * v2  # dG/dv2
    da = np.cross(b, g1)
    db = np.cross(g1, a) + np.cross(c, g2)
    dc = np.cross(g2, b)
    grad = np.stack([-da, da - db, db - dc, dc], axis=1)
    return _outer_terms(dihedrals, grad, 2.0 * kphi / (1.0 - g**2), dim)


@njit(cache=True, error_model="numpy")
def _central_force_kernel(centers, bij, long_range, bonded, epsilon, power, kr, hess):
    """V1 + V4 in one pass over bead pairs (i < j), written into the zeroed ``hess`` (3N, 3N).

    const_ij = 120 (epsilon + B_ij) / d^power for long-range pairs, + 2 kr / d^2 for bonded ones; block
    (i, j) = (j, i) = -const_ij D D^T (D = x_j - x_i, products formed before the constant, so the matrix is
    exactly symmetric); the diagonal blocks are the row sums.
    """
    n = centers.shape[0]
    prod = np.empty(6)
    for i in range(n):
        for j in range(i + 1, n):
            lr = long_range[i, j]
            bd = bonded[i, j]
            if not lr and not bd:
                continue
            d0 = centers[j, 0] - centers[i, 0]
            d1 = centers[j, 1] - centers[i, 1]
            d2 = centers[j, 2] - centers[i, 2]
            dist2 = d0 * d0 + d1 * d1 + d2 * d2
            const = 0.0
            if lr:
                den = dist2 * dist2 if power == 4.0 else dist2 ** (power / 2.0)
                const = 120.0 * (epsilon + bij[i, j]) / den
            if bd:
                const += 2.0 * kr / dist2
            prod[0] = const * (d0 * d0)
            prod[1] = const * (d0 * d1)
            prod[2] = const * (d0 * d2)
            prod[3] = const * (d1 * d1)
            prod[4] = const * (d1 * d2)
            prod[5] = const * (d2 * d2)
            k = 0
            for a in range(3):
                for b in range(a, 3):
                    v = prod[k]
                    k += 1
                    hess[3 * i + a, 3 * j + b] = -v
                    hess[3 * j + b, 3 * i + a] = -v
                    hess[3 * i + a, 3 * i + b] += v
                    hess[3 * j + a, 3 * j + b] += v
                    if b != a:
                        hess[3 * i + b, 3 * j + a] = -v
                        hess[3 * j + a, 3 * i + b] = -v
                        hess[3 * i + b, 3 * i + a] += v
                        hess[3 * j + b, 3 * j + a] += v


@njit(cache=True)
def _scatter_add(flat, index, values):
    for k in range(index.shape[0]):
        flat[index[k]] += values[k]


def build_hessian(beads: BeadModel, topo: Topology, bij: np.ndarray, params: EncomParams) -> np.ndarray:
    """Full (3N, 3N) ENCoM Hessian H = V1 + V2 + V3 + V4."""
    n = beads.n_beads
    x = np.ascontiguousarray(beads.centers, dtype=np.float64)
    bonded = np.zeros((n, n), dtype=np.bool_)
    if len(topo.bonds):
        bonded[topo.bonds[:, 0], topo.bonds[:, 1]] = True
        bonded[topo.bonds[:, 1], topo.bonds[:, 0]] = True
    hess = np.zeros((3 * n, 3 * n))
    _central_force_kernel(
        x,
        np.ascontiguousarray(bij, dtype=np.float64),
        np.ascontiguousarray(topo.long_range),
        bonded,
        float(params.epsilon),
        float(params.power_dependence),
        float(params.kr),
        hess,
    )
    f2, v2 = angle_terms(x, topo.angles, params.ktheta)
    f3, v3 = dihedral_terms(x, topo.dihedrals, params.kphi)
    flat = hess.reshape(-1)
    _scatter_add(flat, f2, v2)
    _scatter_add(flat, f3, v3)
    if not np.all(np.isfinite(hess)):
        raise DynamotifError(
            "the ENCoM Hessian has non-finite entries (coincident beads or a straight angle/dihedral)"
        )
    return hess
