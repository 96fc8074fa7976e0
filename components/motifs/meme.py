"""Motifs as position probability matrices, and the MEME minimal text format (write + read).

A :class:`Motif` is a ``(width, len(alphabet))`` probability matrix (rows sum to 1) with an id, a
name and its alphabet letters. The MEME minimal format (MEME suite v4) is what Tomtom, FIMO,
memelite and TF-MoDISco read; :func:`write_meme` / :func:`read_meme` round-trip it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from components.common.errors import InputError
from components.common.io import atomic_path, open_text

__all__ = ["Motif", "write_meme", "read_meme", "information_content", "relative_entropy", "trim_motif"]


@dataclass(frozen=True)
class Motif:
    """A position probability matrix.

    Parameters
    ----------
    id
        Identifier (MEME ``MOTIF`` first word; no whitespace).
    pwm
        ``(width, len(alphabet))`` float array, rows are probabilities summing to 1.
    alphabet
        Column letters, e.g. ``"ACGU"``.
    name
        Optional alternative name (MEME ``MOTIF id name``).
    nsites
        Number of sites the matrix was built from (0 when unknown).
    """

    id: str
    pwm: np.ndarray
    alphabet: str
    name: str = ""
    nsites: int = 0
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        pwm = np.asarray(self.pwm, dtype=float)
        if pwm.ndim != 2 or pwm.shape[1] != len(self.alphabet):
            raise ValueError(
                f"pwm of motif {self.id!r} must have shape (width, {len(self.alphabet)}), got {pwm.shape}"
            )
        if pwm.shape[0] == 0:
            raise ValueError(f"motif {self.id!r} has width 0")
        if not re.fullmatch(r"\S+", self.id):
            raise ValueError(f"motif id must be one word without whitespace, got {self.id!r}")
        object.__setattr__(self, "pwm", pwm)

    @property
    def width(self) -> int:
        return int(self.pwm.shape[0])

    def consensus(self) -> str:
        """Most probable letter per position."""
        return "".join(self.alphabet[i] for i in self.pwm.argmax(axis=1))


def information_content(pwm: np.ndarray) -> np.ndarray:
    """Information content (bits) per row of a ``(width, A)`` probability matrix."""
    p = np.clip(np.asarray(pwm, dtype=float), 1e-12, 1.0)
    return math.log2(p.shape[1]) + (p * np.log2(p)).sum(axis=1)


def relative_entropy(pwm: np.ndarray, background: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Bits per row of a ``(width, A)`` probability matrix relative to ``background`` (uniform if None).

    With a uniform background this is the information content; with the data's letter frequencies
    a column that merely reflects the composition (e.g. U in AU-rich 3'UTRs) scores near 0.
    """
    p = np.clip(np.asarray(pwm, dtype=float), 1e-12, 1.0)
    bg = np.full(p.shape[1], 1.0 / p.shape[1]) if background is None else np.asarray(background, float)
    bg = np.clip(bg / bg.sum(), 1e-12, 1.0)
    return (p * np.log2(p / bg)).sum(axis=1)


def trim_motif(
    motif: Motif,
    background: Sequence[float] | np.ndarray | None = None,
    *,
    min_bits: float = 0.5,
    min_width: int = 4,
) -> Motif:
    """The motif without its uninformative edges: leading/trailing columns under ``min_bits``
    (relative entropy to ``background``) are dropped. Motifs that would keep fewer than
    ``min_width`` columns are returned unchanged. ``meta["trim"]`` records ``(start, end)``.
    """
    keep = np.flatnonzero(relative_entropy(motif.pwm, background) >= min_bits)
    if len(keep) == 0 or keep.max() + 1 - keep.min() < min_width:
        return motif
    lo, hi = int(keep.min()), int(keep.max()) + 1
    return Motif(
        motif.id,
        motif.pwm[lo:hi],
        motif.alphabet,
        name=motif.name,
        nsites=motif.nsites,
        meta={**motif.meta, "trim": (lo, hi)},
    )


def write_meme(
    motifs: Sequence[Motif],
    path: str | Path,
    *,
    background: Sequence[float] | None = None,
    strands: str = "+",
) -> Path:
    """Write motifs in MEME minimal format (v4), atomically.

    All motifs must share one alphabet. ``strands`` is ``"+"`` for RNA/protein and ``"+ -"`` for DNA.
    """
    if not motifs:
        raise ValueError("write_meme: 'motifs' is empty")
    alphabet = motifs[0].alphabet
    for m in motifs:
        if m.alphabet != alphabet:
            raise ValueError(f"write_meme: motif {m.id!r} has alphabet {m.alphabet!r}, expected {alphabet!r}")
    bg = np.full(len(alphabet), 1.0 / len(alphabet)) if background is None else np.asarray(background)
    lines = ["MEME version 4", "", f"ALPHABET= {alphabet}", "", f"strands: {strands}", ""]
    lines.append("Background letter frequencies")
    lines.append(" ".join(f"{a} {b:.4f}" for a, b in zip(alphabet, bg, strict=True)))
    lines.append("")
    for m in motifs:
        lines.append(f"MOTIF {m.id}" + (f" {m.name}" if m.name else ""))
        sums = m.pwm.sum(axis=1, keepdims=True)
        pwm = m.pwm if np.allclose(sums, 1.0, atol=1e-4) else m.pwm / sums
        lines.append(
            f"letter-probability matrix: alength= {len(alphabet)} w= {m.width} nsites= {m.nsites} E= 0"
        )
        lines.extend(" ".join(f"{v:.6f}" for v in row) for row in pwm)
        lines.append("")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    return path


_HEADER_RE = re.compile(r"letter-probability matrix:(?P<rest>.*)")


def _field(rest: str, key: str) -> int | None:
    m = re.search(rf"\b{key}=\s*(\S+)", rest)
    if m is None:
        return None
    try:
        return int(float(m.group(1)))
    except ValueError:
        return None


def read_meme(path: str | Path) -> list[Motif]:
    """Read a MEME minimal-format file.

    Returns
    -------
    list of Motif
        In file order. ``alphabet`` from the ``ALPHABET=`` line (``ACGT`` when the line is absent,
        as MEME assumes for DNA); rows renormalised when they do not sum to 1.

    Raises
    ------
    InputError
        Missing file, no ``MOTIF``, a matrix row with the wrong number of columns or non-numbers,
        or a matrix shorter than its ``w=``.
    """
    path = Path(path)
    alphabet: str | None = None
    motifs: list[Motif] = []
    current: tuple[str, str, int] | None = None  # id, name, line
    width: int | None = None
    nsites = 0
    rows: list[list[float]] = []
    saw_meme = False

    def close(lineno: int) -> None:
        nonlocal current, width, rows
        if current is None:
            return
        mid, name, mline = current
        if width is None:
            raise InputError(
                f"motif {mid!r} has no 'letter-probability matrix' line", file=path, record=f"line {mline}"
            )
        if len(rows) != width:
            raise InputError(
                f"motif {mid!r} declares w= {width} but has {len(rows)} matrix rows",
                file=path,
                record=f"line {mline}",
            )
        pwm = np.asarray(rows, dtype=float)
        sums = pwm.sum(axis=1, keepdims=True)
        if np.any(sums <= 0) or np.any(pwm < 0):
            raise InputError(
                f"motif {mid!r} has a row with negative values or zero sum", file=path, record=f"line {mline}"
            )
        if not np.allclose(sums, 1.0, atol=1e-4):
            pwm = pwm / sums
        motifs.append(Motif(mid, pwm, alphabet or "ACGT", name=name, nsites=nsites))
        current, width, rows = None, None, []

    try:
        fh = open_text(path)
    except InputError:
        raise
    try:
        with fh:
            for lineno, raw in enumerate(fh, start=1):
                line = raw.strip()
                if not line:
                    continue
                if line.startswith("MEME version"):
                    saw_meme = True
                elif line.startswith("ALPHABET"):
                    m = re.match(r"ALPHABET\s*=\s*(\S+)", line)
                    if m is None:
                        raise InputError("cannot parse ALPHABET line", file=path, record=f"line {lineno}")
                    alphabet = m.group(1).upper()
                elif line.startswith("MOTIF"):
                    close(lineno)
                    parts = line.split()
                    if len(parts) < 2:
                        raise InputError("MOTIF line without an id", file=path, record=f"line {lineno}")
                    current = (parts[1], " ".join(parts[2:]), lineno)
                elif current is not None and width is None:
                    hm = _HEADER_RE.match(line)
                    if hm:
                        width = _field(hm.group("rest"), "w")
                        nsites = _field(hm.group("rest"), "nsites") or 0
                        alen = _field(hm.group("rest"), "alength")
                        if width is None:
                            raise InputError("matrix header without w=", file=path, record=f"line {lineno}")
                        if alphabet is not None and alen is not None and alen != len(alphabet):
                            raise InputError(
                                f"alength= {alen} does not match ALPHABET {alphabet}",
                                file=path,
                                record=f"line {lineno}",
                            )
                elif current is not None and width is not None and len(rows) < width:
                    try:
                        values = [float(v) for v in line.split()]
                    except ValueError:
                        raise InputError(
                            f"matrix row of motif {current[0]!r} is not numeric: {line[:40]!r}",
                            file=path,
                            record=f"line {lineno}",
                        ) from None
                    expected = len(alphabet) if alphabet else 4
                    if len(values) != expected:
                        raise InputError(
                            f"matrix row has {len(values)} columns, expected {expected}",
                            file=path,
                            record=f"line {lineno}",
                        )
                    rows.append(values)
                elif current is not None and width is not None and line.startswith("URL"):
                    continue
            close(-1)
    except UnicodeDecodeError:
        raise InputError("not a text file: cannot read as MEME motifs", file=path) from None
    if not motifs:
        hint = "" if saw_meme else " (no 'MEME version' header: not a MEME file?)"
        raise InputError(f"no motifs found{hint}", file=path)
    return motifs


def rna_to_dna(motifs: Iterable[Motif]) -> list[Motif]:
    """Rename the U column to T (same column order), for matching RNA against DNA motifs."""
    return [Motif(m.id, m.pwm, m.alphabet.replace("U", "T"), m.name, m.nsites, m.meta) for m in motifs]
