"""Local restrained relaxation around a mutated protein residue, for when no rotamer is clash-free.

The energy is deliberately simple (no force field): covalent geometry is held by stiff harmonic
restraints on interatomic distances (bonds = 1-2 pairs, bond angles = 1-3 pairs, and 1-4 pairs across
non-rotatable bonds, which keeps rings, amides, guanidinium groups and peptide bonds planar and
chiral centres unchanged); steric clashes are removed by a soft heavy-atom repulsion
``k (r0 - d)²`` below ``r0`` (3.0 Å, 2.7 Å between two N/O atoms that may hydrogen-bond, 2.6 Å
for 1-4 pairs across rotatable bonds); weak positional restraints keep every movable atom near its
start. Rotatable bonds are backbone φ/ψ (N-CA, CA-C) and the side-chain χ axes of the rotamer
library; everything else is rigid.

References are the CCD ideal geometry for pairs inside a rebuilt side chain (``ideal`` atoms) and
the starting geometry otherwise, so a relaxed wild-type neighbour keeps its own bond lengths.

Two stages, the second only when the first leaves a clash: (1) the side chains of the mutated
residue and of its neighbours move, the backbone stays fixed; (2) the backbone of residues
i-1..i+1 and of the residues whose atoms still clash (with their sequence neighbours) moves too.
The energy and its gradient are vectorised over pairs and minimised with L-BFGS-B (scipy).
"""

from __future__ import annotations

from dataclasses import dataclass

import biotite.structure as struc
import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree
from threadpoolctl import threadpool_limits

from components.mutation.ideal import ideal_residue
from components.mutation.protein import BACKBONE_ATOMS, CLASH_ANGSTROM, _library

__all__ = ["RelaxResult", "LocalTopology", "local_topology", "relax_coordinates", "relax_mutated_residue"]

#: restraint force constants (energy / Å²) for 1-2, 1-3 and rigid 1-4 pairs
K_BOND, K_ANGLE, K_RIGID = 1000.0, 250.0, 150.0
#: soft repulsion force constant and radii (Å)
K_REPULSION = 10.0
R_REPULSION, R_POLAR, R_ROTATABLE_14 = 3.0, 2.7, 2.6
#: positional restraint weights (energy / Å²) for side-chain and backbone atoms
W_SIDE_CHAIN, W_BACKBONE = 0.05, 1.0
#: neighbour-list cutoff (Å) and the displacement after which it is rebuilt
_CUTOFF = 5.5
_SKIN = 1.0
_BOND_TOLERANCE = 0.05
_MARGIN = 0.1  # Å above the clash cutoff before stage 1 is enough
_FTOL = 1e-7
_SIDE = 4.5  # Å: neighbouring side chains that move in stage 1
_BACKBONE_NAMES = (*BACKBONE_ATOMS, "CB")


@dataclass(frozen=True)
class LocalTopology:
    """Covalent structure of a set of atoms, for restraints and pair exclusions.

    Attributes
    ----------
    pairs
        ``(p, 2)`` restrained atom pairs (``i < j``): bonds, angle (1-3) pairs, rigid 1-4 pairs.
    order
        ``(p,)`` 2, 3 or 4 (bond, angle, rigid 1-4).
    d0
        ``(p,)`` reference distances (Å).
    excluded
        Sorted codes ``i * n + j`` of pairs never scored as clashes (1-2, 1-3 and rigid 1-4).
    rotatable14
        Sorted codes of 1-4 pairs across rotatable bonds (softer repulsion).
    typed
        ``(n,)`` atoms whose residue has a CCD template containing them (only these may move).
    """

    pairs: np.ndarray
    order: np.ndarray
    d0: np.ndarray
    excluded: np.ndarray
    rotatable14: np.ndarray
    typed: np.ndarray


@dataclass(frozen=True)
class RelaxResult:
    """Outcome of a relaxation.

    ``coords``: ``(n, 3)`` relaxed coordinates; ``moved``: atoms allowed to move;
    ``min_distance`` / ``n_clashes``: closest approach and number of pairs below the clash cutoff
    over pairs involving a moved atom (1-2 and 1-3 pairs excluded); ``max_bond_deviation``: largest
    |d - d0| over bonds of moved atoms; ``backbone_rmsd``: RMSD (Å) of the moved backbone atoms
    (N, CA, C, O) from their start (0 when none moved); ``stage``: 1 or 2.
    """

    coords: np.ndarray
    moved: np.ndarray
    min_distance: float
    n_clashes: int
    max_bond_deviation: float
    backbone_rmsd: float
    stage: int

    @property
    def ok(self) -> bool:
        return self.n_clashes == 0 and self.max_bond_deviation <= _BOND_TOLERANCE


def _rotatable_axes(res_name: str) -> set[frozenset[str]]:
    axes = {frozenset(("N", "CA")), frozenset(("CA", "C"))}
    for chi in _library()["chi_atoms"].get(res_name, []):
        axes.add(frozenset((chi[1], chi[2])))
    return axes


def local_topology(atoms: struc.AtomArray, ideal: np.ndarray) -> LocalTopology:
    """Bonds from the CCD templates (+ peptide and disulfide bonds by distance) and derived pairs.

    Parameters
    ----------
    atoms
        Heavy atoms, residues contiguous.
    ideal
        ``(n,)`` atoms of rebuilt side chains: pairs inside their residue involving an atom beyond
        CB take the CCD ideal distance as reference.
    """
    n = atoms.array_length()
    xyz = atoms.coord.astype(np.float64)
    names = atoms.atom_name.astype(str)
    starts = struc.get_residue_starts(atoms, add_exclusive_stop=True)
    residue_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    typed = np.zeros(n, dtype=bool)
    bonds: list[tuple[int, int]] = []
    rotatable: set[tuple[int, int]] = set()
    ideal_d: dict[tuple[int, int], float] = {}
    for r in range(len(starts) - 1):
        s, e = int(starts[r]), int(starts[r + 1])
        res_name = str(atoms.res_name[s])
        try:
            tmpl = ideal_residue(res_name)
        except ValueError:
            continue
        index = {str(a): s + k for k, a in enumerate(names[s:e])}
        tmpl_names = set(tmpl.atom_names)
        if not set(index) <= tmpl_names:
            continue
        typed[s:e] = True
        axes = _rotatable_axes(res_name)
        for i, j in tmpl.bonds:
            a, b = tmpl.atom_names[i], tmpl.atom_names[j]
            if a in index and b in index:
                bonds.append((min(index[a], index[b]), max(index[a], index[b])))
                if frozenset((a, b)) in axes:
                    rotatable.add(bonds[-1])
        if ideal[s:e].any():
            tpos = dict(zip(tmpl.atom_names, tmpl.coords, strict=True))
            side = [a for a in index if a not in _BACKBONE_NAMES]
            for a in side:
                for b in index:
                    if a != b:
                        i, j = sorted((index[a], index[b]))
                        ideal_d[(i, j)] = float(np.linalg.norm(tpos[a] - tpos[b]))
    # peptide bonds (C-N < 2 Å, consecutive residues of a chain) and disulfides (SG-SG < 2.5 Å)
    c_idx = np.flatnonzero(typed & (names == "C"))
    n_idx = np.flatnonzero(typed & (names == "N"))
    if len(c_idx) and len(n_idx):
        d = np.linalg.norm(xyz[c_idx, None] - xyz[None, n_idx], axis=-1)
        for a, b in zip(*np.nonzero(d < 2.0), strict=True):
            i, j = int(c_idx[a]), int(n_idx[b])
            if residue_of[i] != residue_of[j] and atoms.chain_id[i] == atoms.chain_id[j]:
                bonds.append((min(i, j), max(i, j)))
    sg = np.flatnonzero(typed & (names == "SG"))
    if len(sg) > 1:
        d = np.linalg.norm(xyz[sg, None] - xyz[None, sg], axis=-1)
        for a, b in zip(*np.nonzero(np.triu(d < 2.5, 1)), strict=True):
            bonds.append((int(sg[a]), int(sg[b])))
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for i, j in bonds:
        neighbours[i].add(j)
        neighbours[j].add(i)
    order: dict[tuple[int, int], int] = {pair: 2 for pair in bonds}
    for b in range(n):
        nb = sorted(neighbours[b])
        for x in range(len(nb)):
            for y in range(x + 1, len(nb)):
                order.setdefault((nb[x], nb[y]), 3)
    soft14: set[tuple[int, int]] = set()
    for b, c in bonds:
        for a in neighbours[b] - {c}:
            for d_ in neighbours[c] - {b}:
                if a == d_:
                    continue
                pair = (min(a, d_), max(a, d_))
                if (b, c) in rotatable:
                    if pair not in order:
                        soft14.add(pair)
                else:
                    order.setdefault(pair, 4)
    soft14 -= set(order)
    pairs = np.array(sorted(order), dtype=np.int64).reshape(-1, 2)
    kinds = np.array([order[(int(i), int(j))] for i, j in pairs], dtype=np.int64)
    d0 = np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1) if len(pairs) else np.zeros(0)
    for k, (i, j) in enumerate(pairs):
        ref = ideal_d.get((int(i), int(j)))
        if ref is not None:
            d0[k] = ref
    soft = np.array(sorted(soft14), dtype=np.int64).reshape(-1, 2)
    return LocalTopology(
        pairs=pairs,
        order=kinds,
        d0=d0,
        excluded=np.sort(pairs[:, 0] * n + pairs[:, 1]),
        rotatable14=np.sort(soft[:, 0] * n + soft[:, 1]),
        typed=typed,
    )


def _pair_forces(p: np.ndarray, i: np.ndarray, j: np.ndarray, coef: np.ndarray, n: int) -> np.ndarray:
    """Gradient ``(n, 3)`` of Σ f(d_ij) given ``coef = f'(d) / d`` per pair."""
    g = coef[:, None] * (p[i] - p[j])
    out = np.empty((n, 3))
    for k in range(3):
        out[:, k] = np.bincount(i, weights=g[:, k], minlength=n) - np.bincount(
            j, weights=g[:, k], minlength=n
        )
    return out


def _contact_pairs(p: np.ndarray, movable: np.ndarray, cutoff: float) -> np.ndarray:
    """``(q, 2)`` pairs ``i < j`` closer than ``cutoff`` with at least one movable atom."""
    pairs = cKDTree(p).query_pairs(cutoff, output_type="ndarray")
    if len(pairs) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(pairs, axis=1).astype(np.int64)
    return pairs[movable[pairs[:, 0]] | movable[pairs[:, 1]]]


def relax_coordinates(
    coords: np.ndarray,
    topology: LocalTopology,
    movable: np.ndarray,
    polar: np.ndarray,
    *,
    weights: np.ndarray,
    reference: np.ndarray | None = None,
    max_iter: int = 3000,
) -> np.ndarray:
    """Minimise restraints + soft repulsion + positional restraints over the ``movable`` atoms.

    Parameters
    ----------
    coords
        ``(n, 3)`` start coordinates (atoms without topology, e.g. other mutated side chains, are
        fixed repulsive points; they must not be ``movable``).
    topology
        From :func:`local_topology` over the first ``len(topology.typed)`` atoms.
    movable, polar
        ``(n,)`` masks: atoms that move; N/O atoms (smaller repulsion radius between two of them).
    weights
        ``(n,)`` positional-restraint weight of each atom (used for movable atoms).
    reference
        ``(n, 3)`` positions the positional restraints pull to (default: ``coords``).

    Returns
    -------
    ``(n, 3)`` relaxed coordinates (fixed atoms unchanged).
    """
    p = np.array(coords, dtype=np.float64)
    ref = p.copy() if reference is None else np.asarray(reference, dtype=np.float64)
    n_top = len(topology.typed)
    mov = np.flatnonzero(movable)
    if len(mov) == 0:
        return p
    keep = movable[topology.pairs[:, 0]] | movable[topology.pairs[:, 1]]
    ri, rj, d0 = topology.pairs[keep, 0], topology.pairs[keep, 1], topology.d0[keep]
    kr = np.select([topology.order[keep] == 2, topology.order[keep] == 3], [K_BOND, K_ANGLE], K_RIGID)
    w = weights[mov][:, None]
    x_ref = ref[mov]
    for _ in range(4):
        start = p[mov].copy()
        pairs = _contact_pairs(p, movable, _CUTOFF)
        in_top = (pairs[:, 0] < n_top) & (pairs[:, 1] < n_top)
        codes = pairs[:, 0] * n_top + pairs[:, 1]
        excluded = in_top & np.isin(codes, topology.excluded)
        pairs, codes, in_top = pairs[~excluded], codes[~excluded], in_top[~excluded]
        r0 = np.where(polar[pairs[:, 0]] & polar[pairs[:, 1]], R_POLAR, R_REPULSION)
        r0 = np.where(in_top & np.isin(codes, topology.rotatable14), R_ROTATABLE_14, r0)
        # the problem restricted to the atoms it touches (movable atoms and their partners)
        active = np.unique(np.concatenate([mov, ri, rj, pairs.ravel()]))
        pa = p[active]
        m = len(active)
        am = np.searchsorted(active, mov)
        ai, aj = np.searchsorted(active, ri), np.searchsorted(active, rj)
        qi, qj = np.searchsorted(active, pairs[:, 0]), np.searchsorted(active, pairs[:, 1])

        def energy(
            x: np.ndarray, qi=qi, qj=qj, r0=r0, pa=pa, am=am, ai=ai, aj=aj, m=m
        ) -> tuple[float, np.ndarray]:
            pa[am] = x.reshape(-1, 3)
            d = np.linalg.norm(pa[ai] - pa[aj], axis=1)
            diff = d - d0
            e = float(np.sum(kr * diff**2))
            coef = 2.0 * kr * diff / np.maximum(d, 1e-9)
            dq = np.linalg.norm(pa[qi] - pa[qj], axis=1)
            over = np.clip(r0 - dq, 0.0, None)
            e += float(K_REPULSION * np.sum(over**2))
            grad = _pair_forces(pa, ai, aj, coef, m)
            grad += _pair_forces(pa, qi, qj, -2.0 * K_REPULSION * over / np.maximum(dq, 1e-9), m)
            dx = pa[am] - x_ref
            e += float(np.sum(w * dx**2))
            return e, (grad[am] + 2.0 * w * dx).ravel()

        with threadpool_limits(1):  # a small problem: BLAS threads only add overhead
            res = minimize(
                energy,
                start.ravel(),
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": max_iter, "ftol": _FTOL},
            )
        p[mov] = res.x.reshape(-1, 3)
        if np.max(np.linalg.norm(p[mov] - start, axis=1)) < _SKIN:
            break
    return p


def _assess(p, start, topology, movable, watch, backbone) -> tuple[float, int, float, float]:
    """Clash figures over pairs with a moved or ``watch`` atom beyond 1-3; worst bond deviation; RMSD.

    Returns (min distance, pairs below the clash cutoff, max |d - d0| over bonds of moved atoms,
    RMSD of the moved backbone atoms from ``start``).
    """
    n_top = len(topology.typed)
    pairs = _contact_pairs(p, movable | watch, CLASH_ANGSTROM + 1.0)
    in_top = (pairs[:, 0] < n_top) & (pairs[:, 1] < n_top)
    near = topology.pairs[topology.order <= 3]
    near_codes = np.sort(near[:, 0] * n_top + near[:, 1])
    pairs = pairs[~(in_top & np.isin(pairs[:, 0] * n_top + pairs[:, 1], near_codes))]
    d = np.linalg.norm(p[pairs[:, 0]] - p[pairs[:, 1]], axis=1)
    mind = float(d.min()) if len(d) else float("inf")
    bond = topology.order == 2
    bi, bj = topology.pairs[bond, 0], topology.pairs[bond, 1]
    touch = movable[bi] | movable[bj]
    dev = np.abs(np.linalg.norm(p[bi] - p[bj], axis=1) - topology.d0[bond])[touch]
    moved_bb = movable & backbone
    rmsd = 0.0
    if moved_bb.any():
        rmsd = float(np.sqrt(np.mean(np.sum((p[moved_bb] - start[moved_bb]) ** 2, axis=1))))
    return mind, int(np.sum(d < CLASH_ANGSTROM)), float(dev.max()) if len(dev) else 0.0, rmsd


def relax_mutated_residue(
    atoms: struc.AtomArray,
    target: np.ndarray,
    ideal: np.ndarray,
    locked: np.ndarray,
    fixed_points: np.ndarray | None = None,
) -> RelaxResult:
    """Relax the surroundings of a mutated residue until no heavy-atom pair is closer than 2.2 Å.

    Parameters
    ----------
    atoms
        Heavy atoms of the variant around the mutation (residues contiguous; at least every atom
        within ~20 Å of the mutated residue).
    target
        ``(n,)`` atoms of the mutated residue.
    ideal
        ``(n,)`` atoms of rebuilt side chains (CCD ideal references, see :func:`local_topology`).
    locked
        ``(n,)`` atoms that must not move (e.g. other mutated residues).
    fixed_points
        ``(m, 3)`` extra fixed repulsive points without topology.

    Returns
    -------
    The stage-1 result when it is clash-free, else the stage-2 result (see the module docstring).
    """
    n = atoms.array_length()
    extra = np.zeros((0, 3)) if fixed_points is None else np.asarray(fixed_points, dtype=np.float64)
    topo = local_topology(atoms, ideal)
    start = np.concatenate([atoms.coord.astype(np.float64), extra])
    names = atoms.atom_name.astype(str)
    elements = np.char.upper(atoms.element.astype(str))
    pad = np.zeros(len(extra), dtype=bool)
    polar = np.concatenate([np.isin(elements, ["N", "O"]), pad])
    backbone = np.concatenate([np.isin(names, ["N", "CA", "C", "O", "OXT"]), pad])
    side = ~np.isin(names, _BACKBONE_NAMES)
    starts = struc.get_residue_starts(atoms, add_exclusive_stop=True)
    residue_of = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    free = topo.typed & ~locked
    weights = np.where(np.concatenate([side, pad]), W_SIDE_CHAIN, W_BACKBONE)

    def residues_near(mask: np.ndarray, radius: float, of: np.ndarray) -> np.ndarray:
        tree = cKDTree(start[:n][of])
        hits = tree.query_ball_point(start[:n][mask], radius)
        idx = np.flatnonzero(of)[np.unique(np.concatenate([np.asarray(h, dtype=np.int64) for h in hits]))]
        return np.unique(residue_of[idx]) if len(idx) else np.zeros(0, dtype=np.int64)

    target_side = target & side
    core_mask = target_side if target_side.any() else target
    stage1 = np.zeros(n, dtype=bool)
    stage1 |= target_side | (target & (names == "CB"))
    stage1 |= np.isin(residue_of, residues_near(core_mask, _SIDE, side)) & side
    stage1 &= free
    mov1 = np.concatenate([stage1, pad])
    p1 = relax_coordinates(start, topo, mov1, polar, weights=weights)
    watch = np.concatenate([target, pad])
    mind, hard, dev, rmsd = _assess(p1, start, topo, mov1, watch, backbone)
    result = RelaxResult(p1[:n], stage1, mind, hard, dev, rmsd, 1)
    if result.ok and mind >= CLASH_ANGSTROM + _MARGIN:
        return result
    # stage 2: + backbone of i-1..i+1 and of residues (with their sequence neighbours) still clashing
    bond = topo.pairs[topo.order == 2]
    link = bond[residue_of[bond[:, 0]] != residue_of[bond[:, 1]]]
    linked = residue_of[link]

    def with_neighbours(res: set[int]) -> set[int]:
        hit = np.isin(linked, list(res))
        return res | set(linked[hit[:, 0], 1].tolist()) | set(linked[hit[:, 1], 0].tolist())

    chosen = with_neighbours({int(r) for r in np.unique(residue_of[target])})
    pairs = _contact_pairs(p1, mov1, CLASH_ANGSTROM + 0.4)
    pairs = pairs[(pairs[:, 0] < n) & (pairs[:, 1] < n)]
    pairs = pairs[~np.isin(pairs[:, 0] * n + pairs[:, 1], topo.excluded)]
    if len(pairs):
        chosen |= with_neighbours({int(r) for r in np.unique(residue_of[pairs.ravel()])})
    chosen_arr = np.array(sorted(chosen), dtype=np.int64)
    stage2 = (stage1 | np.isin(residue_of, chosen_arr)) & free
    mov2 = np.concatenate([stage2, pad])
    p2 = relax_coordinates(p1, topo, mov2, polar, weights=weights, reference=start)
    mind2, hard2, dev2, rmsd2 = _assess(p2, start, topo, mov2, watch, backbone)
    result2 = RelaxResult(p2[:n], stage2, mind2, hard2, dev2, rmsd2, 2)
    if result.ok and not (result2.ok and mind2 > mind):
        return result  # the backbone move did not help: keep the side-chain-only model
    return result2
