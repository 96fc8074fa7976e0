"""Small vectorised geometry helpers: rigid superposition, dihedrals, internal-coordinate placement."""

from __future__ import annotations

import numpy as np

__all__ = ["superpose_transform", "apply_transform", "dihedral", "angle", "place_atom"]


def superpose_transform(mobile: np.ndarray, fixed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares rigid transform (Kabsch) taking ``mobile`` onto ``fixed``.

    Parameters
    ----------
    mobile, fixed
        ``(n, 3)`` corresponding points, ``n >= 3`` not collinear.

    Returns
    -------
    rotation, translation
        ``(3, 3)`` and ``(3,)`` with ``fixed ≈ mobile @ rotation.T + translation``.
    """
    mobile = np.asarray(mobile, dtype=np.float64)
    fixed = np.asarray(fixed, dtype=np.float64)
    mc, fc = mobile.mean(axis=0), fixed.mean(axis=0)
    h = (mobile - mc).T @ (fixed - fc)
    u, _s, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rot, fc - mc @ rot.T


def apply_transform(coords: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """``coords @ rotation.T + translation`` for ``(..., 3)`` coordinates."""
    return np.asarray(coords, dtype=np.float64) @ rotation.T + translation


def angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle a-b-c in radians; inputs ``(..., 3)``."""
    u, v = a - b, c - b
    cos = np.sum(u * v, axis=-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
    return np.arccos(np.clip(cos, -1.0, 1.0))


def dihedral(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Dihedral a-b-c-d in radians (IUPAC sign convention); inputs ``(..., 3)``."""
    b0, b1, b2 = a - b, c - b, d - c
    b1n = b1 / np.linalg.norm(b1, axis=-1, keepdims=True)
    v = b0 - np.sum(b0 * b1n, axis=-1, keepdims=True) * b1n
    w = b2 - np.sum(b2 * b1n, axis=-1, keepdims=True) * b1n
    x = np.sum(v * w, axis=-1)
    y = np.sum(np.cross(b1n, v) * w, axis=-1)
    return np.arctan2(y, x)


def place_atom(
    p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, bond: float, theta: float, phi: np.ndarray | float
) -> np.ndarray:
    """Position of atom X from its internal coordinates (natural extension reference frame).

    X is bonded to ``p1`` with length ``bond``, angle X-p1-p2 = ``theta`` and dihedral
    X-p1-p2-p3 = ``phi`` (radians). ``p1, p2, p3`` are ``(..., 3)``; ``phi`` broadcasts against
    them, so many rotamers are built at once.
    """
    bc = p1 - p2
    bc = bc / np.linalg.norm(bc, axis=-1, keepdims=True)
    n = np.cross(p2 - p3, bc)
    n = n / np.linalg.norm(n, axis=-1, keepdims=True)
    m = np.cross(n, bc)
    phi = np.asarray(phi, dtype=np.float64)[..., None]
    d2 = np.concatenate(
        np.broadcast_arrays(
            -bond * np.cos(theta) * np.ones_like(phi),
            bond * np.sin(theta) * np.cos(phi),
            bond * np.sin(theta) * np.sin(phi),
        ),
        axis=-1,
    )
    return p1 + d2[..., 0:1] * bc + d2[..., 1:2] * m + d2[..., 2:3] * n
