"""One HTML page per conv layer: each neuron's leaf logos, motif segments and grammar, readable without code."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from components.common.io import atomic_path
from components.motifs.report import _CSS, _img, _table

__all__ = ["write_layer_report"]

_HELP = (
    "Each row is one neuron of the layer. Its samples (the stretches of sequence that switch it on most, from "
    "the data and from a search for the strongest input) were split into groups by what the layer below "
    "sees; each group gives one logo over the neuron's whole window. Letters that are tall are shared by the "
    "group: the neuron's motifs ('segments'). Two segments in one logo at a fixed distance are a grammar rule: "
    "the neuron fires on motif A followed by motif B. 'contribution' says whether sequences that switch the "
    "neuron on have higher (enhancing) or lower (repressing) predictions. The pair test scrambles A, B or "
    "both in real sequences: synergistic means the two together matter more than the sum of each alone."
)


def write_layer_report(
    out_dir: str | Path,
    title: str,
    neurons: pd.DataFrame,
    *,
    images: dict[int, list[str]],
    segments: pd.DataFrame,
    grammar: pd.DataFrame,
    interactions: pd.DataFrame,
    contribution: pd.DataFrame,
    optimized: dict[str, str],
    notes: list[str],
    filename: str = "layer.html",
) -> Path:
    """Write ``out_dir/filename``; image paths are relative to ``out_dir``.

    Neurons are listed by the number of their segments with a database match, then by their
    maximum activation.
    """
    out = Path(out_dir)
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(_HELP)}</p>",
    ]
    parts += [f"<p class=small>{html.escape(n)}</p>" for n in notes]
    parts.append(
        "<h2>Neurons</h2><table><tr><th>neuron</th><th>leaf logos</th><th>segments</th><th>grammar</th><th>optimised input</th></tr>"
    )
    order = neurons
    if len(neurons):
        order = neurons.sort_values(["n_matched_segments", "max_activation"], ascending=False)
    for r in order.to_dict("records"):
        nm = str(r["name"])
        segs = segments[segments["neuron"] == nm] if len(segments) else segments
        seg_html = "<br>".join(
            f"{html.escape(str(s.consensus))} ({s.start}-{s.end})"
            + (f" <b>{html.escape(str(s.best_match))}</b> q={s.best_q:.2g}" if s.best_match else "")
            for s in segs.head(12).itertuples()
        )
        gram = grammar[grammar["neuron"] == nm] if len(grammar) else grammar
        gram_html = "<br>".join(
            f"{html.escape(str(g.name_a))} &rarr; {html.escape(str(g.name_b))} gap {g.distance} (n={g.count})"
            for g in gram.head(6).itertuples()
        )
        logos = "".join(_img(p) for p in images.get(int(r["neuron"]), []))
        opt = optimized.get(f"{nm.rsplit('_n', 1)[0]}:{r['neuron']}", "")
        parts.append(
            f"<tr><td>{html.escape(nm)}<br><span class=small>max act. {r['max_activation']:.3g}<br>"
            f"{html.escape(str(r.get('contribution', '')))} (d={r.get('cohens_d', float('nan')):.2g})<br>"
            f"{r['n_leaves']} leaves, {r['n_segments']} segments</span></td>"
            f"<td>{logos}</td><td class=small>{seg_html}</td><td class=small>{gram_html}</td><td>{_img(opt)}</td></tr>"
        )
    parts.append("</table>")
    outs = {k: v for k, v in optimized.items() if k.startswith("output")}
    if outs:
        parts.append("<h2>Model outputs: optimised inputs</h2>")
        parts += [
            f"<p>{html.escape(k)}<br>{_img(v).replace('max-height:210px', '')}</p>" for k, v in outs.items()
        ]
    parts.append(f"<h2>Motif pairs (scramble test)</h2>{_table(interactions)}")
    parts.append(f"<h2>Neuron contribution (CombMotif)</h2>{_table(contribution.sort_values('q_value'))}")
    parts.append("</body></html>")
    path = out / filename
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(parts), encoding="utf-8")
    return path
