"""Side-chain replacement on a fixed protein backbone with a clash-aware rotamer choice.

Geometry: bond lengths, bond angles and the non-rotatable dihedrals of every side chain come from
the ideal coordinates of the wwPDB Chemical Component Dictionary (shipped offline by biotite); atoms
are placed from internal coordinates (NeRF). Rotatable dihedrals (χ1..χ4) come from a compact
backbone-independent rotamer library (``data/rotamers.json``, after Lovell et al., Proteins 2000),
each rotamer also sampled at ±10° and ±20° in χ1 and χ2. Proline puckers are sampled on a χ1/χ2 grid
and kept only where the ring closes (CD-N within 0.03 Å of the ideal bond).

Choice: the candidate with the fewest heavy-atom clashes (< 2.2 Å) with the rest of the structure,
then the lowest score: soft overlap ``Σ (3.6 Å - d)²`` over pairs closer than 3.6 Å (polar N/O
pairs, which may hydrogen-bond: closer than 2.55 Å), minus a packing reward of 0.03 per heavy atom
3.3-5.0 Å away, plus a small prior for frequent rotamers and small deviations. Pairs within two bonds
(1-2, 1-3) are never scored. The WT CB is kept (it is rebuilt from the CCD geometry only when the WT
residue is a glycine). The weights were chosen on the side-chain rebuilding test of
``benchmarks/sidechains.py`` on one structure (``closed_clean``; χ1 within 40° 74 % -> 81 %).
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from components.mutation.geometry import angle, dihedral, place_atom
from components.mutation.ideal import ideal_residue

__all__ = [
    "BACKBONE_ATOMS",
    "CLASH_ANGSTROM",
    "SideChainTemplate",
    "side_chain_template",
    "place_side_chain",
    "ideal_bonds",
]

BACKBONE_ATOMS = ("N", "CA", "C", "O", "OXT")
CLASH_ANGSTROM = 2.2
#: soft overlap starts below this distance (Å) for every heavy-atom pair ...
SOFT_ANGSTROM = 3.6
#: ... except polar pairs (N/O to N/O), which may hydrogen-bond
POLAR_SOFT_ANGSTROM = 2.55
#: reward per heavy-atom neighbour in the packing shell (Å) of a side-chain atom
PACK_ANGSTROM = (3.3, 5.0)
PACK_REWARD = 0.03
#: rotamer prior: penalty per rank in the library (most frequent first) and per degree off the mode
PRIOR_RANK = 0.05
PRIOR_DEV = 0.005
_DATA = Path(__file__).with_name("data") / "rotamers.json"
_OFFSETS_DEG = (0.0, -10.0, 10.0, -20.0, 20.0)


@lru_cache(maxsize=1)
def _library() -> dict:
    return json.loads(_DATA.read_text())


def ideal_bonds(res_name: str) -> list[tuple[str, str, float]]:
    """Heavy-atom bonds of ``res_name`` with their CCD ideal lengths (Å)."""
    comp = ideal_residue(res_name)
    return [
        (comp.atom_names[i], comp.atom_names[j], float(np.linalg.norm(comp.coords[i] - comp.coords[j])))
        for i, j in comp.bonds
    ]


@dataclass(frozen=True)
class SideChainTemplate:
    """Internal-coordinate recipe of one amino acid's side chain (atoms after CB).

    Attributes
    ----------
    res_name
        Three-letter name.
    names, elements
        Side-chain atoms after CB in build order (parents before children).
    output_names
        CB + side-chain atoms in CCD (= PDB) order, as written to files.
    parents
        ``(n, 3)`` names of p1 (bonded), p2, p3 for each atom of ``names``.
    bond, theta
        ``(n,)`` ideal bond length X-p1 (Å) and angle X-p1-p2 (rad).
    chi_index, phi0
        ``(n,)``: dihedral X-p1-p2-p3 = χ[chi_index] + phi0, or phi0 when ``chi_index == -1``.
    cb
        ``(bond, theta, phi)`` of CB from (CA, N, C), used when the WT residue has no CB.
    rotamers
        ``(n_rot, n_chi)`` χ values (rad), most frequent first.
    near
        For each atom of ``names``: the atoms (side chain, own backbone, ``"-C"`` previous C,
        ``"+N"`` next N) within two bonds, never scored as clashes.
    """

    res_name: str
    names: tuple[str, ...]
    elements: tuple[str, ...]
    output_names: tuple[str, ...]
    parents: tuple[tuple[str, str, str], ...]
    bond: np.ndarray
    theta: np.ndarray
    chi_index: np.ndarray
    phi0: np.ndarray
    cb: tuple[float, float, float]
    rotamers: np.ndarray
    near: tuple[frozenset[str], ...]
    ideal_cd_n: np.ndarray


def _graph(res_name: str) -> dict[str, set[str]]:
    comp = ideal_residue(res_name)
    g: dict[str, set[str]] = {n: set() for n in comp.atom_names}
    for i, j in comp.bonds:
        a, b = comp.atom_names[i], comp.atom_names[j]
        g[a].add(b)
        g[b].add(a)
    g["N"].add("-C")
    g["C"].add("+N")
    g["-C"] = {"N"}
    g["+N"] = {"C"}
    return g


@cache
def side_chain_template(res_name: str) -> SideChainTemplate:
    """Build (once) the internal-coordinate template of ``res_name`` from the CCD ideal geometry."""
    comp = ideal_residue(res_name)
    xyz = dict(zip(comp.atom_names, comp.coords, strict=True))
    elem = dict(zip(comp.atom_names, comp.elements, strict=True))
    graph = _graph(res_name)
    lib = _library()
    chi_atoms = [tuple(c) for c in lib["chi_atoms"].get(res_name, [])]
    axes = {(c[1], c[2]): k for k, c in enumerate(chi_atoms)}
    ideal_chi = [float(dihedral(*(xyz[a] for a in c))) for c in chi_atoms]

    side = [n for n in comp.atom_names if n not in BACKBONE_ATOMS]
    parent: dict[str, str] = {"CB": "CA", "CA": "N"}
    order: list[str] = []
    if "CB" in side:
        queue = deque(["CB"])
        seen = {"CB"}
        while queue:
            a = queue.popleft()
            for b in sorted(graph[a]):
                if b in side and b not in seen:
                    seen.add(b)
                    parent[b] = a
                    order.append(b)
                    queue.append(b)
    parents, bond, theta, chi_index, phi0, near = [], [], [], [], [], []
    for x in order:
        p1 = parent[x]
        p2 = parent[p1]
        p3 = parent[p2]
        parents.append((p1, p2, p3))
        bond.append(float(np.linalg.norm(xyz[x] - xyz[p1])))
        theta.append(float(angle(xyz[x], xyz[p1], xyz[p2])))
        phi = float(dihedral(xyz[x], xyz[p1], xyz[p2], xyz[p3]))
        k = axes.get((p2, p1), -1)
        chi_index.append(k)
        phi0.append(phi - ideal_chi[k] if k >= 0 else phi)
        within = {x}
        frontier = {x}
        for _ in range(2):
            frontier = {b for a in frontier for b in graph[a]} - within
            within |= frontier
        near.append(frozenset(within - {x}))
    cb = (
        (
            float(np.linalg.norm(xyz["CB"] - xyz["CA"])),
            float(angle(xyz["CB"], xyz["CA"], xyz["N"])),
            float(dihedral(xyz["CB"], xyz["CA"], xyz["N"], xyz["C"])),
        )
        if "CB" in xyz
        else (0.0, 0.0, 0.0)
    )
    if res_name == "PRO":
        rotamers = _proline_grid(xyz, order, parents, bond, theta, chi_index, phi0)
    elif chi_atoms:
        rotamers = np.radians(np.array(lib["rotamers"][res_name], dtype=np.float64))
    else:
        rotamers = np.zeros((1, 0))
    return SideChainTemplate(
        res_name=res_name,
        names=tuple(order),
        elements=tuple(elem[a] for a in order),
        output_names=tuple(a for a in side if a in ("CB", *order)),
        parents=tuple(parents),
        bond=np.array(bond),
        theta=np.array(theta),
        chi_index=np.array(chi_index, dtype=int),
        phi0=np.array(phi0),
        cb=cb,
        rotamers=rotamers,
        near=tuple(near),
        ideal_cd_n=(xyz["CD"] - xyz["N"]) if res_name == "PRO" else np.zeros(3),
    )


def _proline_grid(xyz, order, parents, bond, theta, chi_index, phi0) -> np.ndarray:
    """χ1/χ2 grid (rad) of proline ring puckers, best closed on the CCD ideal frame first.

    The final choice keeps only the grid points whose ring closes on the real backbone (see
    :func:`place_side_chain`).
    """
    c1, c2 = np.meshgrid(np.radians(np.arange(-45, 46, 2.0)), np.radians(np.arange(-50, 51, 2.0)))
    chis = np.stack([c1.ravel(), c2.ravel()], axis=1)
    pos = {a: np.broadcast_to(xyz[a], (len(chis), 3)) for a in ("N", "CA", "C", "CB")}
    _build(pos, order, parents, np.array(bond), np.array(theta), np.array(chi_index), np.array(phi0), chis)
    d = np.linalg.norm(pos["CD"] - pos["N"], axis=-1)
    ideal = float(np.linalg.norm(xyz["CD"] - xyz["N"]))
    return chis[np.argsort(np.abs(d - ideal))]


def _build(pos, names, parents, bond, theta, chi_index, phi0, chis) -> None:
    for i, x in enumerate(names):
        p1, p2, p3 = parents[i]
        phi = phi0[i] + (chis[:, chi_index[i]] if chi_index[i] >= 0 else 0.0)
        pos[x] = place_atom(pos[p1], pos[p2], pos[p3], bond[i], theta[i], phi)


def _candidates(t: SideChainTemplate, *, exhaustive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """χ sets (rad) to try and their prior penalty (rotamer rank + deviation from the modal χ).

    Default: every library rotamer at 0, ±10, ±20° in χ1 and χ2. ``exhaustive``: a 5° grid over
    χ1 × χ2 (full circle) combined with every distinct χ3/χ4 tail of the library.
    """
    rot = t.rotamers
    if rot.shape[1] == 0 or t.res_name == "PRO":
        prior = 0.01 * np.arange(len(rot), dtype=np.float64) / max(len(rot), 1)
        return rot, prior
    if exhaustive:
        grid = np.radians(np.arange(-180.0, 180.0, 5.0))
        n_head = min(rot.shape[1], 2)
        heads = np.stack([g.ravel() for g in np.meshgrid(*([grid] * n_head), indexing="ij")], axis=1)
        tails = np.unique(rot[:, n_head:], axis=0) if rot.shape[1] > n_head else np.zeros((1, 0))
        chis = np.concatenate([np.repeat(heads, len(tails), axis=0), np.tile(tails, (len(heads), 1))], axis=1)
        return chis, np.full(len(chis), 0.3)
    offs = np.radians(np.array(_OFFSETS_DEG))
    n_exp = min(rot.shape[1], 2)
    grids = np.meshgrid(*([offs] * n_exp), indexing="ij")
    delta = np.stack([g.ravel() for g in grids], axis=1)  # (m, n_exp)
    chis = np.repeat(rot, len(delta), axis=0)
    chis[:, :n_exp] += np.tile(delta, (len(rot), 1))
    rank = np.repeat(np.arange(len(rot), dtype=np.float64), len(delta))
    dev = np.tile(np.abs(np.degrees(delta)).sum(axis=1), len(rot))
    return chis, PRIOR_RANK * rank + PRIOR_DEV * dev


def place_side_chain(
    backbone: dict[str, np.ndarray],
    res_name: str,
    env_coords: np.ndarray,
    *,
    prev_c: int = -1,
    next_n: int = -1,
    env_polar: np.ndarray | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray, dict[str, float]]:
    """Build the side chain of ``res_name`` on a fixed backbone, choosing the least-clashing rotamer.

    Parameters
    ----------
    backbone
        Atom name -> ``(3,)`` coordinates of the residue's kept atoms: N, CA, C (required), O, OXT
        and CB (optional; CB is built from the CCD geometry when absent).
    res_name
        Target residue (three-letter code). ``GLY`` returns no atom.
    env_coords
        ``(m, 3)`` every other heavy atom of the structure (not the residue's own atoms).
    prev_c, next_n
        Index in ``env_coords`` of the previous residue's C / the next residue's N (``-1``: none),
        so that 1-3 pairs across the peptide bonds are not counted as clashes.
    env_polar
        ``(m,)`` bool: which environment atoms are N or O (hydrogen-bond partners). ``None``: no
        hydrogen-bond term.

    Returns
    -------
    names, elements, coords, info
        CB and side-chain atoms in PDB order, ``(k, 3)`` coordinates and ``{"min_distance",
        "n_clashes", "n_candidates"}`` of the chosen rotamer.
    """
    if res_name == "GLY":
        return (), (), np.zeros((0, 3)), {"min_distance": np.inf, "n_clashes": 0, "n_candidates": 0}
    t = side_chain_template(res_name)
    for need in ("N", "CA", "C"):
        if need not in backbone:
            raise ValueError(f"backbone lacks atom {need}")
    cb = backbone.get("CB")
    if cb is None:
        cb = place_atom(backbone["CA"], backbone["N"], backbone["C"], t.cb[0], t.cb[1], t.cb[2])
    own = {
        a: np.asarray(backbone[a], dtype=np.float64) for a in ("N", "CA", "C", "O", "OXT") if a in backbone
    }
    env = np.asarray(env_coords, dtype=np.float64).reshape(-1, 3)
    local = np.flatnonzero(np.sum((env - own["CA"]) ** 2, axis=1) < 13.0**2)
    polar = (
        np.zeros(len(local), dtype=bool)
        if env_polar is None
        else np.asarray(env_polar, dtype=bool).reshape(-1)[local]
    )
    cb_arr = np.asarray(cb, dtype=np.float64)
    best = _choose(t, own, cb_arr, env[local], local, prev_c, next_n, polar, exhaustive=False)
    if best[2] > 0:  # a clash with every library rotamer: search the full χ1 × χ2 grid
        best = _choose(t, own, cb_arr, env[local], local, prev_c, next_n, polar, exhaustive=True)
    pos, mind, hard, n = best
    if "CB" not in backbone:  # a rebuilt CB (WT glycine) is scored too: it is the same for all rotamers
        partners = np.concatenate([env[local], *(own[a][None] for a in ("O", "OXT") if a in own)])
        if len(partners):
            d_cb = np.linalg.norm(partners - cb, axis=1)
            hard += int(np.sum(d_cb < CLASH_ANGSTROM))
            mind = min(mind, float(d_cb.min()))
    coords = {"CB": np.asarray(cb, dtype=np.float64)} | pos
    elements = {"CB": "C"} | dict(zip(t.names, t.elements, strict=True))
    info = {"min_distance": mind, "n_clashes": hard, "n_candidates": n}
    return (
        t.output_names,
        tuple(elements[a] for a in t.output_names),
        np.array([coords[a] for a in t.output_names]),
        info,
    )


def _choose(t, own, cb, env_local, local, prev_c, next_n, env_polar, *, exhaustive):
    """Build all candidates, score them, return (atom -> xyz of the best, min distance, clashes, n).

    Score: soft overlap ``Σ (3.6 Å - d)²`` (polar pairs, N/O to N/O: only below 2.55 Å), minus
    :data:`PACK_REWARD` per heavy-atom neighbour in the 3.3-5.0 Å packing shell, plus the rotamer prior.
    """
    chis, prior = _candidates(t, exhaustive=exhaustive)
    n = len(chis)
    pos: dict[str, np.ndarray] = {a: np.broadcast_to(own[a], (n, 3)) for a in ("N", "CA", "C")}
    pos["CB"] = np.broadcast_to(cb, (n, 3))
    _build(pos, t.names, t.parents, t.bond, t.theta, t.chi_index, t.phi0, chis)
    open_ring = np.zeros(n)
    if t.res_name == "PRO":  # first criterion: the ring closes on this backbone (CD-N ideal ± 0.02 Å)
        d0 = float(np.linalg.norm(t.ideal_cd_n))
        dev = np.abs(np.linalg.norm(pos["CD"] - pos["N"], axis=-1) - d0)
        open_ring = np.where(dev < 0.02, 0.0, dev)
    scores = np.zeros(n)
    hard = np.zeros(n, dtype=int)
    mind = np.full(n, np.inf)
    for i, x in enumerate(t.names):
        mask = np.ones(len(local), dtype=bool)
        if "-C" in t.near[i] and prev_c >= 0:
            mask &= local != prev_c
        if "+N" in t.near[i] and next_n >= 0:
            mask &= local != next_n
        own_names = [a for a in own if a not in t.near[i]]
        parts = [env_local[mask]] + [own[a][None] for a in own_names]
        partners = np.concatenate(parts, axis=0)
        if len(partners) == 0:
            continue
        d = np.sqrt(np.sum((pos[x][:, None, :] - partners[None]) ** 2, axis=-1))
        soft = np.full(len(partners), SOFT_ANGSTROM)
        if t.elements[i] in ("N", "O"):
            polar = np.concatenate([env_polar[mask], [a in ("N", "O", "OXT") for a in own_names]])
            soft[polar] = POLAR_SOFT_ANGSTROM
        scores += np.sum(np.clip(soft - d, 0.0, None) ** 2, axis=1)
        scores -= PACK_REWARD * np.sum((d > PACK_ANGSTROM[0]) & (d < PACK_ANGSTROM[1]), axis=1)
        hard += np.sum(d < CLASH_ANGSTROM, axis=1)
        mind = np.minimum(mind, d.min(axis=1))
    best = int(np.lexsort((scores + prior, hard, open_ring))[0])
    return {x: pos[x][best] for x in t.names}, float(mind[best]), int(hard[best]), n
