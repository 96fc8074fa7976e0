"""Match motifs against a motif database with Tomtom (Gupta et al. 2007) as implemented by memelite.

Databases: the bundled ATtRACT human RBP motifs (``"attract"``, RNA), JASPAR CORE vertebrates via
the optional ``pyjaspar`` (``"jaspar"``, DNA; extra ``dynamotif[jaspar]``), or any MEME file. RNA
(ACGU) and DNA (ACGT) motifs are compared after U -> T (same column order); reverse complements are
only considered when both sides are DNA.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from components.common.errors import InputError
from components.motifs.meme import Motif, read_meme

__all__ = ["ATTRACT_MEME", "load_motif_db", "run_tomtom", "bh_fdr", "TOMTOM_COLUMNS"]

ATTRACT_MEME = Path(__file__).resolve().parent / "data" / "attract_homo_sapiens_rna.meme"
TOMTOM_COLUMNS = [
    "query",
    "target",
    "target_name",
    "p_value",
    "q_value",
    "rank",
    "offset",
    "overlap",
    "strand",
]


def bh_fdr(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of a p-value array (any shape; NaN stays NaN)."""
    p = np.asarray(p, dtype=float)
    flat = p.ravel()
    ok = ~np.isnan(flat)
    q = np.full_like(flat, np.nan)
    pv = flat[ok]
    m = len(pv)
    if m:
        order = np.argsort(pv)
        ranked = pv[order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        out = np.empty(m)
        out[order] = np.clip(ranked, 0.0, 1.0)
        q[ok] = out
    return q.reshape(p.shape)


def _jaspar_motifs(release: str = "JASPAR2024") -> list[Motif]:
    try:
        from pyjaspar import jaspardb  # type: ignore[import-not-found]
    except ImportError:
        raise InputError(
            "motif database 'jaspar' needs the optional package pyjaspar: pip install 'dynamotif[jaspar]' "
            "(or pass a MEME file with --motif-db)"
        ) from None
    jdb = jaspardb(release=release)
    out = []
    for m in jdb.fetch_motifs(collection="CORE", tax_group=["vertebrates"]):
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=float).T
        pwm = (counts + 1e-3) / (counts + 1e-3).sum(axis=1, keepdims=True)
        out.append(Motif(m.matrix_id, pwm, "ACGT", name=str(m.name).replace(" ", "_")))
    return out


def load_motif_db(spec: str | Path | Sequence[Motif]) -> list[Motif]:
    """Load a motif database: ``"attract"``, ``"jaspar"``, a MEME file path, or a list of motifs."""
    if isinstance(spec, (list, tuple)):
        return list(spec)
    if isinstance(spec, str) and spec.lower() == "attract":
        return read_meme(ATTRACT_MEME)
    if isinstance(spec, str) and spec.lower() == "jaspar":
        return _jaspar_motifs()
    return read_meme(Path(str(spec)))


def _norm(alphabet: str) -> str:
    return alphabet.upper().replace("U", "T")


def default_db_for(alphabet: str) -> str:
    """The default database for a sequence alphabet: ATtRACT for RNA, JASPAR for DNA."""
    letters = set(alphabet.upper())
    if letters == set("ACGU"):
        return "attract"
    if letters == set("ACGT"):
        return "jaspar"
    raise InputError(f"no default motif database for alphabet {alphabet!r}: pass a MEME file (--motif-db)")


def run_tomtom(
    queries: Sequence[Motif],
    database: Sequence[Motif],
    *,
    top_n: int = 10,
    n_jobs: int = 1,
    database_file: str | Path | None = None,
) -> pd.DataFrame:
    """Tomtom of every query against every database motif.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TOMTOM_COLUMNS`, the ``top_n`` best targets per query ranked by p-value
        (rank 1 = best). q-values are Benjamini-Hochberg over the query's p-values against
        every database motif (each query is its own family of tests).

    Raises
    ------
    InputError
        If the query and database alphabets differ (U and T are treated as the same letter).
    """
    from memelite import tomtom

    if not queries:
        return pd.DataFrame(columns=TOMTOM_COLUMNS)
    if not database:
        raise InputError("motif database is empty", file=database_file)
    q_alpha = _norm(queries[0].alphabet)
    db_alpha = _norm(database[0].alphabet)
    if sorted(q_alpha) != sorted(db_alpha):
        raise InputError(
            f"motif database alphabet {database[0].alphabet} does not match the motifs' alphabet "
            f"{queries[0].alphabet}",
            file=database_file,
        )
    if len(q_alpha) != 4:
        raise InputError(f"Tomtom supports nucleotide motifs only, got alphabet {queries[0].alphabet!r}")
    # reorder columns of both sides to the sorted normalised alphabet
    order_q = [q_alpha.index(c) for c in sorted(q_alpha)]
    order_t = [db_alpha.index(c) for c in sorted(db_alpha)]
    Qs = [np.asarray(m.pwm[:, order_q].T, dtype=np.float64) for m in queries]
    Ts = [np.asarray(m.pwm[:, order_t].T, dtype=np.float64) for m in database]
    both_dna = "U" not in queries[0].alphabet.upper() and "U" not in database[0].alphabet.upper()
    p, _scores, offsets, overlaps, strands = tomtom(Qs, Ts, reverse_complement=both_dna, n_jobs=n_jobs)
    q = np.vstack([bh_fdr(row) for row in p])  # per query over all database motifs
    rows = []
    for i, qm in enumerate(queries):
        best = np.argsort(p[i], kind="stable")[:top_n]
        for rank, j in enumerate(best, start=1):
            rows.append(
                (
                    qm.id,
                    database[j].id,
                    database[j].name,
                    float(p[i, j]),
                    float(q[i, j]),
                    rank,
                    int(offsets[i, j]),
                    int(overlaps[i, j]),
                    "-" if strands[i, j] else "+",
                )
            )
    return pd.DataFrame(rows, columns=TOMTOM_COLUMNS)
