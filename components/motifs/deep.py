"""``interpret_layer``: deep-neuron motifs of one conv layer (NeuronMotif / CombMotif), in one folder.

For every neuron of the layer: samples (top-activating data windows + genetic-algorithm windows,
:mod:`~components.motifs.sampling`), layer-wise demixing into leaf PFMs, IC segments and their
grammar (:mod:`~components.motifs.demix`), Tomtom of the segments (:mod:`~components.motifs.tomtom`),
neuron contribution (:mod:`~components.motifs.contribution`), the scramble test of the neuron's
motif pairs (:mod:`~components.motifs.interaction`) and visualization by optimization of the
neurons and of the outputs (:mod:`~components.motifs.optimize`); one HTML page
(:mod:`~components.motifs.deep_report`).

Outputs under ``out_dir`` (fixed names; ``L`` = the layer, e.g. ``conv2``): ``L.html``,
``neurons.tsv``, ``segments.tsv``, ``grammar.tsv`` (per leaf), ``grammar_summary.tsv`` (pairs
summed over leaves), ``tomtom.tsv``, ``contribution.tsv``, ``interactions.tsv``,
``segments.meme`` (all segments; ``segments_structure.meme`` for sequence x structure models),
``neurons/L_nK/segments.meme`` and ``neurons/L_nK/leaf_*.png`` per neuron, ``optimized/*.png``,
``params.json``, ``metrics.json``.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from components.common.errors import DynamotifWarning, InputError
from components.common.io import write_json, write_table
from components.motifs.contribution import neuron_contribution
from components.motifs.deep_report import write_layer_report
from components.motifs.demix import demix, grammar_table, leaf_segments, load_criterion
from components.motifs.interaction import interaction_table, score_interaction, scrambled_batch
from components.motifs.meme import Motif, information_content, write_meme
from components.motifs.optimize import Node, optimize_nodes, parse_node
from components.motifs.plots import plot_kernel_logo
from components.motifs.receptive import (
    ConvLayer,
    check_neurons,
    conv_activations,
    conv_layers,
    resolve_layer,
    select_member,
)
from components.motifs.sampling import combine, genetic_sampling, randomize_neutral, top_windows
from components.motifs.tomtom import default_db_for, load_motif_db, run_tomtom

__all__ = ["interpret_layer", "DEEP_DEFAULTS", "prepare_layer", "visualize_nodes"]

DEEP_DEFAULTS: dict[str, Any] = {
    "member": 0,  # ensemble member interpreted
    "n_windows": 500,  # top-activating data windows per neuron
    "ga": True,  # add genetic-algorithm samples
    "ga_samples": 200,
    "ga_population": 50,
    "ga_patience": 30,
    "ga_generations": 300,
    "ga_restarts": 2,
    "ga_seconds": 15.0,  # bound on the GA time per neuron
    "neutral_tolerance": 0.1,  # GA windows: redraw letters whose change moves the activation less
    "min_bits": 0.5,  # segment columns: corrected information content
    "max_gap": 1,
    "min_width": 4,
    "max_leaf_logos": 6,
    "fire_threshold": 0.7,  # CombMotif's t (contribution)
    "pair_fire_threshold": 0.5,
    "pair_min_score": 0.6,  # a site is present when its PWM log-odds reaches this share of the best
    "max_pairs": 3,  # grammar pairs per neuron handed to the scramble test
    "min_pair_sequences": 12,
    "max_pair_sequences": 150,
    "n_shuffles": 2,
    # random letters (CombMotif): a dinucleotide shuffle of a short site often re-creates it shifted by one
    "scramble": "random",
    "alpha": 0.05,
    "min_relative": 0.1,
    "optimize": True,
    "optimize_steps": 300,
    "optimize_restarts": 5,
    "tomtom_top": 5,
    "output": 0,
    "seed": 0,
}


def prepare_layer(
    bundle: Any, layer: int | str, neurons: Sequence[int] | None = None, member: int = 0
) -> tuple[Any, ConvLayer, list[int], str | None]:
    """Check the model, the layer and the neurons before any work: ``(member bundle, layer,
    neurons, note)``. Errors are :class:`InputError` lines (no conv layer, layer that does not
    exist or is not a convolution, neurons out of range, ensemble member out of range)."""
    from components.motifs.pipeline import check_sequence_model

    check_sequence_model(bundle)
    net, note = select_member(bundle.net, member)
    conv = resolve_layer(net, layer)
    chosen = check_neurons(conv, None if neurons is None else list(neurons))
    sub = dataclasses.replace(bundle, net=net, params={**bundle.params, "ensemble": 1}) if note else bundle
    return sub, conv, chosen, note


def _site_score(seq: str, start: int, motif: Motif) -> float:
    """Share of the motif's best log-odds (vs uniform) reached by ``seq[start:start + width]``."""
    lo = np.log2(np.clip(motif.pwm, 1e-3, 1.0) * motif.pwm.shape[1])
    best = lo.max(axis=1).sum()
    idx = [motif.alphabet.find(c) for c in seq[start : start + motif.width]]
    if len(idx) < motif.width or min(idx) < 0 or best <= 0:
        return -np.inf
    return float(lo[np.arange(motif.width), idx].sum() / best)


def _pair_sites(
    sequences: list[str],
    bundle: Any,
    acts_n: np.ndarray,
    conv: ConvLayer,
    seg_a: Motif,
    seg_b: Motif,
    p: dict[str, Any],
) -> tuple[list[int], list[tuple[int, int]], list[tuple[int, int]]]:
    """Sequences where the neuron fires and both segments sit at their place in its field."""
    mx = acts_n.max(axis=1)
    top = mx.max() if len(mx) else 0.0
    fire = np.flatnonzero((mx > 0) & (mx >= p["pair_fire_threshold"] * top))
    rows, sa, sb = [], [], []
    for i in fire:
        seq = sequences[i]
        src, dst, _ = bundle.policy.window(len(seq), bundle.length)
        ws = int(conv.window_start(int(acts_n[i].argmax()))) - dst + src  # string coordinates
        a0, b0 = ws + seg_a.meta["start"], ws + seg_b.meta["start"]
        if a0 < 0 or b0 + seg_b.width > len(seq):
            continue
        if min(_site_score(seq, a0, seg_a), _site_score(seq, b0, seg_b)) < p["pair_min_score"]:
            continue
        rows.append(int(i))
        sa.append((a0, a0 + seg_a.width))
        sb.append((b0, b0 + seg_b.width))
    return rows, sa, sb


def interpret_layer(
    bundle: Any,
    sequences: Sequence[str],
    labels: np.ndarray | None,
    out_dir: str | Path,
    *,
    layer: int | str,
    neurons: Sequence[int] | None = None,
    motif_db: str | Path | Sequence[Motif] | None = None,
    criterion: str | Path | dict | None = None,
    progress: bool = True,
    **params: Any,
) -> dict[str, Any]:
    """Deep-neuron motifs of conv layer ``layer`` (1-based index or ``convN``) of a sequence model.

    Parameters
    ----------
    bundle
        A trained :class:`~components.seqmodels.bundle.SequenceModel` (ensembles: ``member``).
    sequences
        Data sequences: the source of top-activating windows, contributions and pair tests.
    labels
        Unused for the statistics (contributions compare the model's predictions); kept for
        symmetry with :func:`~components.motifs.interpret_model`.
    neurons
        Neuron (channel) indices of the layer; all when None.
    motif_db
        Tomtom database (``"attract"``, ``"jaspar"``, a MEME file, motifs); the alphabet's
        default when None (skipped with a warning where none exists).
    criterion
        Demixing criterion (YAML/JSON file or dict, :func:`~components.motifs.demix.load_criterion`).
    **params
        Overrides of :data:`DEEP_DEFAULTS`.

    Returns
    -------
    dict
        Paths (``report``, ``neurons``, ``segments``, ``grammar``, ``tomtom``, ``contribution``,
        ``interactions``, ``meme``, ``params``, ``metrics``, ``figures``) and tables
        (``neuron_table``, ``segment_table``, ``grammar_table``, ``grammar_summary``,
        ``tomtom_table``, ``contribution_table``, ``interaction_table``, ``optimized``,
        ``metrics``).
    """
    from tqdm.auto import tqdm

    from components.motifs.pipeline import check_alphabet
    from components.seqmodels.bundle import encode, predict, predict_encoded

    unknown = set(params) - set(DEEP_DEFAULTS)
    if unknown:
        raise TypeError(f"interpret_layer got unknown parameter(s): {', '.join(sorted(unknown))}")
    p = {**DEEP_DEFAULTS, **params}
    bundle, conv, chosen, member_note = prepare_layer(bundle, layer, neurons, int(p["member"]))
    crit = load_criterion(criterion)
    sequences = [s.upper() for s in sequences]
    if not sequences:
        raise InputError("no sequences to interpret")
    check_alphabet(bundle, sequences)
    notes: list[str] = [member_note] if member_note else []
    seq_letters = "".join(dict.fromkeys(bundle.alphabet.letters))
    if motif_db is not None:
        db: list[Motif] | None = load_motif_db(motif_db)
    else:
        try:
            db = load_motif_db(default_db_for(seq_letters))
        except InputError as exc:
            warnings.warn(f"Tomtom skipped: {exc.one_line()}", DynamotifWarning, stacklevel=2)
            notes.append(f"Tomtom skipped: {exc.one_line()}")
            db = None
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    net = bundle.net.eval()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    channels = [bundle.alphabet.decode(i) for i in range(bundle.alphabet.n_channels)]
    n_ch = len(channels)
    X = encode(bundle, sequences).numpy()
    acts = conv_activations(net, X, conv)
    preds = predict_encoded(bundle, torch.from_numpy(X))
    timings["activations_s"] = time.perf_counter() - t0
    name = conv.name

    # per neuron: samples -> demixing -> segments -> logos
    t = time.perf_counter()
    segments_all: list[Any] = []
    neuron_rows: list[dict[str, Any]] = []
    grammar_parts: list[pd.DataFrame] = []
    images: dict[int, list[str]] = {}
    figures: list[Path] = []
    seg_by_neuron: dict[int, list[Any]] = {}
    for k in tqdm(chosen, desc=f"{name} neurons", unit="neuron", disable=not progress, file=sys.stderr):
        tn = time.perf_counter()
        label = f"{name}_n{k}"
        data = top_windows(X, acts, conv, k, n_windows=int(p["n_windows"]))
        parts = [data]
        ga_info: dict[str, Any] = {"best": np.nan}
        if p["ga"]:
            ga, ga_info = genetic_sampling(
                net,
                conv,
                k,
                n_ch,
                n_samples=int(p["ga_samples"]),
                seed=int(p["seed"]) + k,
                population=int(p["ga_population"]),
                patience=int(p["ga_patience"]),
                max_generations=int(p["ga_generations"]),
                restarts=int(p["ga_restarts"]),
                max_seconds=float(p["ga_seconds"]),
            )
            parts.append(
                randomize_neutral(
                    net, conv, k, ga, tolerance=float(p["neutral_tolerance"]), seed=int(p["seed"]) + k
                )
            )
        samples = combine(*parts)
        leaves = demix(net, samples.windows, samples.activations, conv, crit, seed=int(p["seed"]))
        segs: list[Any] = []
        ndir = out / "neurons" / label
        images[k] = []
        for i, leaf in enumerate(leaves):
            full, full_st, lsegs = leaf_segments(
                leaf,
                channels,
                label,
                min_bits=float(p["min_bits"]),
                max_gap=int(p["max_gap"]),
                min_width=int(p["min_width"]),
            )
            segs += lsegs
            if i < int(p["max_leaf_logos"]):
                n_data = int((samples.source[leaf.indices] == "data").sum())
                title = (
                    f"{label} leaf {leaf.label}: {len(leaf.indices)} samples ({n_data} data), "
                    f"mean act. {leaf.mean_activation:.3g}; segments "
                    + ", ".join(f"{s.start}-{s.end}" for s in lsegs)
                )
                png = plot_kernel_logo(full, full_st, ndir / f"leaf_{leaf.label}.png", title=title)
                figures.append(png)
                images[k].append(str(png.relative_to(out)))
        if segs:
            write_meme([s.motif for s in segs], ndir / "segments.meme")
        seg_by_neuron[k] = segs
        segments_all += segs
        grammar_parts.append(grammar_table(label, segs))
        neuron_rows.append(
            {
                "neuron": k,
                "name": label,
                "max_activation": float(acts[:, k].max()) if len(acts) else 0.0,
                "n_data_windows": int((samples.source == "data").sum()),
                "n_ga_windows": int((samples.source == "ga").sum()),
                "ga_best_activation": float(ga_info.get("best", np.nan)),
                "n_leaves": len(leaves),
                "n_segments": len(segs),
                "seconds": round(time.perf_counter() - tn, 2),
            }
        )
    timings["neurons_s"] = time.perf_counter() - t

    # Tomtom of all segments
    t = time.perf_counter()
    tomtom_table = pd.DataFrame(columns=["query", "target", "target_name", "p_value", "q_value", "rank"])
    seg_motifs = [s.motif for s in segments_all]
    if db is not None and seg_motifs:
        tomtom_table = run_tomtom(
            seg_motifs,
            db,
            top_n=int(p["tomtom_top"]),
            database_file=motif_db if isinstance(motif_db, (str, Path)) else None,
        )
    timings["tomtom_s"] = time.perf_counter() - t
    best = (
        tomtom_table[(tomtom_table["rank"] == 1) & (tomtom_table["q_value"] < p["alpha"])]
        if len(tomtom_table)
        else tomtom_table
    )
    names = {str(r.query): str(r.target_name or r.target) for r in best.itertuples()}
    best_q = dict(zip(best["query"].astype(str), best["q_value"].astype(float), strict=True))

    segment_table = pd.DataFrame(
        [
            {
                "neuron": s.motif.id.split("_leaf")[0],
                "leaf": s.leaf,
                "segment": s.motif.id,
                "start": s.start,
                "end": s.end,
                "consensus": s.motif.consensus(),
                "structure_consensus": s.structure_motif.consensus() if s.structure_motif is not None else "",
                "n_samples": s.n_samples,
                "mean_bits": float(information_content(s.motif.pwm).mean()),
                "best_match": names.get(s.motif.id, ""),
                "best_q": best_q.get(s.motif.id, np.nan),
            }
            for s in segments_all
        ],
        columns=[
            "neuron", "leaf", "segment", "start", "end", "consensus", "structure_consensus",
            "n_samples", "mean_bits", "best_match", "best_q",
        ],
    )  # fmt: skip
    grammar = pd.concat(
        [grammar_table(f"{name}_n{k}", seg_by_neuron[k], names) for k in chosen], ignore_index=True
    )
    summary = (
        grammar.groupby(["neuron", "name_a", "name_b", "distance"], as_index=False)
        .agg(count=("count", "sum"))
        .sort_values(["neuron", "count"], ascending=[True, False])
        if len(grammar)
        else pd.DataFrame(columns=["neuron", "name_a", "name_b", "distance", "count"])
    )

    # neuron contribution (CombMotif) on the model's predictions
    t = time.perf_counter()
    contribution = neuron_contribution(
        acts.max(axis=2)[:, chosen],
        preds,
        threshold=float(p["fire_threshold"]),
        output_names=list(bundle.output_names),
        neuron_names=[f"{name}_n{k}" for k in chosen],
        alpha=float(p["alpha"]),
    )
    timings["contribution_s"] = time.perf_counter() - t

    # motif pairs of the grammar -> scramble test
    t = time.perf_counter()
    seg_index = {s.motif.id: s.motif for s in segments_all}
    batch: list[str] = []
    pairs: list[tuple[str, str, str, int, int, int, int]] = []
    for k in chosen:
        rows_k = grammar[grammar["neuron"] == f"{name}_n{k}"].sort_values("count", ascending=False)
        for r in rows_k.head(int(p["max_pairs"])).to_dict("records"):
            ma, mb = seg_index[str(r["motif_a"])], seg_index[str(r["motif_b"])]
            idx, sa, sb = _pair_sites(sequences, bundle, acts[:, k, :], conv, ma, mb, p)
            if len(idx) < int(p["min_pair_sequences"]):
                continue
            if len(idx) > int(p["max_pair_sequences"]):
                pick = np.sort(
                    np.random.default_rng(int(p["seed"]) + k).choice(
                        len(idx), int(p["max_pair_sequences"]), replace=False
                    )
                )
                idx, sa, sb = [idx[i] for i in pick], [sa[i] for i in pick], [sb[i] for i in pick]
            part = scrambled_batch(
                [sequences[i] for i in idx],
                sa,
                sb,
                n_shuffles=int(p["n_shuffles"]),
                method=str(p["scramble"]),
                seed=int(p["seed"]) + k,
            )
            pairs.append(
                (
                    f"{name}_n{k}",
                    str(r["motif_a"]),
                    str(r["motif_b"]),
                    int(r["distance"]),
                    len(idx),
                    len(batch),
                    len(part),
                )
            )
            batch += part
    pred = np.asarray(predict(bundle, batch), dtype=float) if batch else np.zeros((0, 1))
    results = []
    for _neuron, ma_id, mb_id, _dist, m, start, size in pairs:
        res = score_interaction(
            pred[start : start + size], m, n_shuffles=int(p["n_shuffles"]), output=int(p["output"])
        )
        res.update(motif_a=ma_id, motif_b=mb_id)
        results.append(res)
    interactions = interaction_table(results, alpha=float(p["alpha"]), min_relative=float(p["min_relative"]))
    interactions.insert(0, "neuron", [x[0] for x in pairs])
    interactions.insert(3, "name_a", [names.get(x[1], seg_index[x[1]].consensus()) for x in pairs])
    interactions.insert(4, "name_b", [names.get(x[2], seg_index[x[2]].consensus()) for x in pairs])
    interactions.insert(5, "distance", [x[3] for x in pairs])
    timings["interactions_s"] = time.perf_counter() - t

    # visualization by optimization: the neurons (receptive field) and the outputs (full input)
    t = time.perf_counter()
    optimized: dict[str, Any] = {}
    opt_images: dict[str, str] = {}
    if p["optimize"]:
        init = np.zeros((len(chosen), 2, n_ch, conv.receptive_field), np.float32)
        for j, k in enumerate(chosen):
            w = top_windows(X, acts, conv, k, n_windows=2).windows
            init[j, : len(w)] = w
        jobs: list[tuple[list[Node], int, np.ndarray]] = [
            ([Node("conv", conv.index, k) for k in chosen], conv.receptive_field, init),
            (
                [Node("output", 0, j) for j in range(bundle.n_outputs)],
                bundle.length,
                np.stack([X[np.argsort(-preds[:, j], kind="stable")[:2]] for j in range(bundle.n_outputs)]),
            ),
        ]
        for nodes, length, starts in jobs:
            got, node_images, pngs = _optimize_and_draw(
                net, nodes, channels, seq_letters, length, out, init=starts, p=p
            )
            optimized.update(got)
            opt_images.update(node_images)
            figures.extend(pngs)
    timings["optimize_s"] = time.perf_counter() - t

    neuron_table = pd.DataFrame(neuron_rows)
    if len(neuron_table):
        matched = segment_table[segment_table["best_match"] != ""]
        neuron_table["n_matched_segments"] = [
            int((matched["neuron"] == nm).sum()) for nm in neuron_table["name"]
        ]
        neuron_table["top_matches"] = [
            ", ".join(
                dict.fromkeys(
                    matched.loc[matched["neuron"] == nm].sort_values("best_q")["best_match"]
                ).__iter__()
            )
            for nm in neuron_table["name"]
        ]
        c0 = contribution[contribution["output"] == bundle.output_names[int(p["output"])]].set_index("neuron")
        neuron_table["cohens_d"] = [c0["cohens_d"].get(nm, np.nan) for nm in neuron_table["name"]]
        neuron_table["contribution"] = [c0["sign"].get(nm, "") for nm in neuron_table["name"]]

    # outputs
    artifacts: dict[str, Any] = {"figures": figures}
    if seg_motifs:
        artifacts["meme"] = write_meme(seg_motifs, out / "segments.meme")
        st = [s.structure_motif for s in segments_all if s.structure_motif is not None]
        if st:
            artifacts["meme_structure"] = write_meme(st, out / "segments_structure.meme")
    artifacts["neurons"] = write_table(neuron_table, out / "neurons.tsv")
    artifacts["segments"] = write_table(segment_table, out / "segments.tsv")
    artifacts["grammar"] = write_table(grammar, out / "grammar.tsv")
    artifacts["grammar_summary"] = write_table(summary, out / "grammar_summary.tsv")
    artifacts["tomtom"] = write_table(tomtom_table, out / "tomtom.tsv")
    artifacts["contribution"] = write_table(contribution, out / "contribution.tsv")
    artifacts["interactions"] = write_table(interactions, out / "interactions.tsv")
    notes.append(
        f"{name}: receptive field {conv.receptive_field} letters, {conv.jump} letters between positions"
        + (f", field of position 0 starts at {conv.offset} (padding)" if conv.offset else "")
        + f". Samples per neuron: up to {p['n_windows']} top data windows"
        + (
            f" + up to {p['ga_samples']} genetic-algorithm windows (neutral letters redrawn)"
            if p["ga"]
            else ""
        )
        + f"; k-means demixing per lower layer ({crit}); segments: corrected IC >= {p['min_bits']} bits,"
        f" width >= {p['min_width']}. Tomtom q < {p['alpha']} names a segment."
    )
    timings["total_s"] = time.perf_counter() - t0
    artifacts["report"] = write_layer_report(
        out,
        f"{name} neurons of {bundle.arch} model ({bundle.task}, {bundle.alphabet.name})",
        neuron_table,
        images=images,
        segments=segment_table,
        grammar=summary,
        interactions=interactions,
        contribution=contribution,
        optimized=opt_images,
        notes=notes,
        filename=f"{name}.html",
    )
    metrics = {
        "layer": conv.index,
        "receptive_field": conv.receptive_field,
        "n_neurons": len(chosen),
        "n_segments": len(segments_all),
        "n_neurons_with_segments": int((neuron_table["n_segments"] > 0).sum()) if len(neuron_table) else 0,
        "n_neurons_with_match": int((neuron_table["n_matched_segments"] > 0).sum())
        if len(neuron_table)
        else 0,
        "n_matched_segments": len(names),
        "n_pairs_tested": len(interactions),
        "n_synergistic": int((interactions["call"] == "synergistic").sum()) if len(interactions) else 0,
        "n_antagonistic": int((interactions["call"] == "antagonistic").sum()) if len(interactions) else 0,
        **{k: round(v, 3) for k, v in timings.items()},
    }
    artifacts["params"] = write_json(
        {
            **p,
            "layer": conv.name,
            "neurons": chosen,
            "criterion": crit,
            "motif_db": str(motif_db) if not isinstance(motif_db, (list, tuple)) else "custom",
        },
        out / "params.json",
    )
    artifacts["metrics"] = write_json(metrics, out / "metrics.json")
    artifacts.update(
        neuron_table=neuron_table,
        segment_table=segment_table,
        grammar_table=grammar,
        grammar_summary=summary,
        tomtom_table=tomtom_table,
        contribution_table=contribution,
        interaction_table=interactions,
        optimized=optimized,
        segments_by_neuron=seg_by_neuron,
        metrics=metrics,
    )
    return artifacts


def _optimize_and_draw(
    net: Any,
    nodes: list[Node],
    channels: list[tuple[str, str | None]],
    seq_letters: str,
    length: int,
    out: Path,
    *,
    init: np.ndarray | None,
    p: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, str], list[Path]]:
    """Optimise the input of ``nodes`` (one layer) and draw a logo per node under ``out/optimized``:
    ``({node: {motif, structure_motif, value}}, {node: png relative to out}, [png paths])``."""
    pwms, values = optimize_nodes(
        net,
        nodes,
        len(channels),
        length,
        steps=int(p["optimize_steps"]),
        restarts=int(p["optimize_restarts"]),
        init=init,
        seed=int(p["seed"]),
    )
    optimized: dict[str, Any] = {}
    images: dict[str, str] = {}
    pngs: list[Path] = []
    for nd, pwm, v in zip(nodes, pwms, values, strict=True):
        seq_pwm, st_pwm = _decode_pwm(pwm, channels)
        nid = nd.name.replace(":", "_")
        sm = Motif(f"optimized_{nid}", seq_pwm, seq_letters)
        stm = None if st_pwm is None else Motif(f"optimized_{nid}_structure", st_pwm[0], st_pwm[1])
        png = plot_kernel_logo(
            sm, stm, out / "optimized" / f"{nid}.png", title=f"{nd.name} optimised input (value {v:.3g})"
        )
        pngs.append(png)
        optimized[nd.name] = {"motif": sm, "structure_motif": stm, "value": float(v)}
        images[nd.name] = str(png.relative_to(out))
    return optimized, images, pngs


def visualize_nodes(
    bundle: Any,
    nodes: Sequence[str],
    out_dir: str | Path,
    *,
    member: int = 0,
    steps: int = DEEP_DEFAULTS["optimize_steps"],
    restarts: int = DEEP_DEFAULTS["optimize_restarts"],
    seed: int = 0,
) -> dict[str, Any]:
    """Visualization by optimization (pysster) of any nodes of a sequence model, without data.

    Parameters
    ----------
    bundle
        A trained :class:`~components.seqmodels.bundle.SequenceModel` (ensembles: ``member``).
    nodes
        Node names ``conv2:5`` (a neuron of conv layer 2, optimised over its receptive field),
        ``dense1:0`` (a unit of the first dense layer) or ``output:0`` (full-length input).
    out_dir
        Receives ``optimized/<node>.png`` (sequence logo; a structure logo below it for sequence x
        structure alphabets), ``optimized/nodes.tsv`` (node, value reached, consensus, logo) and
        ``optimized/optimized.meme``; written to a temporary folder first, then renamed (only
        ``optimized/`` of ``out_dir`` is replaced).

    Returns
    -------
    dict with ``table`` (the rows of nodes.tsv), ``folder`` and ``note`` (ensemble member note).
    """
    from components.motifs.pipeline import check_sequence_model

    check_sequence_model(bundle)
    if not nodes:
        raise InputError("no node to optimise: give e.g. conv2:5, dense1:0 or output:0")
    net, note = select_member(bundle.net, member)
    net = net.eval()
    parsed = [parse_node(net, spec) for spec in nodes]
    channels = [bundle.alphabet.decode(i) for i in range(bundle.alphabet.n_channels)]
    seq_letters = "".join(dict.fromkeys(bundle.alphabet.letters))
    p = {"optimize_steps": steps, "optimize_restarts": restarts, "seed": seed}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".optimized.", dir=out))
    rows: list[dict[str, Any]] = []
    motifs: list[Motif] = []
    try:
        groups: dict[tuple[str, int], list[Node]] = {}
        for nd in parsed:
            groups.setdefault((nd.kind, nd.layer), []).append(nd)
        for (kind, layer), group in groups.items():
            length = conv_layers(net)[layer - 1].receptive_field if kind == "conv" else bundle.length
            got, images, _ = _optimize_and_draw(
                net, group, channels, seq_letters, length, tmp, init=None, p=p
            )
            for name, item in got.items():
                motifs.append(item["motif"])
                consensus = "".join(seq_letters[i] for i in item["motif"].pwm.argmax(axis=1))
                rows.append(
                    {"node": name, "value": item["value"], "consensus": consensus, "logo": images[name]}
                )
        pd.DataFrame(rows).to_csv(tmp / "optimized" / "nodes.tsv", sep="\t", index=False)
        write_meme(motifs, tmp / "optimized" / "optimized.meme")
        final = out / "optimized"
        if final.exists():
            shutil.rmtree(final)
        (tmp / "optimized").rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"table": rows, "folder": str(out / "optimized"), "note": note}


def _decode_pwm(
    pwm: np.ndarray, channels: list[tuple[str, str | None]]
) -> tuple[np.ndarray, tuple[np.ndarray, str] | None]:
    """An extended-alphabet PWM -> sequence PWM and (structure PWM, structure letters)."""
    from components.motifs.demix import decode_counts

    seq, _, st, st_letters = decode_counts(pwm, channels)
    return seq, None if st is None else (st, str(st_letters))
