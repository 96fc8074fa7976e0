"""Alphabets and one-hot encoding (channels first, like tangermeme: ``(n, channels, length)``).

An :class:`Alphabet` is a set of sequence letters, optionally combined with a set of structure
letters into an *extended* alphabet (pysster's sequence x structure encoding): every pair
(base, structure context) is one channel, channel index ``base_index * n_struct + struct_index``.

Sequences of unequal length follow an explicit :class:`LengthPolicy`: padding adds all-zero
columns (mask 0) at the chosen end(s); sequences longer than the model input are either an error
(the default) or cropped at the chosen end(s).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from components.common.errors import InputError

__all__ = [
    "Alphabet",
    "LengthPolicy",
    "DNA",
    "RNA",
    "PROTEIN",
    "STRUCTURE_LETTERS",
    "get_alphabet",
    "one_hot",
    "validate_sequences",
]

#: Loop contexts of an annotated secondary structure (see :mod:`components.seqmodels.structure`):
#: S paired (stem), H hairpin loop, I bulge/internal loop, M multiloop, E exterior (incl. unpaired ends).
STRUCTURE_LETTERS = "SHIME"


@dataclass(frozen=True)
class Alphabet:
    """Sequence letters, optionally extended with structure letters.

    Parameters
    ----------
    name
        ``"DNA"``, ``"RNA"``, ``"protein"`` or a custom name.
    letters
        The sequence letters, in channel order (upper case, unique).
    structure_letters
        Structure-context letters for the sequence x structure alphabet, or None.
    unknown
        Wildcard letter(s) encoded as a uniform distribution over ``letters`` (``N`` for
        nucleic acids, ``X`` for proteins; pysster replaced them with random letters instead).
    """

    name: str
    letters: str
    structure_letters: str | None = None
    unknown: str = ""

    def __post_init__(self) -> None:
        for field, value in (("letters", self.letters), ("structure_letters", self.structure_letters or "")):
            if value != value.upper() or len(set(value)) != len(value):
                raise ValueError(f"alphabet {field} must be unique upper-case letters, got {value!r}")
        if not self.letters:
            raise ValueError("alphabet letters must not be empty")

    @property
    def letters_extended(self) -> list[str]:
        """Channel names: the letters, or ``base+struct`` pairs for an extended alphabet."""
        if not self.structure_letters:
            return list(self.letters)
        return [b + s for b in self.letters for s in self.structure_letters]

    @property
    def n_channels(self) -> int:
        return len(self.letters) * (len(self.structure_letters) if self.structure_letters else 1)

    def decode(self, index: int) -> tuple[str, str | None]:
        """Channel index -> ``(base, structure letter or None)``."""
        if not 0 <= index < self.n_channels:
            raise ValueError(f"channel index {index} out of range 0..{self.n_channels - 1}")
        if not self.structure_letters:
            return self.letters[index], None
        k = len(self.structure_letters)
        return self.letters[index // k], self.structure_letters[index % k]

    def with_structure(self, structure_letters: str | None = STRUCTURE_LETTERS) -> Alphabet:
        """The extended sequence x structure alphabet built on this one (None: sequence only)."""
        return Alphabet(self.name, self.letters, structure_letters, self.unknown)

    @property
    def accepted(self) -> str:
        """Letters accepted in input sequences (alphabet + wildcards)."""
        return self.letters + self.unknown

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "letters": self.letters,
            "structure_letters": self.structure_letters,
            "unknown": self.unknown,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Alphabet:
        return cls(d["name"], d["letters"], d.get("structure_letters"), d.get("unknown") or "")


DNA = Alphabet("DNA", "ACGT", unknown="N")
RNA = Alphabet("RNA", "ACGU", unknown="N")
PROTEIN = Alphabet("protein", "ACDEFGHIKLMNPQRSTVWY", unknown="X")
_BUILTIN = {"dna": DNA, "rna": RNA, "protein": PROTEIN}


def get_alphabet(spec: str) -> Alphabet:
    """``"DNA"``, ``"RNA"``, ``"protein"`` (any case), or the letters of a custom alphabet."""
    key = spec.strip()
    if key.lower() in _BUILTIN:
        return _BUILTIN[key.lower()]
    if not key or not key.isalpha():
        raise InputError(f"alphabet must be DNA, RNA, protein or a string of letters, got {spec!r}")
    return Alphabet("custom", key.upper())


@dataclass(frozen=True)
class LengthPolicy:
    """How sequences are brought to the model's input length.

    Parameters
    ----------
    pad
        Where zero columns go when a sequence is shorter: ``"right"`` (sequence left-aligned),
        ``"left"`` (right-aligned) or ``"both"`` (centred).
    crop
        What happens when a sequence is longer: ``"error"`` (raise), or cut at ``"right"``,
        ``"left"`` or ``"both"`` ends.
    """

    pad: str = "right"
    crop: str = "error"

    def __post_init__(self) -> None:
        if self.pad not in ("right", "left", "both"):
            raise InputError(f"pad policy must be right, left or both, got {self.pad!r}")
        if self.crop not in ("error", "right", "left", "both"):
            raise InputError(f"crop policy must be error, right, left or both, got {self.crop!r}")

    def __str__(self) -> str:
        return f"pad={self.pad},crop={self.crop}"

    @classmethod
    def parse(cls, spec: str | LengthPolicy | None) -> LengthPolicy:
        """Parse ``"pad=right,crop=error"`` (either part optional)."""
        if spec is None:
            return cls()
        if isinstance(spec, LengthPolicy):
            return spec
        kw: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            if key not in ("pad", "crop") or not value:
                raise InputError(f"length policy must look like 'pad=right,crop=error', got {spec!r}")
            kw[key] = value
        return cls(**kw)

    def window(self, n: int, length: int) -> tuple[int, int, int]:
        """For a sequence of ``n`` letters: ``(src_start, dst_start, count)`` to copy."""
        if n <= length:
            offset = {"right": 0, "left": length - n, "both": (length - n) // 2}[self.pad]
            return 0, offset, n
        start = {"right": 0, "left": n - length, "both": (n - length) // 2, "error": 0}[self.crop]
        return start, 0, length


def validate_sequences(
    seqs: Sequence[str],
    letters: str,
    *,
    file: str | None = None,
    names: Sequence[str] | None = None,
    what: str = "character",
) -> None:
    """Raise :class:`InputError` naming the record and 1-based position of the first bad letter."""
    allowed = set(letters)
    for i, s in enumerate(seqs):
        if not s:
            rec = names[i] if names is not None else f"record {i + 1}"
            raise InputError("empty sequence", file=file, record=str(rec))
        bad = set(s) - allowed
        if bad:
            pos = next(j for j, c in enumerate(s) if c in bad)
            rec = names[i] if names is not None else f"record {i + 1}"
            raise InputError(
                f"invalid {what} {s[pos]!r} at position {pos + 1} (alphabet {letters})",
                file=file,
                record=str(rec),
            )


def _lookup(letters: str) -> np.ndarray:
    table = np.full(256, -1, dtype=np.int16)
    for i, c in enumerate(letters):
        table[ord(c)] = i
        table[ord(c.lower())] = i
    return table


def one_hot(
    seqs: Sequence[str],
    alphabet: Alphabet,
    length: int,
    policy: LengthPolicy | str | None = None,
    *,
    structures: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One-hot encode sequences (and structure contexts) channels-first.

    Parameters
    ----------
    seqs
        Sequences over ``alphabet.letters`` (lower case accepted; RNA/DNA ``U``/``T`` are NOT
        converted here).
    alphabet
        The alphabet; when it has ``structure_letters``, ``structures`` is required.
    length
        Model input length ``L``.
    policy
        :class:`LengthPolicy` or its string form; default pad right, error when too long.
    structures
        Loop-context strings (letters of ``alphabet.structure_letters``), same lengths as ``seqs``.
    names
        Record names for error messages.

    Returns
    -------
    X : np.ndarray, float32, shape (n, alphabet.n_channels, L)
    mask : np.ndarray, float32, shape (n, L)
        1 where a real letter sits, 0 on padding.

    Raises
    ------
    InputError
        On a letter outside the alphabet (record + 1-based position), a missing/mismatched
        structure, or a sequence longer than ``length`` under ``crop="error"``.
    """
    pol = LengthPolicy.parse(policy)
    n = len(seqs)
    if length < 1:
        raise ValueError(f"length must be >= 1, got {length}")
    struct_letters = alphabet.structure_letters or ""
    has_struct = bool(struct_letters)
    if has_struct and structures is None:
        raise InputError(
            f"alphabet {alphabet.name}+structure needs structures (use --fold or give dot-brackets)"
        )
    if structures is not None and len(structures) != n:
        raise ValueError(f"structures has {len(structures)} entries for {n} sequences")
    k = len(struct_letters) if has_struct else 1
    X = np.zeros((n, alphabet.n_channels, length), dtype=np.float32)
    mask = np.zeros((n, length), dtype=np.float32)
    seq_table = _lookup(alphabet.letters)
    for c in alphabet.unknown:
        seq_table[ord(c)] = seq_table[ord(c.lower())] = -2
    n_letters = len(alphabet.letters)
    st_table = _lookup(struct_letters) if has_struct else None
    for i, s in enumerate(seqs):
        rec = str(names[i]) if names is not None else f"record {i + 1}"
        if len(s) > length and pol.crop == "error":
            raise InputError(
                f"sequence of length {len(s)} is longer than the model input ({length}); "
                "crop it or choose a crop policy",
                record=rec,
            )
        src, dst, cnt = pol.window(len(s), length)
        codes = seq_table[np.frombuffer(s.encode("latin-1", "replace"), dtype=np.uint8)]
        if (codes == -1).any():
            pos = int(np.argmax(codes == -1))
            raise InputError(
                f"invalid character {s[pos]!r} at position {pos + 1} (alphabet {alphabet.accepted})",
                record=rec,
            )
        codes = codes[src : src + cnt].astype(np.int64)
        wild = codes == -2
        codes[wild] = 0
        if has_struct:
            assert structures is not None and st_table is not None
            st = structures[i]
            if len(st) != len(s):
                raise InputError(
                    f"structure length {len(st)} differs from sequence length {len(s)}", record=rec
                )
            sc = st_table[np.frombuffer(st.encode("latin-1", "replace"), dtype=np.uint8)]
            if (sc < 0).any():
                pos = int(np.argmax(sc < 0))
                raise InputError(
                    f"invalid structure letter {st[pos]!r} at position {pos + 1} "
                    f"(expected {alphabet.structure_letters})",
                    record=rec,
                )
            sc = sc[src : src + cnt].astype(np.int64)
            codes = codes * k + sc
        else:
            sc = np.zeros(cnt, dtype=np.int64)
        cols = np.arange(dst, dst + cnt)
        X[i, codes[~wild], cols[~wild]] = 1.0
        if wild.any():
            for b in range(n_letters):
                X[i, b * k + sc[wild], cols[wild]] = 1.0 / n_letters
        mask[i, dst : dst + cnt] = 1.0
    return X, mask
