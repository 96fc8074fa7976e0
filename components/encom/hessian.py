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

from components.common.errors import DynamotifError
from components.encom.beads import BeadModel
from components.encom.params import EncomParams, interaction_matrix
from components.encom.topology import Topology

__all__ = ["surface_complementarity", "build_hessian", "pair_hessian", "angle_terms", "dihedral_terms"]


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


def pair_hessian(centers: np.ndarray, const: np.ndarray) -> np.ndarray:
    """Central-force Hessian: blocks -const_ij D_ij D_ij^T off the diagonal (D = x_j - x_i), row sums on it.

    ``const`` is a symmetric (N, N) matrix with a zero diagonal. Returns the (3N, 3N) matrix, exactly
    symmetric (the coordinate products are formed before the constants are applied). Filling the six
    (a, b) component planes is faster here than forming all (N, N, 3, 3) blocks at once.
    """
    n = len(centers)
    hess = np.zeros((3 * n, 3 * n))
    view = hess.reshape(n, 3, n, 3)
    idx = np.arange(n)
    diff = [centers[None, :, a] - centers[:, None, a] for a in range(3)]
    for a in range(3):
        for b in range(a, 3):
            block = const * (diff[a] * diff[b])
            row = block.sum(axis=1)
            view[:, a, :, b] = -block
            view[idx, a, idx, b] += row
            if b != a:
                view[:, b, :, a] = -block
                view[idx, b, idx, a] += row
    return hess


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


def build_hessian(beads: BeadModel, topo: Topology, bij: np.ndarray, params: EncomParams) -> np.ndarray:
    """Full (3N, 3N) ENCoM Hessian H = V1 + V2 + V3 + V4."""
    n = beads.n_beads
    x = beads.centers
    diff = x[None, :, :] - x[:, None, :]
    dist2 = np.einsum("ijk,ijk->ij", diff, diff)
    np.fill_diagonal(dist2, 1.0)
    power = dist2 * dist2 if params.power_dependence == 4 else dist2 ** (params.power_dependence / 2)
    const = 120.0 * (params.epsilon + bij) / power
    const[~topo.long_range] = 0.0
    if len(topo.bonds):
        i, j = topo.bonds[:, 0], topo.bonds[:, 1]
        const[i, j] += 2.0 * params.kr / dist2[i, j]
        const[j, i] = const[i, j]
    hess = pair_hessian(x, const)
    f2, v2 = angle_terms(x, topo.angles, params.ktheta)
    f3, v3 = dihedral_terms(x, topo.dihedrals, params.kphi)
    dim = 3 * n
    hess += np.bincount(
        np.concatenate([f2, f3]), weights=np.concatenate([v2, v3]), minlength=dim * dim
    ).reshape(dim, dim)
    if not np.all(np.isfinite(hess)):
        raise DynamotifError(
            "the ENCoM Hessian has non-finite entries (coincident beads or a straight angle/dihedral)"
        )
    return hess
