"""Variant identifiers: one canonical key per variant, whatever the spelling.

Accepted spellings (1-based positions): ``A12C;C74A``, ``A12C_C74A``, ``A12C,C74A``, chain-qualified
``A:K45R``, DynaSig-ML file ids such as ``mir125a_A12C_C74A.pdb``, and ``WT`` (or an empty string) for
the wild type. The canonical key joins the mutations with ``;`` in (chain, position) order, so
``C74A_A12C`` and ``A12C;C74A`` are the same variant.
"""

from __future__ import annotations

import re

from components.common.errors import InputError

__all__ = ["WT", "canonical_variant", "mutation_positions", "n_mutations"]

WT = "WT"
_MUT = re.compile(
    r"^(?:(?P<chain>[A-Za-z0-9])[:-])?(?P<wt>[A-Za-z])(?P<pos>-?\d+)(?P<ins>[A-Za-z]?)(?P<new>[A-Za-z])$"
)
_SPLIT = re.compile(r"[;,_\s+]+")
_SUFFIX = re.compile(r"\.(pdb|cif|mmcif|ent)(\.gz)?$", re.IGNORECASE)


def _tokens(variant: str) -> list[str]:
    text = _SUFFIX.sub("", str(variant).strip())
    return [t for t in _SPLIT.split(text) if t]


def canonical_variant(variant: object, *, record: str | None = None) -> str:
    """Return the canonical key of ``variant`` (``"WT"`` for the wild type).

    Tokens that are not mutations are ignored only when they come *before* the first mutation and
    contain no digit-letter mutation pattern (a file-id prefix such as ``mir125a``).

    Raises
    ------
    InputError
        If ``variant`` is not a string, or contains a token that is not a mutation.
    """
    if not isinstance(variant, str):
        raise InputError(f"variant must be a string, got {variant!r}", record=record)
    tokens = _tokens(variant)
    if not tokens or (tokens[-1].upper() == WT and len(tokens) <= 2):
        return WT
    muts: list[tuple[str, int, str, str]] = []
    for i, tok in enumerate(tokens):
        m = _MUT.match(tok)
        if m is None:
            if not muts and i < len(tokens) - 1:  # file-id prefix like "mir125a"
                continue
            raise InputError(
                f"bad mutation {tok!r} in variant {variant!r} (expected e.g. A12C or A:K45R)", record=record
            )
        chain = m.group("chain") or ""
        norm = f"{m.group('wt').upper()}{m.group('pos')}{m.group('ins')}{m.group('new').upper()}"
        muts.append((chain, int(m.group("pos")), m.group("ins"), f"{chain}:{norm}" if chain else norm))
    if not muts:
        raise InputError(f"no mutation found in variant {variant!r}", record=record)
    muts.sort(key=lambda t: (t[0], t[1], t[2]))
    seen: set[tuple[str, int, str]] = set()
    for chain, pos, ins, _tok in muts:
        if (chain, pos, ins) in seen:
            raise InputError(f"position {pos} mutated twice in variant {variant!r}", record=record)
        seen.add((chain, pos, ins))
    return ";".join(t[3] for t in muts)


def mutation_positions(key: str) -> list[int]:
    """1-based positions of a canonical key (empty for ``WT``)."""
    if key == WT:
        return []
    out = []
    for tok in key.split(";"):
        m = _MUT.match(tok)
        if m is None:
            raise InputError(f"bad mutation {tok!r} in variant {key!r}")
        out.append(int(m.group("pos")))
    return out


def n_mutations(key: str) -> int:
    """Number of point mutations of a canonical key (0 for ``WT``)."""
    return 0 if key == WT else len(key.split(";"))
