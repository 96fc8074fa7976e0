"""In-memory mutation API: one WT ``AtomArray`` + variants -> variant ``AtomArray`` s.

:class:`Mutator` precomputes, once per WT, the residue index and every replacement residue it is
asked for (nucleotide bases are independent of the rest of the variant, so each (residue, target)
pair is built once; protein side chains are cached for the WT environment and rebuilt only when
mutated residues are close enough to see each other). A variant is then a concatenation of WT
slices and cached residues, which is what makes 29k variants take seconds, not hours.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import biotite.structure as struc
import numpy as np

from components.common.errors import DynamotifWarning, InputError
from components.mutation.nucleic import ALL_BASE_ATOMS, FRAME_ATOMS, place_base
from components.mutation.protein import BACKBONE_ATOMS, CLASH_ANGSTROM, hbond_roles, place_side_chain
from components.mutation.variants import (
    AMINO_ACIDS_1TO3,
    AMINO_ACIDS_3TO1,
    NUCLEOTIDE_TARGETS,
    Mutation,
    RejectedVariant,
    ValidVariant,
    residue_kind,
    validate_variants,
    variant_name,
)

__all__ = [
    "Mutator",
    "mutate",
    "mutate_many",
    "format_rejections",
    "rejections_frame",
    "screen_table",
    "strip_hydrogens",
]

#: CA-CA distance above which two mutated protein residues cannot influence each other's rotamer
_INDEPENDENT_CA_ANGSTROM = 30.0
#: atoms within this distance of the mutated CA form the system of the local relaxation
_RELAX_RADIUS_ANGSTROM = 28.0
_BOND_TOLERANCE_ANGSTROM = 0.05

ResidueKey = tuple[str, int, str]


def strip_hydrogens(structure: struc.AtomArray) -> struc.AtomArray:
    """``structure`` without hydrogen (and deuterium) atoms."""
    elem = np.char.upper(structure.element.astype(str))
    keep = (elem != "H") & (elem != "D")
    return structure if keep.all() else structure[keep]


def format_rejections(rejected: Sequence[RejectedVariant], *, limit: int = 20) -> str:
    """One line listing the bad rows: ``row 3 ('A12X'): reason | row 7 (...) ...``."""
    shown = [f"row {r.row} ({r.variant!r}): {r.reason}" for r in rejected[:limit]]
    more = f" | ... and {len(rejected) - limit} more" if len(rejected) > limit else ""
    return f"{len(rejected)} invalid variant(s): " + " | ".join(shown) + more


def _new_atoms(template: struc.AtomArray, names: Sequence[str], elements: Sequence[str], coords: np.ndarray):
    """AtomArray of new atoms carrying the per-residue annotations of ``template[0]``."""
    atoms = struc.AtomArray(len(names))
    for cat in template.get_annotation_categories():
        value = template.get_annotation(cat)[0]
        if cat == "occupancy":
            value = 1.0
        elif cat in ("b_factor", "charge"):
            value = 0
        atoms.set_annotation(cat, np.full(len(names), value, dtype=template.get_annotation(cat).dtype))
    atoms.atom_name = np.asarray(names, dtype=template.atom_name.dtype)
    atoms.element = np.asarray(elements, dtype=template.element.dtype)
    atoms.coord = np.asarray(coords, dtype=np.float32)
    return atoms


def rejections_frame(rejected: Sequence[RejectedVariant]) -> Any:
    """``rejected.csv`` as a DataFrame: columns ``row`` (1-based data row), ``variant``, ``reason``."""
    import pandas as pd

    return pd.DataFrame(
        [(r.row, r.variant, r.reason) for r in rejected], columns=["row", "variant", "reason"]
    )


def screen_table(wt: struc.AtomArray, table: Any, column: str) -> tuple[Any, list[RejectedVariant]]:
    """Rows of ``table`` whose variant fits ``wt`` (WT letter, residue present...) and the rejected rows.

    Empty/NaN cells are the wild type. Returns the kept rows (original index) and the rejections.
    """
    texts = [None if not isinstance(v, str) and (v is None or v != v) else str(v) for v in table[column]]
    good, rejected = validate_variants(strip_hydrogens(wt), texts)
    return table.iloc[[v.row - 1 for v in good]], rejected


class Mutator:
    """Builds variants of one wild-type structure, reusing per-residue work across variants.

    Parameters
    ----------
    wt
        Wild-type ``AtomArray`` (hydrogens are removed; only heavy atoms are modelled).
    """

    def __init__(self, wt: struc.AtomArray):
        if not isinstance(wt, struc.AtomArray):
            raise TypeError(f"wt must be a biotite AtomArray, got {type(wt).__name__}")
        if wt.array_length() == 0:
            raise InputError("the wild-type structure has no atoms")
        self.wt = strip_hydrogens(wt)
        if "ins_code" not in self.wt.get_annotation_categories():
            self.wt.add_annotation("ins_code", dtype="U1")
        starts = struc.get_residue_starts(self.wt, add_exclusive_stop=True)
        self._starts = starts
        self._index: dict[ResidueKey, int] = {}
        for k, s in enumerate(starts[:-1]):
            key = (str(self.wt.chain_id[s]), int(self.wt.res_id[s]), str(self.wt.ins_code[s]).strip().upper())
            self._index.setdefault(key, k)
        self._multi_chain = len(set(self.wt.chain_id.tolist())) > 1
        self._cache: dict[tuple[ResidueKey, str], struc.AtomArray] = {}
        self._cache_protein: dict[tuple[ResidueKey, str], dict[ResidueKey, struc.AtomArray]] = {}
        self._wt_coord = self.wt.coord.astype(np.float64)
        self._elements = np.char.upper(self.wt.element.astype(str))
        self._polar = np.isin(self._elements, ["N", "O"])
        self._hbond = hbond_roles(self.wt.res_name, self.wt.atom_name)

    # ------------------------------------------------------------------ helpers
    def residue(self, key: ResidueKey) -> struc.AtomArray:
        """The WT atoms of residue ``(chain, res_id, ins_code)``."""
        k = self._index[key]
        return self.wt[self._starts[k] : self._starts[k + 1]]

    def _span(self, key: ResidueKey) -> tuple[int, int]:
        k = self._index[key]
        return int(self._starts[k]), int(self._starts[k + 1])

    def validate(self, variants: Iterable[Any]) -> tuple[list[ValidVariant], list[RejectedVariant]]:
        """:func:`~components.mutation.variants.validate_variants` against this WT."""
        return validate_variants(
            self.wt, [v if isinstance(v, str) or v is None else str(v) for v in variants]
        )

    # ------------------------------------------------------------------ nucleotides
    def _nucleotide(self, key: ResidueKey, mut: Mutation) -> struc.AtomArray:
        cached = self._cache.get((key, mut.mut))
        if cached is not None:
            return cached
        res = self.residue(key)
        old = str(res.res_name[0])
        kind, _ = residue_kind(old) or ("rna", "")
        new = NUCLEOTIDE_TARGETS[kind][mut.mut]
        frame_names = FRAME_ATOMS["purine" if old.lstrip("D") in ("A", "G") else "pyrimidine"]
        frame = np.array([res.coord[res.atom_name == a][0] for a in frame_names], dtype=np.float64)
        names, elements, coords = place_base(frame, old, new)
        kept = res[~np.isin(res.atom_name, list(ALL_BASE_ATOMS))].copy()
        kept.res_name[:] = new
        out = kept + _new_atoms(kept if kept.array_length() else res, names, elements, coords)
        out.res_name[:] = new
        self._cache[(key, mut.mut)] = out
        return out

    # ------------------------------------------------------------------ proteins
    def _place(
        self, key: ResidueKey, new: str, coord: np.ndarray, hidden: np.ndarray
    ) -> tuple[struc.AtomArray, dict[str, float]]:
        """Residue ``key`` as ``new`` on the current coordinates; ``hidden`` atoms are not environment."""
        res = self.residue(key)
        start, stop = self._span(key)
        names = res.atom_name.tolist()
        backbone = {a: coord[start + names.index(a)] for a in ("N", "CA", "C", "O", "OXT") if a in names}
        if "CB" in names and new != "GLY":
            backbone["CB"] = coord[start + names.index("CB")]
        env_mask = ~hidden.copy()
        env_mask[start:stop] = False
        env_index = np.flatnonzero(env_mask)
        env = coord[env_index]
        prev_c = self._peptide_partner(key, env_index, coord, backbone["N"], "C", -1)
        next_n = self._peptide_partner(key, env_index, coord, backbone["C"], "N", +1)
        n_wt = self.wt.array_length()
        polar = np.zeros(len(env_index), dtype=bool)
        elements = np.full(len(env_index), "C", dtype="<U2")
        roles = np.zeros(len(env_index), dtype=np.int8)
        in_wt = env_index < n_wt
        polar[in_wt] = self._polar[env_index[in_wt]]
        elements[in_wt] = self._elements[env_index[in_wt]]
        roles[in_wt] = self._hbond[env_index[in_wt]]
        sc_names, sc_elem, sc_coord, info = place_side_chain(
            backbone,
            new,
            env,
            prev_c=prev_c,
            next_n=next_n,
            env_polar=polar,
            env_elements=elements,
            env_hbond=roles,
        )
        kept = res[np.isin(res.atom_name, ["N", "CA", "C", "O"])].copy()
        kept.coord = np.array([backbone[a] for a in kept.atom_name], dtype=np.float32)
        parts = [kept]
        if sc_names:
            parts.append(_new_atoms(res, sc_names, sc_elem, sc_coord))
        if "OXT" in names:
            parts.append(res[res.atom_name == "OXT"])
        out = parts[0]
        for p in parts[1:]:
            out = out + p
        out.res_name[:] = new
        return out, info

    def _protein(
        self,
        key: ResidueKey,
        mut: Mutation,
        coord: np.ndarray,
        hidden: np.ndarray,
        frozen: frozenset[ResidueKey] = frozenset(),
    ) -> dict[ResidueKey, struc.AtomArray]:
        """Mutate residue ``key``; if every rotamer clashes with a neighbouring side chain, repack it.

        Repacking: the side chains (after CB) of the clashing neighbours are removed, the mutated
        side chain is placed again, then each neighbour's own side chain is rebuilt (same residue,
        CCD geometry, rotamer chosen in the new environment). Kept if it lowers the number of
        clashes; when clashes remain (e.g. with backbone atoms, which never move) a
        :class:`DynamotifWarning` says so.
        Residues in ``frozen`` (other mutated residues) are never repacked.
        """
        new = AMINO_ACIDS_1TO3[mut.mut]
        placed, info = self._place(key, new, coord, hidden)
        if info["n_clashes"] == 0:
            return {key: placed}
        result, n_clashes = self._repack(key, new, coord, hidden, frozen, placed, info)
        if n_clashes:
            result, n_clashes = self._relax(
                key, result, coord, hidden, frozen, n_clashes, info["min_distance"]
            )
        if n_clashes:
            warnings.warn(
                f"{mut}: no clash-free rotamer on the fixed backbone, nor after a local relaxation "
                f"({n_clashes} heavy-atom pair(s) closer than {CLASH_ANGSTROM} A)",
                DynamotifWarning,
                stacklevel=3,
            )
        return result

    def _residue_key(self, k: int) -> ResidueKey:
        s = int(self._starts[k])
        return (str(self.wt.chain_id[s]), int(self.wt.res_id[s]), str(self.wt.ins_code[s]).strip().upper())

    def _relax(
        self,
        key: ResidueKey,
        result: dict[ResidueKey, struc.AtomArray],
        coord: np.ndarray,
        hidden: np.ndarray,
        frozen: frozenset[ResidueKey],
        n_clashes: int,
        min_distance: float,
    ) -> tuple[dict[ResidueKey, struc.AtomArray], int]:
        """Local restrained relaxation (:mod:`components.mutation.relax`) of a still-clashing model.

        The variant around ``key`` (WT atoms on ``coord`` minus ``hidden``, residues of ``result``
        replaced; appended environment atoms of ``coord`` as fixed points) is relaxed; moved WT
        residues join the result. Other mutated residues (``frozen``) and residues with hidden
        atoms never move. Returns the relaxed residues and the clashes left, or the input unchanged
        when the relaxation, with ideal bonds, neither removes clashes nor widens the closest one
        (``min_distance`` before).
        """
        from components.mutation.relax import relax_mutated_residue  # scipy.optimize: protein-only

        n_wt = self.wt.array_length()
        target = result[key]
        centre = target.coord[target.atom_name == "CA"][0].astype(np.float64)
        near = np.sum((coord[:n_wt] - centre) ** 2, axis=1) < _RELAX_RADIUS_ANGSTROM**2
        res_near = np.unique(np.searchsorted(self._starts, np.flatnonzero(near), side="right") - 1)
        spans = [(int(self._starts[k]), int(self._starts[k + 1])) for k in res_near]
        in_region = np.zeros(n_wt, dtype=bool)
        locked_wt = np.zeros(n_wt, dtype=bool)
        for k, (s, e) in zip(res_near, spans, strict=True):
            rk = self._residue_key(int(k))
            if rk in result:
                continue
            in_region[s:e] = True
            if rk in frozen or hidden[s:e].any():
                locked_wt[s:e] = True
        wt_idx = np.flatnonzero(in_region & ~hidden[:n_wt])
        local_wt = self.wt[wt_idx]
        local_wt.coord = coord[wt_idx].astype(np.float32)
        keys = list(result)
        atoms = struc.concatenate([local_wt, *(result[k] for k in keys)])
        sizes = [result[k].array_length() for k in keys]
        n_loc = len(wt_idx)
        owner = np.concatenate([np.full(n_loc, -1), np.repeat(np.arange(len(keys)), sizes)])
        is_target = owner == keys.index(key)
        locked = np.concatenate([locked_wt[wt_idx], np.zeros(sum(sizes), dtype=bool)])
        for j, k in enumerate(keys):
            if k != key and k in frozen:
                locked |= owner == j
        extra = coord[n_wt:][~hidden[n_wt:]]
        extra = extra[np.sum((extra - centre) ** 2, axis=1) < _RELAX_RADIUS_ANGSTROM**2]
        relaxed = relax_mutated_residue(atoms, is_target, owner >= 0, locked, extra)
        if not (
            relaxed.max_bond_deviation <= _BOND_TOLERANCE_ANGSTROM
            and (
                relaxed.ok
                or relaxed.n_clashes < n_clashes
                or (relaxed.n_clashes == n_clashes and relaxed.min_distance > min_distance)
            )
        ):
            return result, n_clashes
        out = {}
        for j, k in enumerate(keys):
            res = result[k].copy()
            res.coord = relaxed.coords[owner == j].astype(np.float32)
            out[k] = res
        moved = np.flatnonzero(relaxed.moved[:n_loc])
        touched = np.unique(np.searchsorted(self._starts, wt_idx[moved], side="right") - 1)
        for k in touched:
            s, e = int(self._starts[k]), int(self._starts[k + 1])
            res = self.wt[s:e].copy()
            new_coord = coord[s:e].copy()
            sel = (wt_idx >= s) & (wt_idx < e)
            new_coord[wt_idx[sel] - s] = relaxed.coords[:n_loc][sel]
            res.coord = new_coord.astype(np.float32)
            out[self._residue_key(int(k))] = res
        return out, relaxed.n_clashes

    def _repack(
        self, key, new, coord, hidden, frozen, placed, info
    ) -> tuple[dict[ResidueKey, struc.AtomArray], int]:
        """Clash-resolving repack of neighbouring side chains: (residues, clashes left)."""
        n_wt = self.wt.array_length()
        fixed = [*BACKBONE_ATOMS, "CB"] if "CB" in self.residue(key).atom_name else list(BACKBONE_ATOMS)
        side = ~np.isin(placed.atom_name, fixed)
        if not side.any():
            return {key: placed}, int(info["n_clashes"])
        d = np.linalg.norm(coord[:n_wt, None, :] - placed.coord[side][None].astype(np.float64), axis=-1)
        close = np.flatnonzero((d.min(axis=1) < 2.2) & ~hidden[:n_wt])
        neighbours: list[ResidueKey] = []
        for atom in close:
            if str(self.wt.atom_name[atom]) in (*BACKBONE_ATOMS, "CB"):
                continue
            nk = (
                str(self.wt.chain_id[atom]),
                int(self.wt.res_id[atom]),
                str(self.wt.ins_code[atom]).strip().upper(),
            )
            rn = str(self.wt.res_name[atom])
            if nk != key and nk not in frozen and nk not in neighbours and rn in AMINO_ACIDS_3TO1:
                neighbours.append(nk)
        if not neighbours:
            return {key: placed}, int(info["n_clashes"])
        hidden2 = hidden.copy()
        for nk in neighbours:
            s, e = self._span(nk)
            hidden2[s:e] |= ~np.isin(self.wt.atom_name[s:e], [*BACKBONE_ATOMS, "CB"])
        placed2, info2 = self._place(key, new, coord, hidden2)
        out = {key: placed2}
        extra = [placed2.coord[~np.isin(placed2.atom_name, BACKBONE_ATOMS)].astype(np.float64)]
        total = info2["n_clashes"]
        for nk in neighbours:
            rn = str(self.residue(nk).res_name[0])
            res_n, info_n = self._place(
                nk, rn, self._with_extra(coord, extra), self._hide_extra(hidden2, extra)
            )
            out[nk] = res_n
            total += info_n["n_clashes"]
            extra.append(res_n.coord[~np.isin(res_n.atom_name, BACKBONE_ATOMS)].astype(np.float64))
        return (out, int(total)) if total < info["n_clashes"] else ({key: placed}, int(info["n_clashes"]))

    def _peptide_partner(self, key, env_index, coord, anchor, name, step) -> int:
        k = self._index[key] + step
        if k < 0 or k >= len(self._starts) - 1:
            return -1
        s, e = int(self._starts[k]), int(self._starts[k + 1])
        names = self.wt.atom_name[s:e].tolist()
        if name not in names:
            return -1
        atom = s + names.index(name)
        if np.linalg.norm(coord[atom] - anchor) > 2.0:
            return -1
        pos = np.searchsorted(env_index, atom)
        return int(pos) if pos < len(env_index) and env_index[pos] == atom else -1

    # ------------------------------------------------------------------ variants
    def build(self, mutations: Sequence[Mutation]) -> struc.AtomArray:
        """The variant with ``mutations`` (chains resolved, as from :func:`validate_variants`)."""
        muts = sorted(mutations, key=Mutation.sort_key)
        keys = []
        for m in muts:
            if m.chain is None:
                raise ValueError(f"mutation {m} has no chain; resolve it with validate_variants first")
            keys.append((m.chain, m.position, m.ins_code))
        replaced: dict[ResidueKey, struc.AtomArray] = {}
        protein = []
        for key, m in zip(keys, muts, strict=True):
            kind = residue_kind(str(self.residue(key).res_name[0]))
            if kind is None:
                raise ValueError(f"residue {key} is not a standard residue")
            if kind[0] == "protein":
                protein.append((key, m))
            else:
                replaced[key] = self._nucleotide(key, m)
        if protein:
            replaced.update(self._proteins(protein))
        pieces = []
        cursor = 0
        for key in sorted(replaced, key=lambda kk: self._span(kk)[0]):
            start, stop = self._span(key)
            if start > cursor:
                pieces.append(self.wt[cursor:start])
            pieces.append(replaced[key])
            cursor = stop
        if cursor < self.wt.array_length():
            pieces.append(self.wt[cursor:])
        return struc.concatenate(pieces)

    def _proteins(self, items: list[tuple[ResidueKey, Mutation]]) -> dict[ResidueKey, struc.AtomArray]:
        cas = []
        for key, _ in items:
            res = self.residue(key)
            cas.append(res.coord[res.atom_name == "CA"][0])
        cas_arr = np.array(cas, dtype=np.float64)
        d = np.linalg.norm(cas_arr[:, None] - cas_arr[None], axis=-1)
        np.fill_diagonal(d, np.inf)
        independent = bool(np.all(d > _INDEPENDENT_CA_ANGSTROM))
        out: dict[ResidueKey, struc.AtomArray] = {}
        none_hidden = np.zeros(self.wt.array_length(), dtype=bool)
        frozen = frozenset(k for k, _ in items)
        if independent:
            merged: dict[ResidueKey, struc.AtomArray] = {}
            for key, m in items:
                cached = self._cache_protein.get((key, m.mut))
                if cached is None:
                    cached = self._protein(key, m, self._wt_coord, none_hidden, frozen=frozenset({key}))
                    self._cache_protein[(key, m.mut)] = cached
                if any(k in merged for k in cached) or any(k in frozen and k != key for k in cached):
                    break  # two mutations repacked the same neighbour: place them together below
                merged.update(cached)
            else:
                return merged
        # neighbours: place in order; not-yet-placed mutated side chains are hidden, placed ones
        # are written into a working copy of the coordinates
        coord = self._wt_coord.copy()
        hidden = none_hidden.copy()
        for key, _ in items:
            s, e = self._span(key)
            hidden[s:e] = ~np.isin(self.wt.atom_name[s:e], [*BACKBONE_ATOMS, "CB"])
        extra: list[np.ndarray] = []
        for key, m in items:
            placed = self._protein(
                key, m, self._with_extra(coord, extra), self._hide_extra(hidden, extra), frozen=frozen
            )
            for k, res in placed.items():
                out[k] = res
                if k != key:  # a repacked neighbour: its WT side chain leaves the environment
                    s, e = self._span(k)
                    hidden[s:e] |= ~np.isin(self.wt.atom_name[s:e], [*BACKBONE_ATOMS, "CB"])
                # the backbone is unchanged; the new side chain joins the environment of the next ones
                extra.append(res.coord[~np.isin(res.atom_name, BACKBONE_ATOMS)].astype(np.float64))
        return out

    @staticmethod
    def _with_extra(coord: np.ndarray, extra: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([coord, *extra], axis=0) if extra else coord

    @staticmethod
    def _hide_extra(hidden: np.ndarray, extra: list[np.ndarray]) -> np.ndarray:
        if not extra:
            return hidden
        return np.concatenate([hidden, np.zeros(sum(len(x) for x in extra), dtype=bool)])

    def name(self, mutations: Sequence[Mutation]) -> str:
        """Canonical variant name (chain ids only for multi-chain structures)."""
        return variant_name(mutations, with_chain=self._multi_chain)


def _as_valid(mutator: Mutator, variants: Iterable[Any], skip_invalid: bool) -> list[ValidVariant]:
    items = list(variants)
    if all(isinstance(v, ValidVariant) for v in items):
        return items
    texts = []
    for v in items:
        if isinstance(v, Mutation):
            texts.append(str(v))
        elif isinstance(v, tuple | list) and all(isinstance(m, Mutation) for m in v):
            texts.append(";".join(str(m) for m in v))
        else:
            texts.append(v)
    good, rejected = mutator.validate(texts)
    if rejected and not skip_invalid:
        raise InputError(format_rejections(rejected))
    return good


def mutate(structure: struc.AtomArray, mutations: str | Mutation | Sequence[Mutation]) -> struc.AtomArray:
    """One variant of ``structure``.

    Parameters
    ----------
    structure
        Wild-type ``AtomArray`` (heavy atoms are kept; hydrogens are dropped).
    mutations
        A variant string (``"A12C;C74A"``), one :class:`Mutation` or a sequence of them.

    Raises
    ------
    InputError
        If the variant is malformed or does not fit the structure (WT letter, position...).
    """
    mutator = Mutator(structure)
    (valid,) = _as_valid(mutator, [mutations], skip_invalid=False)
    return mutator.build(valid.mutations)


def mutate_many(
    wt: struc.AtomArray | Mutator, variants: Iterable[Any], *, skip_invalid: bool = False
) -> Iterator[tuple[str, struc.AtomArray]]:
    """Yield ``(name, AtomArray)`` for every variant, reusing per-residue work.

    All variants are validated first; with ``skip_invalid=False`` any bad row raises one
    :class:`InputError` listing every bad row, before anything is yielded. ``name`` is the
    DynaSig-ML name (``A12C_C74A``, ``WT`` for an empty variant).
    """
    mutator = wt if isinstance(wt, Mutator) else Mutator(wt)
    good = _as_valid(mutator, variants, skip_invalid)
    for v in good:
        yield v.name, mutator.build(v.mutations)
