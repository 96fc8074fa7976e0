"""Geometry checks of a mutated residue: bond lengths against the CCD ideal and heavy-atom clashes."""

from __future__ import annotations

from dataclasses import dataclass

import biotite.structure as struc
import numpy as np

from components.mutation.ideal import ideal_residue
from components.mutation.protein import BACKBONE_ATOMS, _graph
from components.mutation.variants import Mutation

__all__ = ["ResidueCheck", "check_side_chain"]


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
