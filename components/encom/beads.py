"""ENCoM beads ("masses") from an ``AtomArray``, following NRGTEN 1.2.9's bead definitions.

* Nucleic acids (RNA and DNA share one definition): a ``P`` bead at P (P, OP1, OP2, OP3, O5' and the O3'
  of the preceding nucleotide), an ``S`` bead at C1' (sugar) and a ``B`` bead at C2 (base). The O3' of a
  nucleotide moves to the nucleotide whose P lies within 2 A of it (NRGTEN's ``REDEFINE_RESIS``); an O3'
  with no such partner is dropped.
* Proteins: one ``CA`` bead per residue holding every heavy atom of the residue.
* A bead whose centre atom is missing is dropped when it would hold at most ``skipmass_threshold`` atoms
  (this removes the P bead of a 5' nucleotide); otherwise, and for a protein residue without CA, the
  structure is rejected.

Labels are NRGTEN's: ``RES.BEAD|resnum[icode]|chain|running_residue_index``.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np
from biotite.structure import AtomArray
from scipy.spatial import cKDTree

from components.common.errors import DynamotifWarning, InputError
from components.encom.params import EncomParams, tables

__all__ = ["BeadModel", "build_beads", "CLASS_NAMES"]

CLASS_NAMES = ("nucleic", "protein")
_MAX_SLOTS = 3


@dataclasses.dataclass(frozen=True)
class BeadModel:
    """Beads of one structure and the atoms that make them up.

    Attributes
    ----------
    labels : list of str, (N,)
        NRGTEN bead labels, e.g. ``U.S|12|A|12``.
    centers : ndarray, shape=(N, 3), float64
        Bead positions (their centre atoms).
    bead_class : ndarray, shape=(N,), int
        Index into :data:`CLASS_NAMES`; beads of different classes are never bonded.
    atom_coords : ndarray, shape=(m, 3), float64
        Coordinates of the bead atoms, grouped by bead and sorted by serial number within a bead.
    atom_bead : ndarray, shape=(m,), int64
        Bead index of each bead atom.
    atom_type : ndarray, shape=(m,), int64
        Sobolev atom type 1..8 (0 when the residue table has no type for the atom).
    atom_name, atom_element, atom_res_name : ndarray, shape=(m,), str
        Per-atom annotations (``atom_res_name`` is the residue the atom was read in, before the O3' move).
    atom_serial : ndarray, shape=(m,), int64
        Serial numbers (``atom_id``; 1-based positions when the array has none).
    """

    labels: list[str]
    centers: np.ndarray
    bead_class: np.ndarray
    atom_coords: np.ndarray
    atom_bead: np.ndarray
    atom_type: np.ndarray
    atom_name: np.ndarray
    atom_element: np.ndarray
    atom_res_name: np.ndarray
    atom_serial: np.ndarray

    @property
    def n_beads(self) -> int:
        return len(self.labels)


def _class_lookup() -> tuple[dict[str, int], list[dict]]:
    tabs = tables()["classes"]
    res_class: dict[str, int] = {}
    for ci, cname in enumerate(CLASS_NAMES):
        for res in tabs[cname]["atomtypes"]:
            res_class[res] = ci
    return res_class, [tabs[c] for c in CLASS_NAMES]


def _residue_index(atoms: AtomArray) -> np.ndarray:
    """0-based running residue index: a new residue whenever (name, number, icode, chain) changes."""
    n = atoms.array_length()
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for ann in (atoms.res_name, atoms.res_id, atoms.ins_code, atoms.chain_id):
        change[1:] |= ann[1:] != ann[:-1]
    return np.cumsum(change) - 1


def _residue_text(atoms: AtomArray, k: int) -> str:
    chain = atoms.chain_id[k] or " "
    return f"residue {atoms.res_name[k]} {atoms.res_id[k]}{atoms.ins_code[k]} of chain {chain!r}"


def _drop_unknown(
    atoms: AtomArray, res_class: dict[str, int], skip_unknown: bool, source: str | None
) -> AtomArray:
    names = np.asarray(atoms.res_name, dtype=str)
    uniq, inverse = np.unique(names, return_inverse=True)
    known_u = np.array([u in res_class for u in uniq.tolist()], dtype=bool)
    known = known_u[inverse]
    if known.all():
        return atoms
    bad = np.flatnonzero(~known)
    if not skip_unknown:
        k = int(bad[0])
        record = _residue_text(atoms, k)
        raise InputError(
            f"unknown residue name {atoms.res_name[k]!r} ({record}); ENCoM knows nucleotides and the 20 "
            "amino acids (see components/encom/data/encom_tables.json); use --skip-unknown / "
            "skip_unknown=True to drop such residues",
            file=source,
            record=record,
        )
    dropped = sorted({str(x) for x in names[bad]})
    n_res = len(np.unique(_residue_index(atoms)[bad]))
    warnings.warn(
        f"{source + ': ' if source else ''}dropped {n_res} residue(s) with unknown names "
        f"({', '.join(dropped[:10])}{', ...' if len(dropped) > 10 else ''}; {len(bad)} atoms)",
        DynamotifWarning,
        stacklevel=3,
    )
    return atoms[known]


def build_beads(
    atoms: AtomArray, params: EncomParams, *, skip_unknown: bool = False, source: str | None = None
) -> BeadModel:
    """Define the ENCoM beads of ``atoms`` (heavy atoms, first model, altlocs resolved).

    Parameters
    ----------
    atoms
        The structure; hydrogens are removed here too. Coordinates are taken to 3 decimals (what a PDB
        file stores), so a structure gives the same numbers in memory and after a PDB round trip.
    params
        Uses ``bond_cutoff_angstrom`` (O3' transfer) and ``skipmass_threshold``.
    skip_unknown
        Drop residues whose names are not in the tables (with a :class:`DynamotifWarning`) instead of
        raising :class:`InputError`.
    source
        File name used in messages.
    """
    from components.encom.structure import drop_hydrogens

    if not isinstance(atoms, AtomArray):
        raise TypeError(f"atoms must be a biotite AtomArray, got {type(atoms).__name__}")
    atoms = drop_hydrogens(atoms)
    res_class, class_tabs = _class_lookup()
    atoms = _drop_unknown(atoms, res_class, skip_unknown, source)
    n = atoms.array_length()
    if n == 0:
        raise InputError("no atoms left to model", file=source)

    coords = np.round(np.asarray(atoms.coord, dtype=np.float64), 3)
    names = np.asarray(atoms.atom_name, dtype=str)
    res_names = np.asarray(atoms.res_name, dtype=str)
    resi = _residue_index(atoms)
    n_res = int(resi[-1]) + 1
    serial = (
        np.asarray(atoms.atom_id, dtype=np.int64)
        if "atom_id" in atoms.get_annotation_categories()
        else np.arange(1, n + 1, dtype=np.int64)
    )

    # duplicate atom names inside one residue (NRGTEN: "Trying to add same atom twice!")
    order = np.lexsort((names, resi))
    dup = (resi[order][1:] == resi[order][:-1]) & (names[order][1:] == names[order][:-1])
    if dup.any():
        k = int(order[1:][dup][0])
        raise InputError(
            f"atom {names[k]!r} appears twice in {_residue_text(atoms, k)}",
            file=source,
            record=_residue_text(atoms, k),
        )

    # residue class and per-atom bead slot
    uniq_res, inv_res = np.unique(res_names, return_inverse=True)
    atom_class = np.array([res_class[u] for u in uniq_res.tolist()], dtype=np.int64)[inv_res]
    slot = np.full(n, -1, dtype=np.int64)
    is_center = np.zeros(n, dtype=bool)
    uniq_names, inv_names = np.unique(names, return_inverse=True)
    for ci, tab in enumerate(class_tabs):
        in_class = atom_class == ci
        if not in_class.any():
            continue
        name_slot = np.full(len(uniq_names), -1, dtype=np.int64)
        name_center = np.zeros(len(uniq_names), dtype=bool)
        for si, bead in enumerate(tab["beads"]):
            members = uniq_names if bead["atoms"] == "*" else np.asarray(bead["atoms"])
            hit = np.isin(uniq_names, members)
            name_slot[hit] = si
            name_center[uniq_names == bead["center"]] = True
        slot[in_class] = name_slot[inv_names[in_class]]
        is_center[in_class] = name_center[inv_names[in_class]] & (slot[in_class] >= 0)

    # O3' of nucleotide i moves to the first nucleotide (in file order) whose P is within the bond cutoff
    # and that has not received one yet (NRGTEN's REDEFINE_RESIS (n-1) -> (n) | O3')
    owner = resi.copy()
    for ci, tab in enumerate(class_tabs):
        transfer = tab.get("transfer")
        if transfer is None or not (atom_class == ci).any():
            continue
        if transfer["atoms"] != [transfer["atom"]] or transfer["direction"] != "next":
            raise ValueError(f"unsupported bead transfer rule in the tables: {transfer}")
        moving = np.flatnonzero((atom_class == ci) & (names == transfer["atom"]))
        partner = np.flatnonzero((atom_class == ci) & (names == transfer["partner"]))
        slot[moving] = -1  # dropped unless transferred
        if len(moving) == 0 or len(partner) == 0:
            continue
        target_slot = [bd["name"] for bd in tab["beads"]].index(transfer["partner"])
        cutoff = float(transfer["max_distance"])
        near = cKDTree(coords[moving]).query_ball_tree(cKDTree(coords[partner]), cutoff + 1e-6)
        taken: set[int] = set()
        res_moving = resi[moving].tolist()
        res_partner = resi[partner].tolist()
        for a, cands in enumerate(near):  # moving atoms are in residue order
            i_res = res_moving[a]
            for b in sorted(cands, key=res_partner.__getitem__):
                j_res = res_partner[b]
                if j_res == i_res or j_res in taken:
                    continue
                d = coords[moving[a]] - coords[partner[b]]
                if math.sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) <= cutoff:
                    owner[moving[a]] = j_res
                    slot[moving[a]] = target_slot
                    taken.add(j_res)
                    break

    # group atoms into (residue, slot) beads
    used = slot >= 0
    key = np.where(used, owner * _MAX_SLOTS + slot, -1)
    n_keys = n_res * _MAX_SLOTS
    counts = np.bincount(key[used], minlength=n_keys)
    centers_per_key = np.bincount(key[used & is_center], minlength=n_keys)
    has_center = centers_per_key > 0
    res_of_key = np.arange(n_keys) // _MAX_SLOTS
    first_atom = np.searchsorted(resi, np.arange(n_res))
    key_class = np.full(n_keys, -1, dtype=np.int64)
    key_class[key[used]] = atom_class[used]
    missing = (counts > 0) & ~has_center
    if missing.any():
        is_protein = key_class == CLASS_NAMES.index("protein")
        fatal = missing & (is_protein | (counts > params.skipmass_threshold))
        if fatal.any():
            kk = int(np.flatnonzero(fatal)[0])
            k = int(first_atom[res_of_key[kk]])
            tab = class_tabs[key_class[kk]]
            center = tab["beads"][kk % _MAX_SLOTS]["center"]
            raise InputError(
                f"missing centre atom {center!r} of bead {tab['beads'][kk % _MAX_SLOTS]['name']!r} in "
                f"{_residue_text(atoms, k)} ({int(counts[kk])} other atoms of that bead present)",
                file=source,
                record=_residue_text(atoms, k),
            )
    bead_keys = np.flatnonzero(has_center)
    n_beads = len(bead_keys)
    key_to_bead = np.full(n_keys, -1, dtype=np.int64)
    key_to_bead[bead_keys] = np.arange(n_beads)
    atom_bead = np.where(used, key_to_bead[np.maximum(key, 0)], -1)
    keep = np.flatnonzero(atom_bead >= 0)
    keep = keep[np.lexsort((serial[keep], atom_bead[keep]))]

    center_atom = np.full(n_beads, -1, dtype=np.int64)
    center_atoms = np.flatnonzero(used & is_center)
    center_atom[key_to_bead[key[center_atoms]]] = center_atoms
    bead_class = key_class[bead_keys]

    # Sobolev atom types, looked up in the table of the residue that owns the bead
    owner_names = res_names[first_atom[owner[keep]]]
    pair_keys = np.char.add(np.char.add(owner_names, "\t"), names[keep])
    uniq_pairs, inv_pairs = np.unique(pair_keys, return_inverse=True)
    uniq_types = np.zeros(len(uniq_pairs), dtype=np.int64)
    for u, pk in enumerate(uniq_pairs.tolist()):
        rn, an = pk.split("\t")
        uniq_types[u] = int(class_tabs[res_class[rn]]["atomtypes"][rn].get(an, 0))
    atom_type = uniq_types[inv_pairs]

    chain_l = atoms.chain_id[center_atom].tolist()
    resid_l = atoms.res_id[center_atom].tolist()
    icode_l = atoms.ins_code[center_atom].tolist()
    rname_l = res_names[center_atom].tolist()
    bead_names = [[bd["name"] for bd in tab["beads"]] for tab in class_tabs]
    labels = [
        f"{rname_l[b]}.{bead_names[bead_class[b]][kk % _MAX_SLOTS]}|{resid_l[b]}{icode_l[b]}"
        f"|{chain_l[b] or ' '}|{res_of_key[kk] + 1}"
        for b, kk in enumerate(bead_keys.tolist())
    ]
    return BeadModel(
        labels=labels,
        centers=coords[center_atom],
        bead_class=bead_class,
        atom_coords=coords[keep],
        atom_bead=atom_bead[keep],
        atom_type=atom_type,
        atom_name=names[keep],
        atom_element=np.asarray(atoms.element, dtype=str)[keep],
        atom_res_name=res_names[keep],
        atom_serial=serial[keep],
    )
