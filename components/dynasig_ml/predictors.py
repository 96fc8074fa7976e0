"""ENCoM-derived predictors of variant effects, including position-invariant ones for unseen residues.

DynaSig-ML (Mailhot et al., Bioinformatics 2023) regresses on the per-bead Entropic Signatures of each
variant: one column per bead, so a model learns "what happens at bead 12" and cannot transfer to a
residue never mutated in training. This module adds the predictors ENCoM's stability work rests on
(Frappier & Najmanovich, PLoS Comput Biol 2014; Protein Sci 2015: the vibrational-entropy difference
between mutant and wild type) and features that describe the mutated site rather than name it.

Predictor blocks (combine them with ``+``, e.g. ``local+features``):

``signatures``
    The per-bead Entropic Signatures at β (DynaSig-ML's predictors; bead labels as column names).
``delta``
    Per-bead signature differences from the WT, ``S_i(mutant) - S_i(WT)`` (column ``d:<label>``).
``svib``
    ``dsvib``: ΔS_vib = S_vib(mutant) - S_vib(WT) at β, ENCoM's vibrational entropy (the sum over the
    non-trivial modes of the quantum-oscillator entropy s(β ν_k), in k_B; it equals the sum of the
    Entropic Signature over beads / 1000). **Sign convention**: positive = the mutant vibrates more
    than the WT (NRGTEN's documentation computes the opposite difference, WT - mutant, and reads a
    negative value as "mutant more flexible"). Thermodynamically a higher folded-state entropy lowers
    the folded free energy; which way it relates to measured ΔΔG is left to the data (on GB1 the
    mutants that gain vibrational entropy are the destabilised ones: see ``benchmarks/README.md``).
``dynamics`` (β-dependent, position-invariant)
    ``dsig_site``: mean Δsignature over the beads of the mutated residue(s);
    ``dsig_seq1`` / ``dsig_seq3``: mean Δsignature over beads of the residues within 1 / 3 positions
    in sequence (same chain, the site itself excluded);
    ``dsig_sp8`` / ``dsig_sp12``: mean Δsignature over beads of the residues whose centroid lies
    within 8 / 12 Å of the site's centroid (the site excluded);
    ``dsig_far``: ΔS_vib·1000 minus the summed Δsignature of the site and its 12 Å neighbourhood
    (the long-range part of the entropy change);
    ``dsig_abs``: Σ_i |ΔS_i| / 1000, the total perturbation of the signature;
    ``wt_sig_site``: the WT signature at the site divided by the WT's mean bead signature (the
    residue's own flexibility, > 1 = more mobile than average);
    ``dsig_site_rel``: ``dsig_site`` divided by the WT signature at the site.
``structure`` (β-independent, from the WT structure)
    ``contacts_8``: residues whose heavy-atom centroid lies within 8 Å of the site's centroid;
    ``heavy_10``: heavy atoms within 10 Å of the site's side-chain centroid (glycine: its CA), a
    burial measure; ``rsasa``: relative solvent accessibility
    of the site (Shrake-Rupley SASA / the residue type's maximum in a Gly-X-Gly peptide, Tien et al.
    2013; nucleotides: / the largest nucleotide SASA of the structure); ``helix``, ``strand``: P-SEA
    secondary structure of the site (proteins); ``terminus``: sequence distance to the nearest chain
    end, capped at 10.
``aa`` (the change itself)
    ``hydro_wt``, ``hydro_mut``, ``d_hydro`` (Kyte-Doolittle), ``vol_wt``, ``vol_mut``, ``d_volume``
    (residue volumes, Å³, Zamyatnin 1972), ``charge_wt``, ``charge_mut``, ``blosum62`` (substitution
    score), ``to_pro``, ``to_gly``, ``from_pro``, ``from_gly``, then one-hot ``wt:X`` / ``mut:X``
    over the alphabet of the structure (20 amino acids or ACGU/ACGT); ``n_mutations``.
``features``
    Extra columns of the variants table (e.g. ``mcfold_energy`` or a Rosetta ΔΔG).

Aliases: ``both`` = ``features+signatures`` (DynaSig-ML's default), ``local`` =
``svib+dynamics+structure+aa`` (every position-invariant block), ``local-encom`` = ``svib+dynamics``.
For multi-mutants every per-site column is the mean over the mutated sites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from components.common.errors import InputError
from components.mutation.variants import WT, mutation_positions

__all__ = [
    "BLOCKS",
    "ALIASES",
    "BETA_BLOCKS",
    "parse_predictors",
    "needs_wt",
    "ResidueContext",
    "residue_context",
    "DerivedPredictors",
    "derive_predictors",
    "structure_columns",
    "aa_columns",
]

BLOCKS = ("features", "signatures", "delta", "svib", "dynamics", "structure", "aa")
BETA_BLOCKS = frozenset({"signatures", "delta", "svib", "dynamics"})
ALIASES = {
    "both": ("features", "signatures"),
    "local": ("svib", "dynamics", "structure", "aa"),
    "local-encom": ("svib", "dynamics"),
}
_DERIVED = frozenset({"delta", "svib", "dynamics", "structure", "aa"})


def parse_predictors(spec: str) -> tuple[str, ...]:
    """Blocks of a predictor-set spec (``"local+features"`` -> ("svib", ..., "features")), in
    :data:`BLOCKS` order without repeats.

    Raises
    ------
    InputError
        An empty spec or an unknown block name.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"bad predictor set {spec!r}")
    names: set[str] = set()
    for part in spec.strip().lower().split("+"):
        part = part.strip()
        if part in ALIASES:
            names.update(ALIASES[part])
        elif part in BLOCKS:
            names.add(part)
        else:
            raise InputError(
                f"unknown predictor block {part!r} in {spec!r}: use {', '.join(BLOCKS)} "
                f"or {', '.join(ALIASES)}, joined with '+'"
            )
    return tuple(b for b in BLOCKS if b in names)


def needs_wt(spec: str) -> bool:
    """Whether the predictor set needs the WT signature and structure (any derived block)."""
    return bool(_DERIVED & set(parse_predictors(spec)))


# ------------------------------------------------------------------------------------ residue tables
_KD = dict(zip("ARNDCQEGHILKMFPSTWYV", (1.8, -4.5, -3.5, -3.5, 2.5, -3.5, -3.5, -0.4, -3.2, 4.5, 3.8, -3.9, 1.9, 2.8, -1.6, -0.8, -0.7, -0.9, -1.3, 4.2), strict=True))  # fmt: skip
_VOLUME = dict(zip("ARNDCQEGHILKMFPSTWYV", (88.6, 173.4, 114.1, 111.1, 108.5, 143.8, 138.4, 60.1, 153.2, 166.7, 166.7, 168.6, 162.9, 189.9, 112.7, 89.0, 116.1, 227.8, 193.6, 140.0), strict=True))  # fmt: skip
_CHARGE = {"D": -1.0, "E": -1.0, "K": 1.0, "R": 1.0, "H": 0.1}
#: maximum SASA (Å², theoretical, Gly-X-Gly) of Tien et al., PLoS One 2013
_MAX_ASA = dict(zip("ARNDCQEGHILKMFPSTWYV", (129, 274, 195, 193, 167, 225, 223, 104, 224, 197, 201, 236, 224, 240, 159, 155, 172, 285, 263, 174), strict=True))  # fmt: skip
_AMINO = "ACDEFGHIKLMNPQRSTVWY"


@dataclass(frozen=True)
class ResidueContext:
    """Per-residue description of the WT structure and its signature, aligned with the bead labels.

    Attributes
    ----------
    keys : list of (chain, res_id)
        One entry per residue, in structure order.
    letters : str
        One-letter code per residue (``X`` when unknown).
    centroid : ndarray, (n_res, 3)
        Heavy-atom centroid per residue.
    structure : ndarray, (n_res, k)
        :func:`structure_columns` per residue.
    structure_names : list of str
    bead_residue : ndarray, (N,)
        Residue index of every bead label.
    labels : list of str, (N,)
        Bead labels (DynaSig-ML style ``CA|12|A|12``).
    betas : ndarray, (n_beta,)
    wt_signature : ndarray, (n_beta, N)
        The WT Entropic Signature.
    alphabet : str
        Letters of the one-hot ``aa`` columns.
    """

    keys: list[tuple[str, int]]
    letters: str
    centroid: np.ndarray
    structure: np.ndarray
    structure_names: list[str]
    bead_residue: np.ndarray
    labels: list[str]
    betas: np.ndarray
    wt_signature: np.ndarray
    alphabet: str

    def sites(self, key: str) -> np.ndarray:
        """Residue indices mutated by the canonical variant ``key`` (empty for ``WT``)."""
        if key == WT:
            return np.zeros(0, dtype=np.int64)
        out = []
        for tok, pos in zip(key.split(";"), mutation_positions(key), strict=True):
            chain = tok.rpartition(":")[0]
            hits = [i for i, (c, r) in enumerate(self.keys) if r == pos and (not chain or c == chain)]
            if not hits:
                raise InputError(f"variant {key!r}: residue {tok[:-1]} is not in the WT structure")
            out.append(hits[0])
        return np.array(out, dtype=np.int64)


def _residue_letter(res_name: str) -> str:
    from components.mutation.variants import AMINO_ACIDS_3TO1

    name = res_name.strip().upper()
    if name in AMINO_ACIDS_3TO1:
        return AMINO_ACIDS_3TO1[name]
    base = name.lstrip("D") or name
    return base if base in ("A", "C", "G", "U", "T", "I") and len(base) == 1 else "X"


def _is_amino_acid(res_name: str) -> bool:
    """Whether a residue name is an amino acid's (nucleotides ``A``, ``C``, ``G`` share its letters)."""
    from components.mutation.variants import residue_kind

    kind = residue_kind(res_name)
    return kind is not None and kind[0] == "protein"


def structure_columns(atoms: object) -> tuple[list[str], np.ndarray, list[tuple[str, int]], str, np.ndarray]:
    """Per-residue burial, contacts, accessibility, secondary structure and terminus distance.

    Parameters
    ----------
    atoms
        WT biotite ``AtomArray`` (hydrogens are ignored).

    Returns
    -------
    names : list of str
    values : ndarray, (n_res, len(names))
    keys : list of (chain, res_id)
    letters : str
    centroid : ndarray, (n_res, 3)
    """
    import biotite.structure as struc

    if not isinstance(atoms, struc.AtomArray):
        raise TypeError(f"atoms must be a biotite AtomArray, got {type(atoms).__name__}")
    heavy = atoms[np.char.upper(atoms.element.astype(str)) != "H"]
    starts = struc.get_residue_starts(heavy, add_exclusive_stop=True)
    n_res = len(starts) - 1
    coord = heavy.coord.astype(np.float64)
    keys = [(str(heavy.chain_id[s]), int(heavy.res_id[s])) for s in starts[:-1]]
    letters = "".join(_residue_letter(str(heavy.res_name[s])) for s in starts[:-1])
    amino = [_is_amino_acid(str(heavy.res_name[s])) for s in starts[:-1]]
    centroid = np.array([coord[s:e].mean(axis=0) for s, e in zip(starts[:-1], starts[1:], strict=True)])
    # side-chain centroid (CA for glycine / nucleotides without side chain atoms)
    sc_centre = np.empty((n_res, 3))
    for k, (s, e) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        names = heavy.atom_name[s:e]
        side = ~np.isin(names, ["N", "CA", "C", "O", "OXT"])
        if amino[k] and side.any():
            sc_centre[k] = coord[s:e][side].mean(axis=0)
        elif amino[k] and (names == "CA").any():
            sc_centre[k] = coord[s:e][names == "CA"][0]
        else:
            sc_centre[k] = centroid[k]
    d_res = np.linalg.norm(centroid[:, None] - centroid[None], axis=-1)
    contacts = (d_res < 8.0).sum(axis=1) - 1
    d_atoms = np.linalg.norm(sc_centre[:, None] - coord[None], axis=-1)
    heavy10 = (d_atoms < 10.0).sum(axis=1).astype(float)
    with np.errstate(all="ignore"):
        atom_sasa = struc.sasa(heavy, vdw_radii="ProtOr")
    atom_sasa = np.nan_to_num(atom_sasa)
    res_sasa = np.add.reduceat(atom_sasa, starts[:-1])
    nuc_max = max((res_sasa[k] for k in range(n_res) if not amino[k]), default=1.0) or 1.0
    rsasa = np.array(
        [res_sasa[k] / (_MAX_ASA.get(letters[k], nuc_max) if amino[k] else nuc_max) for k in range(n_res)]
    )
    helix = np.zeros(n_res)
    strand = np.zeros(n_res)
    if any(amino):
        try:
            sse = struc.annotate_sse(heavy)
        except Exception:  # noqa: BLE001 - P-SEA needs CA traces; nucleic chains have none
            sse = np.array([""] * n_res)
        if len(sse) == n_res:
            helix = (sse == "a").astype(float)
            strand = (sse == "b").astype(float)
    chains = np.array([c for c, _ in keys])
    terminus = np.zeros(n_res)
    for c in set(chains.tolist()):
        idx = np.flatnonzero(chains == c)
        order = np.arange(len(idx))
        terminus[idx] = np.minimum(np.minimum(order, len(idx) - 1 - order), 10)
    names = ["contacts_8", "heavy_10", "rsasa", "helix", "strand", "terminus"]
    values = np.column_stack([contacts, heavy10, rsasa, helix, strand, terminus]).astype(float)
    return names, values, keys, letters, centroid


def residue_context(
    atoms: object, wt_signature: np.ndarray, labels: Sequence[str], betas: Sequence[float] | np.ndarray
) -> ResidueContext:
    """Build the :class:`ResidueContext` of a WT structure and its signature.

    Parameters
    ----------
    atoms
        WT ``AtomArray``.
    wt_signature
        ``(n_beta, N)`` WT Entropic Signature, beads in ``labels`` order.
    labels
        Bead labels (``NAME|res_id|chain|index``).
    betas
        ``(n_beta,)``.

    Raises
    ------
    InputError
        A bead label that names no residue of the structure, or a signature of the wrong shape.
    """
    names, values, keys, letters, centroid = structure_columns(atoms)
    wt_signature = np.atleast_2d(np.asarray(wt_signature, dtype=np.float64))
    betas_arr = np.asarray(betas, dtype=np.float64)
    if wt_signature.shape != (len(betas_arr), len(labels)):
        raise InputError(
            f"WT signature has shape {wt_signature.shape}, expected ({len(betas_arr)}, {len(labels)})"
        )
    index = {k: i for i, k in enumerate(keys)}
    bead_residue = np.empty(len(labels), dtype=np.int64)
    for b, lab in enumerate(labels):
        parts = str(lab).split("|")
        try:
            key = (parts[2], int(parts[1]))
        except (IndexError, ValueError):
            raise InputError(f"bead label {lab!r} is not NAME|RES_ID|CHAIN|INDEX") from None
        if key not in index:
            raise InputError(f"bead {lab!r} names a residue that is not in the WT structure")
        bead_residue[b] = index[key]
    import biotite.structure as struc

    res_names = struc.get_residues(atoms)[1]
    amino = 2 * sum(_is_amino_acid(str(n)) for n in res_names) >= len(res_names)
    alphabet = _AMINO if amino else "".join(sorted({c for c in letters if c != "X"}))
    if not amino and "U" in alphabet and "T" not in alphabet:
        alphabet = "ACGU"
    elif not amino:
        alphabet = "ACGT"
    return ResidueContext(
        keys=keys,
        letters=letters,
        centroid=centroid,
        structure=values,
        structure_names=names,
        bead_residue=bead_residue,
        labels=list(labels),
        betas=betas_arr,
        wt_signature=wt_signature,
        alphabet=alphabet,
    )


def _blosum() -> object:
    from biotite.sequence.align import SubstitutionMatrix

    return SubstitutionMatrix.std_protein_matrix()


def aa_columns(keys: Sequence[str], alphabet: str) -> tuple[list[str], np.ndarray]:
    """The ``aa`` block (see module doc) for canonical variant keys; mean over the mutations."""
    protein = alphabet == _AMINO
    names = (
        ["hydro_wt", "hydro_mut", "d_hydro", "vol_wt", "vol_mut", "d_volume", "charge_wt", "charge_mut"]
        + ["blosum62", "to_pro", "to_gly", "from_pro", "from_gly"]
        if protein
        else ["purine_wt", "purine_mut", "transition"]
    )
    names = names + [f"wt:{c}" for c in alphabet] + [f"mut:{c}" for c in alphabet] + ["n_mutations"]
    out = np.zeros((len(keys), len(names)))
    matrix = _blosum() if protein else None
    for r, key in enumerate(keys):
        if key == WT:
            continue
        toks = [t.rpartition(":")[2] for t in key.split(";")]
        rows = []
        for tok in toks:
            w, m = tok[0].upper(), tok[-1].upper()
            if protein:
                if w not in _KD or m not in _KD:
                    raise InputError(f"variant {key!r}: {tok} is not an amino-acid substitution")
                sub = matrix.get_score(w, m)  # type: ignore[attr-defined]
                phys = [_KD[w], _KD[m], _KD[m] - _KD[w], _VOLUME[w], _VOLUME[m], _VOLUME[m] - _VOLUME[w]]
                phys += [_CHARGE.get(w, 0.0), _CHARGE.get(m, 0.0), float(sub)]
                phys += [float(m == "P"), float(m == "G"), float(w == "P"), float(w == "G")]
            else:
                pw, pm = float(w in "AG"), float(m in "AG")
                phys = [pw, pm, float(pw == pm)]
            onehot = [float(w == c) for c in alphabet] + [float(m == c) for c in alphabet]
            rows.append(phys + onehot)
        out[r, :-1] = np.mean(rows, axis=0)
        out[r, -1] = len(toks)
    return names, out


_DYN_NAMES = [
    "dsig_site",
    "dsig_seq1",
    "dsig_seq3",
    "dsig_sp8",
    "dsig_sp12",
    "dsig_far",
    "dsig_abs",
    "wt_sig_site",
    "dsig_site_rel",
]


@dataclass(frozen=True)
class DerivedPredictors:
    """Derived blocks of one dataset, rows in the dataset's order.

    Attributes
    ----------
    betas : ndarray, (n_beta,)
    blocks : dict
        Block name -> (column names, values); values ``(n_beta, n, k)`` for β-dependent blocks and
        ``(n, k)`` otherwise.
    """

    betas: np.ndarray
    blocks: dict[str, tuple[list[str], np.ndarray]]

    def block(self, name: str, beta_index: int | None, rows: np.ndarray) -> np.ndarray:
        cols, values = self.blocks[name]
        if values.ndim == 3:
            if beta_index is None:
                raise InputError(f"predictor block {name!r} needs a beta")
            return values[beta_index, rows]
        return values[rows]

    def names(self, name: str) -> list[str]:
        return list(self.blocks[name][0])


def derive_predictors(
    keys: Sequence[str], signatures: np.ndarray, context: ResidueContext
) -> DerivedPredictors:
    """Compute the derived blocks (``delta``, ``svib``, ``dynamics``, ``structure``, ``aa``).

    Parameters
    ----------
    keys
        Canonical variant keys, ``(n,)``.
    signatures
        ``(n_beta, n, N)`` Entropic Signatures of the variants, beads as ``context.labels`` and β as
        ``context.betas``.
    context
        From :func:`residue_context`.

    Raises
    ------
    InputError
        Shape mismatch, or a variant whose residue is not in the structure.
    """
    sig = np.asarray(signatures, dtype=np.float64)
    n_beta, n_bead = context.wt_signature.shape
    if sig.shape != (n_beta, len(keys), n_bead):
        raise InputError(
            f"signatures have shape {sig.shape}, expected ({n_beta}, {len(keys)}, {n_bead}) "
            "(betas, variants, beads of the WT)"
        )
    delta = sig - context.wt_signature[:, None, :]
    dsvib = delta.sum(axis=2) / 1000.0  # (n_beta, n)
    n_res = len(context.keys)
    res_of = context.bead_residue
    chains = np.array([c for c, _ in context.keys])
    order = np.zeros(n_res, dtype=np.int64)  # sequence index within the chain
    for c in set(chains.tolist()):
        idx = np.flatnonzero(chains == c)
        order[idx] = np.arange(len(idx))
    d_cent = np.linalg.norm(context.centroid[:, None] - context.centroid[None], axis=-1)
    wt_mean = context.wt_signature.mean(axis=1)  # (n_beta,)
    dyn = np.zeros((n_beta, len(keys), len(_DYN_NAMES)))
    struct = np.zeros((len(keys), context.structure.shape[1]))
    for r, key in enumerate(keys):
        sites = context.sites(key)
        if sites.size == 0:
            continue
        rows_dyn = []
        for s in sites:
            same = chains == chains[s]
            seq = np.abs(order - order[s])
            groups = {
                "site": np.array([s]),
                "seq1": np.flatnonzero(same & (seq >= 1) & (seq <= 1)),
                "seq3": np.flatnonzero(same & (seq >= 1) & (seq <= 3)),
                "sp8": np.flatnonzero((d_cent[s] < 8.0) & (np.arange(n_res) != s)),
                "sp12": np.flatnonzero((d_cent[s] < 12.0) & (np.arange(n_res) != s)),
            }
            mean = {}
            for g, res_idx in groups.items():
                beads = np.isin(res_of, res_idx)
                mean[g] = delta[:, r, beads].mean(axis=1) if beads.any() else np.zeros(n_beta)
            near = np.isin(res_of, np.append(groups["sp12"], s))
            far = delta[:, r].sum(axis=1) - delta[:, r, near].sum(axis=1)
            site_beads = res_of == s
            wt_site = context.wt_signature[:, site_beads].mean(axis=1)
            cols = [mean["site"], mean["seq1"], mean["seq3"], mean["sp8"], mean["sp12"], far]
            cols += [np.abs(delta[:, r]).sum(axis=1) / 1000.0, wt_site / wt_mean]
            cols += [mean["site"] / np.where(wt_site == 0, 1.0, wt_site)]
            rows_dyn.append(np.stack(cols, axis=1))
        dyn[:, r] = np.mean(rows_dyn, axis=0)
        struct[r] = context.structure[sites].mean(axis=0)
    aa_names, aa = aa_columns(keys, context.alphabet)
    blocks = {
        "delta": ([f"d:{lab}" for lab in context.labels], delta),
        "svib": (["dsvib"], dsvib[:, :, None]),
        "dynamics": (list(_DYN_NAMES), dyn),
        "structure": (list(context.structure_names), struct),
        "aa": (aa_names, aa),
    }
    return DerivedPredictors(betas=context.betas.copy(), blocks=blocks)
