"""Variant grammar: parse ``A12C;C74A``-style strings and check them against a structure.

This module is deliberately light (standard library + duck-typed numpy arrays): the DynaSig flow
and the predict path import it to validate variant tables without loading any structure code.

Grammar
-------
A *variant* is one or more point mutations separated by ``;`` or ``_`` (spaces around them are
ignored)::

    variant   := "" | "WT" | mutation ((";" | "_" | "," | "+") mutation)*
    mutation  := [chain (":" | "-")] WT position [icode] MUT
    chain     := 1-4 letters/digits (the PDB/mmCIF chain id)
    position  := integer residue number as in the structure (1-based, may be negative)
    icode     := one lower-case letter = the PDB insertion code (``K45aR`` = residue 45A)
    WT, MUT   := one upper-case letter: nucleotides A C G U (RNA) / A C G T (DNA),
                 amino acids in the 20-letter code

Examples: ``A12C``, ``A12C;C74A``, ``A12C_C74A``, ``A12C,C74A``, ``K45R``, ``A:K45R``, ``A-K45R``,
``B:K45aR``. An empty string or ``WT`` (any case) is the wild type (no mutation). Residue letters
are upper case: a lower-case letter after the position is an insertion code, so ``a12c`` is refused.

This is the project's one variant grammar. Two spellings come out of it:

* the **canonical key** (:func:`canonical_variant`): mutations joined with ``;`` in increasing
  (chain, position, insertion code) order, chains as ``A:K45R``, ``WT`` for the wild type. Tables,
  signature sets, splits and served models key variants by it; it also reads structure-file names
  such as ``mir125a_A12C_C74A.pdb`` (a leading name and the file extension are dropped);
* the **file name** (:func:`variant_name`, DynaSig-ML style): the same mutations joined with ``_``,
  chains as ``A-K45R`` (no ``:`` in file names); :func:`canonical_variant` reads it back.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "WT",
    "canonical_variant",
    "mutation_positions",
    "n_mutations",
    "Mutation",
    "RejectedVariant",
    "ValidVariant",
    "parse_variant",
    "parse_mutation",
    "variant_name",
    "validate_variants",
    "residue_kind",
    "NUCLEOTIDE_TARGETS",
    "AMINO_ACIDS_1TO3",
    "AMINO_ACIDS_3TO1",
]

AMINO_ACIDS_3TO1: dict[str, str] = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V",
}  # fmt: skip
AMINO_ACIDS_1TO3: dict[str, str] = {v: k for k, v in AMINO_ACIDS_3TO1.items()}
#: residue names accepted as wild type although they are not one of the 20 (letter they count as)
_PROTEIN_ALIASES = {"MSE": "M", "HID": "H", "HIE": "H", "HIP": "H", "HSD": "H", "HSE": "H", "CYX": "C"}
_RNA_NAMES = {"A": "A", "C": "C", "G": "G", "U": "U"}
_DNA_NAMES = {"DA": "A", "DC": "C", "DG": "G", "DT": "T"}
#: target letter -> residue name written, per nucleic-acid kind
NUCLEOTIDE_TARGETS: dict[str, dict[str, str]] = {
    "rna": {"A": "A", "C": "C", "G": "G", "U": "U"},
    "dna": {"A": "DA", "C": "DC", "G": "DG", "T": "DT"},
}

WT = "WT"
_SEPARATORS = re.compile(r"\s*[;_,+]\s*")
_MUTATION = re.compile(
    r"^(?:(?P<chain>[A-Za-z0-9]{1,4})[:-])?(?P<wt>[A-Z])(?P<pos>-?\d+)(?P<icode>[a-z]?)(?P<mut>[A-Z])$"
)
_FILE_SUFFIX = re.compile(r"\.(pdb|cif|mmcif|ent)(\.gz)?$", re.IGNORECASE)
_SYNTAX_HINT = "expected e.g. A12C, K45R, A:K45R or K45aR (insertion code a)"


@dataclass(frozen=True, order=True)
class Mutation:
    """One point mutation.

    Attributes
    ----------
    chain
        Chain id, or ``None`` when the variant did not name one (resolved against the structure).
    position
        Residue number as written in the structure (1-based numbering of the file).
    ins_code
        PDB insertion code (upper-case, ``""`` for none).
    wt, mut
        One-letter codes of the wild-type and the new residue.
    """

    chain: str | None
    position: int
    ins_code: str
    wt: str
    mut: str

    def __str__(self) -> str:
        prefix = f"{self.chain}:" if self.chain else ""
        return f"{prefix}{self.wt}{self.position}{self.ins_code.lower()}{self.mut}"

    def token(self, with_chain: bool | None = None) -> str:
        """File-name form: ``A12C``, or ``A-K45R`` with the chain (no ``:`` in file names).

        ``with_chain=None`` writes the chain when the mutation has one.
        """
        show = self.chain is not None if with_chain is None else (with_chain and self.chain is not None)
        prefix = f"{self.chain}-" if show else ""
        return f"{prefix}{self.wt}{self.position}{self.ins_code.lower()}{self.mut}"

    def sort_key(self) -> tuple[str, int, str]:
        return (self.chain or "", self.position, self.ins_code)


@dataclass(frozen=True)
class RejectedVariant:
    """A variant-table row that cannot be built: 1-based data-row number, the text, why."""

    row: int
    variant: str
    reason: str


@dataclass(frozen=True)
class ValidVariant:
    """A checked variant: its row, the text, the canonical name and the resolved mutations.

    ``mutations`` have their chain filled in and are sorted by (chain, position, insertion code).
    """

    row: int
    variant: str
    name: str
    mutations: tuple[Mutation, ...]


def parse_mutation(text: str) -> Mutation:
    """Parse one mutation such as ``A12C``, ``A:K45R`` or ``K45aR``.

    Raises
    ------
    ValueError
        If ``text`` does not follow the grammar (see the module docstring).
    """
    if not isinstance(text, str):
        raise TypeError(f"mutation must be a str, got {type(text).__name__}")
    m = _MUTATION.match(text.strip())
    if m is None:
        raise ValueError(f"malformed mutation {text.strip()!r}: {_SYNTAX_HINT}")
    return Mutation(
        chain=m["chain"] or None,
        position=int(m["pos"]),
        ins_code=m["icode"].upper(),
        wt=m["wt"],
        mut=m["mut"],
    )


def parse_variant(text: str | None) -> tuple[Mutation, ...]:
    """Parse a variant string into its mutations, in the order written.

    ``""``, ``None``, NaN and ``"WT"`` give ``()`` (the wild type).

    Raises
    ------
    ValueError
        On a malformed mutation, an empty element (``A12C;;C74A``), a mutation to the same letter,
        or two mutations at the same residue.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ()
    if not isinstance(text, str):
        raise TypeError(f"variant must be a str, got {type(text).__name__}")
    stripped = text.strip()
    if stripped == "" or stripped.upper() == "WT":
        return ()
    parts = _SEPARATORS.split(stripped)
    if any(p == "" for p in parts):
        raise ValueError(f"malformed variant {stripped!r}: empty mutation between separators")
    muts = tuple(parse_mutation(p) for p in parts)
    for mu in muts:
        if mu.wt == mu.mut:
            raise ValueError(f"{mu} does not change the residue (wild type and target are both {mu.wt})")
    seen: dict[tuple[str | None, int, str], Mutation] = {}
    for mu in muts:
        key = (mu.chain, mu.position, mu.ins_code)
        if key in seen:
            raise ValueError(f"two mutations at one residue: {seen[key]} and {mu}")
        seen[key] = mu
    return muts


def canonical_variant(variant: object, *, record: str | None = None) -> str:
    """The canonical key of ``variant`` (``"WT"`` for the wild type), see the module docstring.

    Also reads structure-file names: the extension (``.pdb``, ``.cif``...) and, in ``_``-joined
    names, leading tokens that are not mutations (``mir125a_A12C_C74A.pdb`` -> ``A12C;C74A``).

    Raises
    ------
    InputError
        If ``variant`` is not a string or does not follow the grammar (``record`` names the row).
    """
    from components.common.errors import InputError

    if not isinstance(variant, str):
        raise InputError(f"variant must be a string such as 'A12C;C74A', got {variant!r}", record=record)
    text = _FILE_SUFFIX.sub("", variant.strip())
    if not re.search(r"[;,+]", text):  # a file id such as mir125a_A12C_C74A: drop the leading name
        tokens = text.split("_")
        while len(tokens) > 1 and tokens[0].upper() != WT and not _MUTATION.match(tokens[0].strip()):
            tokens.pop(0)
        text = "_".join(tokens)
    try:
        muts = parse_variant(text)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc), record=record) from None
    return ";".join(str(m) for m in sorted(muts, key=Mutation.sort_key)) or WT


def mutation_positions(key: str) -> list[int]:
    """Residue numbers mutated by a variant (any spelling; empty for the wild type)."""
    return [m.position for m in parse_variant(key)]


def n_mutations(key: str) -> int:
    """Number of point mutations of a variant (any spelling; 0 for the wild type)."""
    return len(parse_variant(key))


def variant_name(mutations: Iterable[Mutation], *, with_chain: bool | None = None) -> str:
    """Canonical DynaSig-ML name: tokens joined by ``_`` in increasing position order; ``WT`` if none.

    ``with_chain``: write chain ids (``A-K45R``); ``None`` = where the mutations carry one.
    :func:`validate_variants` writes them only for structures with more than one chain, so a
    single-chain RNA gives ``A12C_C74A`` as in DynaSig-ML.
    """
    muts = sorted(mutations, key=Mutation.sort_key)
    return "_".join(m.token(with_chain) for m in muts) if muts else "WT"


def residue_kind(res_name: str) -> tuple[str, str] | None:
    """``(kind, one_letter)`` of a residue name: kind is ``"rna"``, ``"dna"`` or ``"protein"``.

    ``None`` for anything else (ligands, water, modified residues).
    """
    name = res_name.strip().upper()
    if name in _RNA_NAMES:
        return "rna", _RNA_NAMES[name]
    if name in _DNA_NAMES:
        return "dna", _DNA_NAMES[name]
    if name in AMINO_ACIDS_3TO1:
        return "protein", AMINO_ACIDS_3TO1[name]
    if name in _PROTEIN_ALIASES:
        return "protein", _PROTEIN_ALIASES[name]
    return None


#: atoms a residue must have to be mutated (anchors of the new base / side chain)
_REQUIRED_ATOMS = {
    "protein": ("N", "CA", "C"),
    "purine": ("C1'", "N9", "C4", "C8"),
    "pyrimidine": ("C1'", "N1", "C2", "C6"),
}


def _residue_table(structure: Any) -> dict[tuple[str, int, str], tuple[str, frozenset[str]]]:
    """(chain, res_id, ins_code) -> (res_name, atom names) from AtomArray-like annotations."""
    chains = list(structure.chain_id)
    res_ids = [int(r) for r in structure.res_id]
    icodes = list(structure.ins_code) if hasattr(structure, "ins_code") else [""] * len(res_ids)
    names = list(structure.res_name)
    atoms = list(structure.atom_name)
    table: dict[tuple[str, int, str], tuple[str, set[str]]] = {}
    for ch, rid, ic, rn, an in zip(chains, res_ids, icodes, names, atoms, strict=True):
        key = (str(ch), rid, str(ic).strip().upper())
        entry = table.get(key)
        if entry is None:
            table[key] = (str(rn), {str(an)})
        else:
            entry[1].add(str(an))
    return {k: (v[0], frozenset(v[1])) for k, v in table.items()}


def _describe(chain: str, position: int, ins_code: str) -> str:
    return f"residue {position}{ins_code} of chain {chain}"


def _resolve(mu: Mutation, table: dict, by_number: dict) -> tuple[Mutation, str | None]:
    """Fill in the chain and check one mutation; returns (resolved, reason or None)."""
    if mu.chain is None:
        chains = by_number.get((mu.position, mu.ins_code), [])
        if not chains:
            return mu, f"residue {mu.position}{mu.ins_code} ({mu}) is not in the structure"
        if len(chains) > 1:
            return mu, (
                f"residue {mu.position}{mu.ins_code} exists in chains {', '.join(chains)}; "
                f"qualify it, e.g. {chains[0]}:{mu}"
            )
        mu = Mutation(chains[0], mu.position, mu.ins_code, mu.wt, mu.mut)
    assert mu.chain is not None
    key = (mu.chain, mu.position, mu.ins_code)
    if key not in table:
        known = sorted({k[0] for k in table})
        if mu.chain not in known:
            return mu, f"chain {mu.chain!r} ({mu}) is not in the structure (chains: {', '.join(known)})"
        return mu, f"{_describe(*key)} ({mu}) is not in the structure"
    res_name, atoms = table[key]
    kind = residue_kind(res_name)
    if kind is None:
        return mu, f"{_describe(*key)} is {res_name!r}, not a standard nucleotide or amino acid ({mu})"
    kind_name, letter = kind
    if letter != mu.wt:
        shown = letter if res_name == letter else f"{letter} ({res_name})"
        return mu, f"wild-type letter {mu.wt} does not match {_describe(*key)}, which is {shown} ({mu})"
    if kind_name == "protein":
        allowed = "".join(sorted(AMINO_ACIDS_1TO3))
        required = _REQUIRED_ATOMS["protein"]
    else:
        allowed = "".join(NUCLEOTIDE_TARGETS[kind_name])
        required = _REQUIRED_ATOMS["purine" if letter in "AG" else "pyrimidine"]
    if mu.mut not in allowed:
        return mu, (
            f"unknown target residue {mu.mut!r} for {kind_name.upper() if kind_name != 'protein' else 'a protein'} "
            f"{_describe(*key)}; expected one of {', '.join(allowed)} ({mu})"
        )
    missing = [a for a in required if a not in atoms]
    if missing:
        return mu, f"{_describe(*key)} lacks atom(s) {', '.join(missing)} needed to mutate it ({mu})"
    return mu, None


def validate_variants(
    structure: Any, variants: Sequence[str | None] | Iterable[str | None]
) -> tuple[list[ValidVariant], list[RejectedVariant]]:
    """Check every variant against ``structure`` and collect ALL problems.

    Parameters
    ----------
    structure
        A ``biotite.structure.AtomArray`` (or anything with ``chain_id``, ``res_id``, ``ins_code``,
        ``res_name`` and ``atom_name`` arrays).
    variants
        Variant strings, one per table row (row numbers in the result are 1-based data rows).

    Returns
    -------
    good, rejected
        ``good``: :class:`ValidVariant` per buildable row, chains resolved. ``rejected``:
        :class:`RejectedVariant` (row, variant, reason) for every other row: malformed text, residue
        not in the structure, wild-type letter mismatch, unknown target, two mutations at one
        residue, or the same variant as an earlier row (same output name).
    """
    table = _residue_table(structure)
    multi_chain = len({k[0] for k in table}) > 1
    by_number: dict[tuple[int, str], list[str]] = {}
    for ch, rid, ic in table:
        by_number.setdefault((rid, ic), []).append(ch)
    good: list[ValidVariant] = []
    rejected: list[RejectedVariant] = []
    first_row: dict[str, int] = {}
    for row, raw in enumerate(variants, start=1):
        text = "" if raw is None or (isinstance(raw, float) and math.isnan(raw)) else str(raw)
        try:
            muts = parse_variant(text)
        except ValueError as exc:
            rejected.append(RejectedVariant(row, text, str(exc)))
            continue
        resolved: list[Mutation] = []
        reasons: list[str] = []
        for mu in muts:
            res, reason = _resolve(mu, table, by_number)
            resolved.append(res)
            if reason:
                reasons.append(reason)
        if not reasons:
            keys = [(m.chain, m.position, m.ins_code) for m in resolved]
            if len(set(keys)) != len(keys):
                reasons.append("two mutations at one residue (one with and one without a chain id)")
        if reasons:
            rejected.append(RejectedVariant(row, text, "; ".join(reasons)))
            continue
        ordered = tuple(sorted(resolved, key=Mutation.sort_key))
        name = variant_name(ordered, with_chain=multi_chain)
        if name in first_row:
            rejected.append(RejectedVariant(row, text, f"same variant as row {first_row[name]} ({name})"))
            continue
        first_row[name] = row
        good.append(ValidVariant(row, text, name, ordered))
    return good, rejected
