"""Side-chain replacement on a fixed protein backbone: backbone-dependent rotamers and a packing energy.

Geometry: bond lengths, bond angles and the non-rotatable dihedrals of every side chain come from
the ideal coordinates of the wwPDB Chemical Component Dictionary (shipped offline by biotite); atoms
are placed from internal coordinates (NeRF).

Rotamers: the backbone-dependent library of Shapovalov & Dunbrack (Structure 19:844, 2011; CC BY 4.0,
``data/bbdep2010.npz`` made by ``data/make_bbdep_rotamers.py``) at the residue's (φ, ψ): the most probable
rotamers covering :data:`COVERAGE` of the probability, each at its mean and at ±1 σ in χ1 and χ2 (as
SCWRL4 expands them, Krivov et al., Proteins 2009). Proline puckers are sampled on a χ1/χ2 grid and kept
only where the ring closes (CD-N within 0.02 Å of the ideal bond).

Choice: the candidate with the fewest heavy-atom clashes (< 2.2 Å) with the rest of the structure,
then the lowest energy: a Lennard-Jones 12-6 term (repulsion linearised under 0.89 r0, attraction to
6 Å) over every heavy-atom pair with the environment and the residue's own backbone, donor-acceptor
pairs at a hydrogen-bond contact distance with a distance/angle reward, plus ``-ln p`` of the rotamer
(and ``½ (Δχ/σ)²`` of its expansion) as a prior. Pairs within three bonds are not scored. When every
library rotamer clashes, a 5° χ1 × χ2 grid (with the library's χ3/χ4 tails) is built atom by atom and
pruned with a KD-tree as soon as a candidate has more clashes than the best. The WT CB is kept (it is
rebuilt from the CCD geometry only when the WT residue is a glycine). The weights were chosen on the
side-chain rebuilding test of ``benchmarks/sidechains.py`` on ``closed_clean`` only.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from components.mutation.geometry import angle, dihedral, place_atom
from components.mutation.ideal import ideal_residue
from components.mutation.variants import AMINO_ACIDS_3TO1

__all__ = [
    "ACCEPTOR",
    "BACKBONE_ATOMS",
    "CLASH_ANGSTROM",
    "DONOR",
    "SideChainTemplate",
    "backbone_dihedrals",
    "hbond_energy",
    "hbond_roles",
    "ideal_bonds",
    "library_rotamers",
    "lj_energy",
    "place_side_chain",
    "side_chain_template",
]

BACKBONE_ATOMS = ("N", "CA", "C", "O", "OXT")
CLASH_ANGSTROM = 2.2
#: pairs farther apart than this (Å) are not scored
CUTOFF_ANGSTROM = 6.0
#: van der Waals radii (Å, Bondi 1964); a pair's LJ minimum is RADIUS_SCALE x their sum (united
#: atoms without hydrogens: slightly larger than the bare heavy atoms)
VDW_RADIUS = {"C": 1.7, "N": 1.55, "O": 1.52, "S": 1.8}
RADIUS_SCALE = 1.1
LJ_EPSILON = 0.2
LJ_LINEAR_BELOW = 0.8
#: scale of the attractive (negative) part of the LJ energy against its repulsion
LJ_ATTRACTION = 0.15
#: LJ minimum (Å) of a donor-acceptor pair, and the depth of the hydrogen-bond reward
HBOND_CONTACT_ANGSTROM = 2.9
HBOND_WEIGHT = 0.5
#: weight of the rotamer prior -ln p (+ ½ (Δχ/σ)² of the expansion)
PRIOR_WEIGHT = 0.3
#: probability covered by the library rotamers tried first, and by those of the grid search
COVERAGE = 0.99
GRID_COVERAGE = 0.999
#: χ1/χ2 expansion of each rotamer, in units of its σ
EXPANSION_SIGMA = (0.0, -1.0, 1.0)
#: (φ, ψ) in degrees when a terminal residue lacks a neighbour
DEFAULT_PHI_PSI = (-60.0, 130.0)
DONOR, ACCEPTOR = 1, 2
SIDE_CHAIN_ROLES = {
    ("ARG", "NE"): DONOR,
    ("ARG", "NH1"): DONOR,
    ("ARG", "NH2"): DONOR,
    ("LYS", "NZ"): DONOR,
    ("TRP", "NE1"): DONOR,
    ("ASN", "ND2"): DONOR,
    ("GLN", "NE2"): DONOR,
    ("ASN", "OD1"): ACCEPTOR,
    ("GLN", "OE1"): ACCEPTOR,
    ("ASP", "OD1"): ACCEPTOR,
    ("ASP", "OD2"): ACCEPTOR,
    ("GLU", "OE1"): ACCEPTOR,
    ("GLU", "OE2"): ACCEPTOR,
    ("SER", "OG"): DONOR | ACCEPTOR,
    ("THR", "OG1"): DONOR | ACCEPTOR,
    ("TYR", "OH"): DONOR | ACCEPTOR,
    ("HIS", "ND1"): DONOR | ACCEPTOR,
    ("HIS", "NE2"): DONOR | ACCEPTOR,
}
_DATA = Path(__file__).with_name("data") / "rotamers.json"
_BBDEP = Path(__file__).with_name("data") / "bbdep2010.npz"


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
        ``(n_rot, n_chi)`` χ values (rad) of the proline puckers, best closed first; ``(1, 0)`` for
        residues without χ; ``(0, n_chi)`` otherwise (see :func:`library_rotamers`).
    near, near3
        For each atom of ``names``: the atoms (side chain, own backbone, ``"-C"`` previous C,
        ``"+N"`` next N) within two bonds (never counted as clashes) and three bonds (no energy).
    roles
        Hydrogen-bond role of each atom of ``names`` (:data:`DONOR`, :data:`ACCEPTOR`, both, 0).
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
    near3: tuple[frozenset[str], ...]
    roles: tuple[int, ...]
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
    parents, bond, theta, chi_index, phi0, near, near3 = [], [], [], [], [], [], []
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
        for depth in range(3):
            frontier = {b for a in frontier for b in graph.get(a, ())} - within
            within |= frontier
            if depth == 1:
                near.append(frozenset(within - {x}))
        near3.append(frozenset(within - {x}))
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
    elif chi_atoms:  # from the backbone-dependent library at placement time
        rotamers = np.zeros((0, len(chi_atoms)))
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
        near3=tuple(near3),
        roles=tuple(SIDE_CHAIN_ROLES.get((res_name, a), 0) for a in order),
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


# ---------------------------------------------------------------------------------------- library
@lru_cache(maxsize=1)
def _bbdep() -> dict[str, np.ndarray]:
    with np.load(_BBDEP) as z:
        return {k: z[k] for k in z.files}


def backbone_dihedrals(
    backbone: dict[str, np.ndarray], prev_c: np.ndarray | None, next_n: np.ndarray | None
) -> tuple[float, float]:
    """φ = C(i-1)-N-CA-C and ψ = N-CA-C-N(i+1) in degrees; a missing neighbour gives
    :data:`DEFAULT_PHI_PSI` for that angle."""
    phi = (
        float(np.degrees(dihedral(prev_c, backbone["N"], backbone["CA"], backbone["C"])))
        if prev_c is not None
        else DEFAULT_PHI_PSI[0]
    )
    psi = (
        float(np.degrees(dihedral(backbone["N"], backbone["CA"], backbone["C"], next_n)))
        if next_n is not None
        else DEFAULT_PHI_PSI[1]
    )
    return phi, psi


def library_rotamers(
    res_name: str, phi_deg: float, psi_deg: float, *, coverage: float = COVERAGE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backbone-dependent rotamers of ``res_name`` at (φ, ψ), most probable first.

    The 2010 library of Shapovalov & Dunbrack (Structure 2011) at the nearest 10° grid point,
    cut where the kept rotamers cover ``coverage`` of the probability.

    Returns
    -------
    chis, prob, sigma
        ``(n, n_chi)`` χ means (rad), ``(n,)`` probabilities (renormalised over the whole bin),
        ``(n, n_chi)`` χ widths (rad).
    """
    lib = _bbdep()
    if f"{res_name}_prob" not in lib:
        raise ValueError(f"res_name has no backbone-dependent rotamers: {res_name!r}")
    i = int(np.round((phi_deg + 180.0) / 10.0)) % 36
    j = int(np.round((psi_deg + 180.0) / 10.0)) % 36
    prob = lib[f"{res_name}_prob"][i, j].astype(np.float64)
    n = int(np.count_nonzero(prob))
    keep = min(n, int(np.searchsorted(np.cumsum(prob[:n]), coverage)) + 1)
    chis = np.radians(lib[f"{res_name}_chi"][i, j, :keep] / 10.0)
    sigma = np.radians(np.maximum(lib[f"{res_name}_sigma"][i, j, :keep] / 10.0, 1.0))
    return chis, prob[:keep], sigma


def hbond_roles(res_names: np.ndarray, atom_names: np.ndarray) -> np.ndarray:
    """Hydrogen-bond role of each atom: 0 none, 1 donor, 2 acceptor, 3 both (:data:`DONOR` | :data:`ACCEPTOR`).

    Protein atoms by name (backbone N a donor except in proline, O/OXT acceptors, side chains as in
    :data:`SIDE_CHAIN_ROLES`); every other N or O (water, ligands, nucleic acids) is taken as both.
    """
    res = np.asarray(res_names).astype(str)
    names = np.asarray(atom_names).astype(str)
    out = np.zeros(len(names), dtype=np.int8)
    aa = np.isin(res, list(AMINO_ACIDS_3TO1))
    out[aa & (names == "N") & (res != "PRO")] = DONOR
    out[aa & np.isin(names, ["O", "OXT"])] = ACCEPTOR
    for (r, a), role in SIDE_CHAIN_ROLES.items():
        out[(res == r) & (names == a)] = role
    other = ~aa & np.isin(np.char.upper(np.char.ljust(names, 1)).astype("<U1"), ["N", "O"])
    out[other] = DONOR | ACCEPTOR
    return out


# ----------------------------------------------------------------------------------------- energy
def lj_energy(d: np.ndarray, r0: np.ndarray | float, epsilon: float | None = None) -> np.ndarray:
    """Lennard-Jones 12-6 energy with its minimum ``-epsilon`` at ``r0``, linear below :data:`LJ_LINEAR_BELOW` ``r0``.

    ``epsilon * ((r0/d)**12 - 2 (r0/d)**6)`` (``epsilon``: :data:`LJ_EPSILON` by default); closer
    than ``LJ_LINEAR_BELOW * r0`` the repulsion continues along its tangent, so that a deep overlap
    stays finite (as Rosetta's ``fa_rep`` is linearised) and clashes are ranked by depth. The
    attractive well is scaled by :data:`LJ_ATTRACTION` (united atoms without hydrogens over-reward
    contacts at full depth).
    """
    epsilon = LJ_EPSILON if epsilon is None else epsilon
    d = np.asarray(d, dtype=np.float64)
    r0 = np.asarray(r0, dtype=np.float64)
    x0 = LJ_LINEAR_BELOW
    x = r0 / np.maximum(d, x0 * r0)
    e = epsilon * (x**12 - 2.0 * x**6)
    slope = 12.0 * epsilon / r0 * (x0**-13 - x0**-7)  # -dE/dd at x0 r0 (> 0)
    e = np.where(d < x0 * r0, e + slope * (x0 * r0 - d), e)
    return np.where(e < 0.0, LJ_ATTRACTION * e, e)


def hbond_energy(d: np.ndarray, angle_rad: np.ndarray, weight: float | None = None) -> np.ndarray:
    """Distance and angle hydrogen-bond reward between a donor and an acceptor heavy atom (≤ 0).

    ``-weight`` for 2.6-3.2 Å, falling linearly to 0 at 2.4 and 3.5 Å, times an angle factor on
    X'-X···Y (X' the atom bonded to the side-chain atom X): 1 above 100°, 0 below 80°, linear between.
    ``weight``: :data:`HBOND_WEIGHT` by default.
    """
    weight = HBOND_WEIGHT if weight is None else weight
    d = np.asarray(d, dtype=np.float64)
    dist = np.clip(np.minimum((d - 2.4) / 0.2, (3.5 - d) / 0.3), 0.0, 1.0)
    ang = np.clip((np.degrees(angle_rad) - 80.0) / 20.0, 0.0, 1.0)
    return -weight * dist * ang


def _pair_radius(elem_a: np.ndarray, elem_b: np.ndarray) -> np.ndarray:
    return RADIUS_SCALE * (_radius(elem_a) + _radius(elem_b))


def _radius(elem: np.ndarray) -> np.ndarray:
    elem = np.asarray(elem)
    out = np.full(elem.shape, VDW_RADIUS["C"])
    for e, r in VDW_RADIUS.items():
        out[elem == e] = r
    return out


def _compatible(role_a: np.ndarray, role_b: np.ndarray) -> np.ndarray:
    return ((role_a & DONOR) > 0) & ((role_b & ACCEPTOR) > 0) | ((role_a & ACCEPTOR) > 0) & (
        (role_b & DONOR) > 0
    )


@dataclass
class _Context:
    """Everything the scorer needs about one placement: the template, own atoms and environment."""

    t: SideChainTemplate
    own: dict[str, np.ndarray]
    cb: np.ndarray
    env: np.ndarray
    env_elem: np.ndarray
    env_role: np.ndarray
    tree: cKDTree
    prev_c: int
    next_n: int
    own_role: dict[str, int]


def _score(ctx: _Context, pos: dict[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Energy, hard-clash count and closest distance of every candidate (arrays of ``(n,)``).

    Energy: :func:`lj_energy` over every heavy-atom pair within 6 Å (environment and the residue's
    own backbone, pairs within three bonds left out), donor-acceptor pairs at a hydrogen-bond
    contact distance instead of the van der Waals one plus :func:`hbond_energy`. Hard clashes: pairs
    closer than :data:`CLASH_ANGSTROM`, pairs within two bonds left out.
    """
    t = ctx.t
    energy = np.zeros(n)
    hard = np.zeros(n, dtype=np.int64)
    mind = np.full(n, np.inf)
    if not t.names:
        return energy, hard, mind
    a = len(t.names)
    pts = np.stack([pos[x] for x in t.names], axis=1)  # (n, a, 3)
    parent = np.stack([pos[p[0]] if p[0] in pos else np.broadcast_to(ctx.cb, (n, 3)) for p in t.parents], 1)
    elem = np.array(t.elements)
    role = np.array([t.roles[i] for i in range(a)], dtype=np.int8)
    # environment: sparse pairs within the cut-off
    if len(ctx.env):
        pairs = ctx.tree.sparse_distance_matrix(
            cKDTree(pts.reshape(-1, 3)), CUTOFF_ANGSTROM, output_type="ndarray"
        )
        j_env, k_pt, d = pairs["i"], pairs["j"], pairs["v"]
        cand, atom = k_pt // a, k_pt % a
        keep = np.ones(len(d), dtype=bool)
        for excl_idx, token in ((ctx.prev_c, "-C"), (ctx.next_n, "+N")):
            if excl_idx < 0:
                continue
            near3 = np.array([token in t.near3[i] for i in range(a)])
            keep &= ~((j_env == excl_idx) & near3[atom])
        j_env, cand, atom, d = j_env[keep], cand[keep], atom[keep], d[keep]
        near2_excl = np.zeros(len(d), dtype=bool)  # 1-4 pairs across the peptide bond still count as clashes
        for excl_idx, token in ((ctx.prev_c, "-C"), (ctx.next_n, "+N")):
            if excl_idx >= 0:
                near2 = np.array([token in t.near[i] for i in range(a)])
                near2_excl |= (j_env == excl_idx) & near2[atom]
        e = _pair_energy(
            d,
            elem[atom],
            ctx.env_elem[j_env],
            role[atom],
            ctx.env_role[j_env],
            pts[cand, atom],
            parent[cand, atom],
            ctx.env[j_env],
        )
        energy += np.bincount(cand, weights=e, minlength=n)
        clash = (d < CLASH_ANGSTROM) & ~near2_excl
        hard += np.bincount(cand[clash], minlength=n)
        dd = np.where(near2_excl, np.inf, d)
        np.minimum.at(mind, cand, dd)
    # the residue's own backbone atoms (dense: at most five)
    for name, xyz in ctx.own.items():
        for i, x in enumerate(t.names):
            if name in t.near[i]:
                continue
            d = np.linalg.norm(pos[x] - xyz, axis=-1)
            hard += d < CLASH_ANGSTROM
            mind = np.minimum(mind, d)
            if name in t.near3[i]:
                continue
            m = d < CUTOFF_ANGSTROM
            e = _pair_energy(
                d[m],
                np.array([t.elements[i]]),
                np.array([_element(name)]),
                np.array([t.roles[i]]),
                np.array([ctx.own_role.get(name, 0)]),
                pos[x][m],
                parent[m, i],
                np.broadcast_to(xyz, (int(m.sum()), 3)),
            )
            energy[m] += e
    return energy, hard, mind


def _element(atom_name: str) -> str:
    return "N" if atom_name == "N" else "O" if atom_name in ("O", "OXT") else "C"


def _pair_energy(d, elem_a, elem_b, role_a, role_b, xyz_a, xyz_parent, xyz_b) -> np.ndarray:
    r0 = _pair_radius(elem_a, elem_b)
    hb = _compatible(role_a, role_b)
    r0 = np.where(hb, HBOND_CONTACT_ANGSTROM, r0)
    e = lj_energy(d, r0)
    if np.any(hb):
        idx = np.flatnonzero(hb & (d < 3.5))
        if len(idx):
            ang = angle(xyz_parent[idx], xyz_a[idx], xyz_b[idx])
            e[idx] += hbond_energy(d[idx], ang)
    return e


# -------------------------------------------------------------------------------------- candidates
def _expanded(chis: np.ndarray, prob: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each rotamer at its mean and at ±1 σ in χ1 and χ2; prior ``-ln p + ½ Σ (Δχ/σ)²`` (weighted)."""
    n_exp = min(chis.shape[1], 2)
    steps = np.array(EXPANSION_SIGMA)
    grids = np.meshgrid(*([steps] * n_exp), indexing="ij")
    delta = np.stack([g.ravel() for g in grids], axis=1)  # (m, n_exp) in units of σ
    m = len(delta)
    out = np.repeat(chis, m, axis=0)
    sig = np.repeat(sigma[:, :n_exp], m, axis=0)
    dz = np.tile(delta, (len(chis), 1))
    out[:, :n_exp] += dz * sig
    prior = PRIOR_WEIGHT * (-np.log(np.repeat(prob, m)) + 0.5 * np.sum(dz**2, axis=1))
    return out, prior


def _grid(chis: np.ndarray) -> np.ndarray:
    """A 5° grid over χ1 (× χ2) combined with every distinct library χ3/χ4 tail of ``chis``."""
    n_head = min(chis.shape[1], 2)
    grid = np.radians(np.arange(-180.0, 180.0, 5.0))
    heads = np.stack([g.ravel() for g in np.meshgrid(*([grid] * n_head), indexing="ij")], axis=1)
    tails = np.unique(np.round(chis[:, n_head:], 4), axis=0) if chis.shape[1] > n_head else np.zeros((1, 0))
    return np.concatenate([np.repeat(heads, len(tails), axis=0), np.tile(tails, (len(heads), 1))], axis=1)


def _grid_prior(cands, chis, prob, sigma, n_head) -> np.ndarray:
    """Prior of grid candidates: that of the most probable library rotamer with the same tail,
    ``-ln p + ½ Σ (Δχ/σ)²`` over χ1 (and χ2)."""
    diff = (cands[:, None, :n_head] - chis[None, :, :n_head] + np.pi) % (2 * np.pi) - np.pi
    z = 0.5 * np.sum((diff / sigma[None, :, :n_head]) ** 2, axis=2)
    same_tail = np.all(np.isclose(cands[:, None, n_head:], np.round(chis[None, :, n_head:], 4)), axis=2)
    logp = np.where(same_tail, np.log(prob)[None, :] - z, -np.inf)
    return PRIOR_WEIGHT * np.minimum(-logp.max(axis=1), 30.0)


def _pruned_build(ctx: _Context, chis: np.ndarray) -> np.ndarray:
    """Indices of the candidates with the fewest hard clashes, atoms built one by one.

    After each atom only the candidates with the fewest clashes so far go on (clash counts only grow),
    so a clash-free candidate, when one exists, is never dropped. An atom's position depends only on
    the χ angles up to its own, so its clashes are counted once per distinct χ prefix (KD-tree of the
    environment, atoms within :data:`CLASH_ANGSTROM`).
    """
    t = ctx.t
    depth: dict[str, int] = {"CB": 0}
    for i, x in enumerate(t.names):
        depth[x] = max(depth[t.parents[i][0]], int(t.chi_index[i]) + 1)
    alive = np.arange(len(chis))
    pos: dict[str, np.ndarray] = {}
    clashes = np.zeros(len(chis), dtype=np.int64)
    for i, x in enumerate(t.names):
        n = len(alive)
        for a in ("N", "CA", "C"):
            pos[a] = np.broadcast_to(ctx.own[a], (n, 3))
        pos["CB"] = np.broadcast_to(ctx.cb, (n, 3))
        p1, p2, p3 = t.parents[i]
        phi = t.phi0[i] + (chis[alive, t.chi_index[i]] if t.chi_index[i] >= 0 else 0.0)
        pos[x] = place_atom(pos[p1], pos[p2], pos[p3], t.bond[i], t.theta[i], phi)
        k = depth[x]
        if k:
            _u, first, inv = np.unique(chis[alive, :k], axis=0, return_index=True, return_inverse=True)
        else:
            first, inv = np.zeros(1, dtype=int), np.zeros(n, dtype=int)
        pts = pos[x][first]
        c = np.asarray(ctx.tree.query_ball_point(pts, CLASH_ANGSTROM, return_length=True), dtype=np.int64)
        for excl_idx, token in ((ctx.prev_c, "-C"), (ctx.next_n, "+N")):
            if excl_idx >= 0 and token in t.near[i]:
                c -= np.linalg.norm(pts - ctx.env[excl_idx], axis=1) < CLASH_ANGSTROM
        for name, xyz in ctx.own.items():
            if name not in t.near[i]:
                c += np.linalg.norm(pts - xyz, axis=1) < CLASH_ANGSTROM
        clashes[alive] += c[np.ravel(inv)]
        sel = clashes[alive] == clashes[alive].min()
        alive = alive[sel]
        pos = {k2: v[sel] for k2, v in pos.items() if k2 in t.names}
    return alive


def place_side_chain(
    backbone: dict[str, np.ndarray],
    res_name: str,
    env_coords: np.ndarray,
    *,
    prev_c: int = -1,
    next_n: int = -1,
    env_polar: np.ndarray | None = None,
    env_elements: np.ndarray | None = None,
    env_hbond: np.ndarray | None = None,
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray, dict[str, float]]:
    """Build the side chain of ``res_name`` on a fixed backbone, choosing the rotamer of lowest energy.

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
        Index in ``env_coords`` of the previous residue's C / the next residue's N (``-1``: none):
        they give φ and ψ for the backbone-dependent library, and 1-3 pairs across the peptide
        bonds are not counted as clashes.
    env_polar
        ``(m,)`` bool: which environment atoms are N or O; used when ``env_hbond`` is not given
        (every polar atom then counts as donor and acceptor).
    env_elements
        ``(m,)`` element symbols of the environment (van der Waals radii); ``None``: N/O from
        ``env_polar`` (as O), carbon otherwise.
    env_hbond
        ``(m,)`` hydrogen-bond roles of the environment (:func:`hbond_roles`).

    Returns
    -------
    names, elements, coords, info
        CB and side-chain atoms in PDB order, ``(k, 3)`` coordinates and ``{"min_distance",
        "n_clashes", "n_candidates", "energy"}`` of the chosen rotamer.
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
    env_all = np.asarray(env_coords, dtype=np.float64).reshape(-1, 3)
    m_all = len(env_all)
    polar_all = np.zeros(m_all, dtype=bool) if env_polar is None else np.asarray(env_polar, dtype=bool)
    if env_hbond is not None:
        role_all = np.asarray(env_hbond, dtype=np.int8).reshape(-1)
    else:
        role_all = np.where(polar_all, DONOR | ACCEPTOR, 0).astype(np.int8)
    if env_elements is not None:
        elem_all = np.char.upper(np.asarray(env_elements).astype(str))
    else:
        elem_all = np.where(polar_all, "O", "C")
    phi, psi = backbone_dihedrals(
        own, env_all[prev_c] if prev_c >= 0 else None, env_all[next_n] if next_n >= 0 else None
    )
    local = np.flatnonzero(np.sum((env_all - own["CA"]) ** 2, axis=1) < 16.0**2)
    remap = np.full(m_all, -1)
    remap[local] = np.arange(len(local))
    env = env_all[local]
    ctx = _Context(
        t=t,
        own=own,
        cb=np.asarray(cb, dtype=np.float64),
        env=env,
        env_elem=elem_all[local],
        env_role=role_all[local],
        tree=cKDTree(env if len(env) else np.zeros((0, 3))),
        prev_c=int(remap[prev_c]) if prev_c >= 0 else -1,
        next_n=int(remap[next_n]) if next_n >= 0 else -1,
        own_role={"N": 0 if res_name == "PRO" else DONOR, "O": ACCEPTOR, "OXT": ACCEPTOR},
    )
    if res_name == "PRO" or t.rotamers.shape[1] == 0:
        chis = t.rotamers
        prior = 0.01 * np.arange(len(chis), dtype=np.float64) / max(len(chis), 1)
        lib = None
    else:
        lib = library_rotamers(res_name, phi, psi)
        chis, prior = _expanded(*lib)
    best = _choose(ctx, chis, prior)
    if best[2] > 0 and lib is not None:  # every library rotamer clashes: a 5° grid, pruned as it is built
        full = library_rotamers(res_name, phi, psi, coverage=GRID_COVERAGE)
        grid = _grid(full[0])
        alive = _pruned_build(ctx, grid)
        grid = grid[alive]
        best = _choose(ctx, grid, _grid_prior(grid, *full, min(grid.shape[1], 2)))
        best = (*best[:3], len(alive), best[4])
    pos, mind, hard, n, energy = best
    if "CB" not in backbone:  # a rebuilt CB (WT glycine) is scored too: it is the same for all rotamers
        partners = np.concatenate([env, *(own[a][None] for a in ("O", "OXT") if a in own)])
        if len(partners):
            d_cb = np.linalg.norm(partners - cb, axis=1)
            hard += int(np.sum(d_cb < CLASH_ANGSTROM))
            mind = min(mind, float(d_cb.min()))
    coords = {"CB": np.asarray(cb, dtype=np.float64)} | pos
    elements = {"CB": "C"} | dict(zip(t.names, t.elements, strict=True))
    info = {"min_distance": mind, "n_clashes": hard, "n_candidates": n, "energy": energy}
    return (
        t.output_names,
        tuple(elements[a] for a in t.output_names),
        np.array([coords[a] for a in t.output_names]),
        info,
    )


def _choose(ctx: _Context, chis: np.ndarray, prior: np.ndarray):
    """Build and score every candidate; (atom -> xyz of the best, min distance, clashes, n, energy).

    Order: ring closure (proline), then fewest hard clashes, then energy + prior.
    """
    t = ctx.t
    n = len(chis)
    pos: dict[str, np.ndarray] = {a: np.broadcast_to(ctx.own[a], (n, 3)) for a in ("N", "CA", "C")}
    pos["CB"] = np.broadcast_to(ctx.cb, (n, 3))
    _build(pos, t.names, t.parents, t.bond, t.theta, t.chi_index, t.phi0, chis)
    open_ring = np.zeros(n)
    if t.res_name == "PRO":  # first criterion: the ring closes on this backbone (CD-N ideal ± 0.02 Å)
        d0 = float(np.linalg.norm(t.ideal_cd_n))
        dev = np.abs(np.linalg.norm(pos["CD"] - pos["N"], axis=-1) - d0)
        open_ring = np.where(dev < 0.02, 0.0, dev)
    side = {x: pos[x] for x in t.names}
    energy, hard, mind = _score(ctx, side, n)
    total = energy + prior
    best = int(np.lexsort((total, hard, open_ring))[0])
    return ({x: pos[x][best] for x in t.names}, float(mind[best]), int(hard[best]), n, float(total[best]))
