"""The HTML summary ``report.html``: kernels ranked by importance, with logos, plots and top matches."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from components.common.io import atomic_path

__all__ = ["write_report"]

_CSS = (
    "body{font-family:sans-serif;font-size:13px;margin:20px}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px;vertical-align:top}th{background:#eee}img{max-height:210px}"
    ".small{font-size:11px;color:#444}"
)


def _img(rel: str | None) -> str:
    return f'<img src="{html.escape(rel)}">' if rel else ""


def _table(df: pd.DataFrame, n: int = 50) -> str:
    if df is None or len(df) == 0:
        return "<p class=small>(none)</p>"
    return df.head(n).to_html(index=False, float_format=lambda v: f"{v:.3g}", border=0)


def write_report(
    out_dir: str | Path,
    kernels: pd.DataFrame,
    *,
    title: str,
    images: dict[int, dict[str, str]],
    tomtom: pd.DataFrame,
    sections: dict[str, pd.DataFrame],
    figures: dict[str, str],
    notes: list[str],
    target: str | None = None,
) -> Path:
    """Write ``out_dir/report.html``; image paths are relative to ``out_dir``.

    Parameters
    ----------
    kernels
        One row per kernel with at least ``kernel, motif_id, importance, consensus``; rows are
        shown by ``rank`` when the table has one, else in descending importance. With a
        ``favours`` column each kernel says which class it favours; kernels that favour another
        class than ``target`` are marked background-enriched.
    target
        The target class (binary: the positive class), or None.
    images
        kernel -> {"logo", "positions", "classes"} relative PNG paths.
    tomtom
        Tomtom table (query = motif id); the best three targets are listed per kernel.
    sections
        Extra titled tables (neuron contribution, interactions, attribution motifs).
    figures
        Extra titled figures (the co-occurrence heatmap).
    """
    out = Path(out_dir)
    best: dict[str, str] = {}
    if tomtom is not None and len(tomtom):
        for q, grp in tomtom.groupby("query", sort=False):
            best[str(q)] = "<br>".join(
                f"{html.escape(str(r.target_name or r.target))} (p={r.p_value:.2g}, q={r.q_value:.2g})"
                for r in grp.sort_values("rank").head(3).itertuples()
            )
    rows = []
    ordered = (
        kernels.sort_values("rank")
        if "rank" in kernels
        else kernels.sort_values("importance", ascending=False)
    )
    for r in ordered.itertuples():
        im = images.get(int(str(r.kernel)), {})
        favours = ""
        if "favours" in kernels:
            fav = html.escape(str(r.favours))
            background = target is not None and str(r.favours) != target
            favours = f"<br>favours {fav}" + (" <b>(background-enriched)</b>" if background else "")
        rows.append(
            "<tr>"
            f"<td>{r.kernel}<br><span class=small>score {r.importance:.3g}<br>{html.escape(str(r.consensus))}"
            f"{favours}</span></td>"
            f"<td>{_img(im.get('logo'))}</td><td>{_img(im.get('positions'))}</td><td>{_img(im.get('classes'))}</td>"
            f"<td class=small>{best.get(str(r.motif_id), '')}</td></tr>"
        )
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
    ]
    parts += [f"<p class=small>{html.escape(n)}</p>" for n in notes]
    heading = (
        f"Kernels favouring {html.escape(target)} first, then the others; each by importance score"
        if target is not None and "favours" in kernels
        else "Kernels ranked by importance score"
    )
    parts.append(f"<h2>{heading}</h2><table>")
    parts.append(
        "<tr><th>kernel</th><th>motif</th><th>positional enrichment</th><th>class enrichment</th><th>best Tomtom matches</th></tr>"
    )
    parts += rows
    parts.append("</table>")
    for name, rel in figures.items():
        parts.append(f"<h2>{html.escape(name)}</h2>{_img(rel).replace('max-height:210px', '')}")
    for name, df in sections.items():
        parts.append(f"<h2>{html.escape(name)}</h2>{_table(df)}")
    parts.append("</body></html>")
    path = out / "report.html"
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
