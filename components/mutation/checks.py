"""Geometry checks of a mutated residue: bond lengths against the CCD ideal and heavy-atom clashes."""

from __future__ import annotations

from dataclasses import dataclass

import biotite.structure as struc
import numpy as np

from components.mutation.ideal import ideal_residue
from components.mutation.protein import BACKBONE_ATOMS, _graph
from components.mutation.variants import Mutation

__all__ = ["ResidueCheck", "check_side_chain", "MovedCheck", "check_moved_atoms"]


@dataclass(frozen=True)
class ResidueCheck:
    """Quality of one rebuilt side chain.

    ``max_bond_deviation``: largest |d - d_ideal| (Å) over CCD bonds touching a rebuilt atom;
    ``min_distance``: closest approach (Å) of a rebuilt atom to any atom more than two bonds away
    (inside the residue or elsewhere); ``n_rebuilt``: number of rebuilt atoms.
    """

    max_bond_deviation: float
    min_distance: float
    n_rebuilt: int


def check_side_chain(variant: struc.AtomArray, mutation: Mutation, *, wt_had_cb: bool = True) -> ResidueCheck:
    """Check the side chain of the mutated protein residue ``mutation`` in ``variant``.

    Rebuilt atoms are every side-chain atom after CB, and CB itself when ``wt_had_cb`` is False.
    """
    chain = mutation.chain
    at = (variant.res_id == mutation.position) & (variant.ins_code == mutation.ins_code)
    if chain is not None:
        at &= variant.chain_id == chain
    idx = np.flatnonzero(at)
    if len(idx) == 0:
        raise ValueError(f"residue of {mutation} not found in the variant")
    res_name = str(variant.res_name[idx[0]])
    names = variant.atom_name[idx].tolist()
    fixed = set(BACKBONE_ATOMS) | ({"CB"} if wt_had_cb else set())
    rebuilt = [n for n in names if n not in fixed]
    if not rebuilt:
        return ResidueCheck(0.0, float("inf"), 0)
    ideal = ideal_residue(res_name)
    coord = {n: variant.coord[i].astype(np.float64) for n, i in zip(names, idx, strict=True)}
    worst = 0.0
    for i, j in ideal.bonds:
        a, b = ideal.atom_names[i], ideal.atom_names[j]
        if (a in rebuilt or b in rebuilt) and a in coord and b in coord:
            d0 = float(np.linalg.norm(ideal.coords[i] - ideal.coords[j]))
            worst = max(worst, abs(float(np.linalg.norm(coord[a] - coord[b])) - d0))
    graph = _graph(res_name)
    all_xyz = variant.coord.astype(np.float64)
    own = set(idx.tolist())
    # previous C and next N (peptide bonds) by distance to our N / C
    links = {}
    for label, anchor, partner in (("-C", "N", "C"), ("+N", "C", "N")):
        if anchor in coord:
            hits = np.flatnonzero(
                (variant.atom_name == partner) & (np.linalg.norm(all_xyz - coord[anchor], axis=1) < 2.0)
            )
            cand = [int(c) for c in hits if int(c) not in own]
            if cand:
                links[label] = cand[0]
    mind = float("inf")
    for x in rebuilt:
        within = {x}
        frontier = {x}
        for _ in range(2):
            frontier = {b for a in frontier for b in graph.get(a, ())} - within
            within |= frontier
        skip: set[int] = {int(i) for n, i in zip(names, idx, strict=True) if n in within}
        skip |= {links[lab] for lab in ("-C", "+N") if lab in within and lab in links}
        mask = np.ones(len(all_xyz), dtype=bool)
        mask[list(skip)] = False
        d = np.linalg.norm(all_xyz[mask] - coord[x], axis=1)
        mind = min(mind, float(d.min()))
    return ResidueCheck(worst, mind, len(rebuilt))


@dataclass(frozen=True)
class MovedCheck:
    """What a local relaxation did to the atoms kept from the wild type.

    ``n_moved``: WT atoms (the mutated side chain excluded) displaced by more than 1e-3 Å;
    ``residues``: their residues (chain, res_id); ``backbone_rmsd``: RMSD (Å) of the N, CA, C, O
    atoms of the residues whose backbone moved (0 when none); ``max_displacement``: largest move
    (Å); ``max_bond_change``: largest change (Å) of a bond length touching a moved atom, against
    the same bond in the WT; ``min_distance``: closest approach (Å) of a moved atom to any atom
    more than two bonds away.
    """

    n_moved: int
    residues: tuple[tuple[str, int], ...]
    backbone_rmsd: float
    max_displacement: float
    max_bond_change: float
    min_distance: float


def _atom_keys(arr: struc.AtomArray) -> np.ndarray:
    return np.char.add(
        np.char.add(np.char.add(arr.chain_id.astype(str), "|"), arr.res_id.astype(str)),
        np.char.add(np.char.add(np.char.add("|", arr.ins_code.astype(str)), "|"), arr.atom_name.astype(str)),
    )


def check_moved_atoms(wt: struc.AtomArray, variant: struc.AtomArray, mutation: Mutation) -> MovedCheck:
    """Compare ``variant`` with ``wt`` atom by atom (matched by chain, residue, insertion code, name)."""
    from scipy.spatial import cKDTree

    from components.mutation.relax import local_topology

    wkeys, vkeys = _atom_keys(wt), _atom_keys(variant)
    order = np.argsort(wkeys)
    pos = np.searchsorted(wkeys[order], vkeys)
    pos = np.minimum(pos, len(order) - 1)
    found = wkeys[order][pos] == vkeys
    wt_index = np.where(found, order[pos], -1)
    mutated = (variant.res_id == mutation.position) & (variant.ins_code == mutation.ins_code)
    if mutation.chain is not None:
        mutated &= variant.chain_id == mutation.chain
    found &= ~(mutated & ~np.isin(variant.atom_name, BACKBONE_ATOMS))
    vxyz = variant.coord.astype(np.float64)
    wxyz = wt.coord.astype(np.float64)
    disp = np.zeros(len(vxyz))
    disp[found] = np.linalg.norm(vxyz[found] - wxyz[wt_index[found]], axis=1)
    moved = disp > 1e-3
    if not moved.any():
        return MovedCheck(0, (), 0.0, 0.0, 0.0, float("inf"))
    residues = sorted(
        {(str(c), int(r)) for c, r in zip(variant.chain_id[moved], variant.res_id[moved], strict=True)}
    )
    bb_res = {
        (str(c), int(r))
        for c, r, a in zip(
            variant.chain_id[moved], variant.res_id[moved], variant.atom_name[moved], strict=True
        )
        if a in ("N", "CA", "C", "O")
    }
    in_bb = (
        np.array([(str(c), int(r)) in bb_res for c, r in zip(variant.chain_id, variant.res_id, strict=True)])
        & np.isin(variant.atom_name, ["N", "CA", "C", "O"])
        & found
    )
    rmsd = float(np.sqrt(np.mean(disp[in_bb] ** 2))) if in_bb.any() else 0.0
    topo = local_topology(variant, np.zeros(len(vxyz), dtype=bool))
    bonds = topo.pairs[topo.order == 2]
    touch = (moved[bonds[:, 0]] | moved[bonds[:, 1]]) & found[bonds[:, 0]] & found[bonds[:, 1]]
    bi, bj = bonds[touch, 0], bonds[touch, 1]
    change = np.abs(
        np.linalg.norm(vxyz[bi] - vxyz[bj], axis=1)
        - np.linalg.norm(wxyz[wt_index[bi]] - wxyz[wt_index[bj]], axis=1)
    )
    pairs = np.sort(cKDTree(vxyz).query_pairs(4.0, output_type="ndarray"), axis=1).astype(np.int64)
    pairs = pairs[moved[pairs[:, 0]] | moved[pairs[:, 1]]]
    n = len(vxyz)
    near = topo.pairs[topo.order <= 3]
    pairs = pairs[~np.isin(pairs[:, 0] * n + pairs[:, 1], near[:, 0] * n + near[:, 1])]
    d = np.linalg.norm(vxyz[pairs[:, 0]] - vxyz[pairs[:, 1]], axis=1)
    return MovedCheck(
        n_moved=int(moved.sum()),
        residues=tuple(residues),
        backbone_rmsd=rmsd,
        max_displacement=float(disp.max()),
        max_bond_change=float(change.max()) if len(change) else 0.0,
        min_distance=float(d.min()) if len(d) else float("inf"),
    )
