"""``interpret_model``: every motif analysis of a trained sequence model, written to one folder.

Outputs (fixed names, under ``out_dir``): ``motifs.meme`` (kernel sequence motifs),
``motifs_structure.meme`` (structure logos' matrices, sequence x structure models),
``modisco.meme`` (TF-MoDISco patterns, when run), ``tomtom.tsv``, ``kernels.tsv``,
``contribution.tsv``, ``interactions.tsv``, ``cooccurrence.png``, ``kernels/*.png``,
``report.html``, ``params.json``, ``metrics.json``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from components.common.errors import DynamotifWarning, InputError
from components.common.io import write_json, write_table
from components.motifs.attribution import attribution_scores, modisco_motifs, project_to_bases
from components.motifs.config import MotifConfig
from components.motifs.contribution import neuron_contribution
from components.motifs.interaction import interaction_table, score_interaction, scrambled_batch
from components.motifs.kernels import ablation_importance, class_groups, kernel_motifs
from components.motifs.meme import Motif, trim_motif, write_meme
from components.motifs.plots import plot_class_enrichment, plot_cooccurrence, plot_kernel_logo, plot_positions
from components.motifs.report import write_report
from components.motifs.tomtom import default_db_for, load_motif_db, run_tomtom

log = logging.getLogger(__name__)

__all__ = ["interpret_model", "check_sequence_model", "check_alphabet", "DEFAULTS"]

#: the default parameters (declared once, in :class:`components.motifs.config.MotifConfig`)
DEFAULTS: dict[str, Any] = MotifConfig().to_dict()


def check_sequence_model(bundle: Any) -> None:
    """Raise InputError unless ``bundle`` is a sequence-model bundle with ``net.first_conv``."""
    import torch

    net = getattr(bundle, "net", None)
    if net is None or not hasattr(bundle, "alphabet") or not hasattr(bundle, "length"):
        raise InputError(
            f"not a sequence model (got {type(bundle).__name__}): motifs need a seqmodels bundle"
        )
    if not isinstance(getattr(net, "first_conv", None), torch.nn.Conv1d):
        raise InputError("not a sequence model: its network has no first-layer Conv1d 'first_conv'")


def check_alphabet(bundle: Any, sequences: Sequence[str], *, source: str | None = None) -> None:
    """Raise InputError when the sequences use letters outside the model's alphabet (e.g. T vs U)."""
    allowed = set(bundle.alphabet.letters)
    seen: set[str] = set()
    for s in sequences:
        seen.update(s.upper())
    extra = seen - allowed - {"N"}
    if extra:
        hint = ""
        if "T" in extra and "U" in allowed:
            hint = " (DNA data for an RNA model: convert T to U)"
        elif "U" in extra and "T" in allowed:
            hint = " (RNA data for a DNA model: convert U to T)"
        raise InputError(
            f"data alphabet has letters {''.join(sorted(extra))} not in the model's {bundle.alphabet.name} "
            f"alphabet {bundle.alphabet.letters}{hint}",
            file=source,
        )


def _choose_db(motif_db: Any, letters: str, notes: list[str]) -> list[Motif] | None:
    if motif_db is not None:
        return load_motif_db(motif_db)
    try:
        name = default_db_for(letters)
        return load_motif_db(name)
    except InputError as exc:
        warnings.warn(f"Tomtom skipped: {exc.one_line()}", DynamotifWarning, stacklevel=3)
        notes.append(f"Tomtom skipped: {exc.one_line()}")
        return None


def _pair_interactions(
    bundle: Any,
    sequences: list[str],
    acts: np.ndarray,
    kernels: pd.DataFrame,
    k_len: int,
    predict_fn: Any,
    p: dict[str, Any],
) -> pd.DataFrame:
    rng = np.random.default_rng(p["seed"])
    maxact = acts.max(axis=2)
    argmax = acts.argmax(axis=2)
    top = kernels.sort_values("importance", ascending=False)["kernel"].head(p["pair_kernels"]).tolist()
    fires = {k: maxact[:, k] >= p["pair_fire_threshold"] * max(maxact[:, k].max(), 1e-12) for k in top}
    fires = {k: f & (maxact[:, k] > 0) for k, f in fires.items()}
    pairs: list[tuple[int, int, int, int, int]] = []
    batch: list[str] = []  # all pairs are predicted in ONE call (folding models start one process pool)
    for ii, ka in enumerate(top):
        for kb in top[ii + 1 :]:
            both = np.flatnonzero(fires[ka] & fires[kb])
            sa, sb = argmax[both, ka], argmax[both, kb]
            ok = both[np.abs(sa - sb) >= k_len]  # sites must not overlap
            if len(ok) < p["min_pair_sequences"]:
                continue
            if len(ok) > p["max_pair_sequences"]:
                ok = np.sort(rng.choice(ok, p["max_pair_sequences"], replace=False))
            part = scrambled_batch(
                [sequences[i] for i in ok],
                [(int(argmax[i, ka]), int(argmax[i, ka]) + k_len) for i in ok],
                [(int(argmax[i, kb]), int(argmax[i, kb]) + k_len) for i in ok],
                n_shuffles=p["n_shuffles"],
                seed=p["seed"] + 1000 * ka + kb,
            )
            pairs.append((ka, kb, len(ok), len(batch), len(part)))
            batch += part
    pred = np.asarray(predict_fn(batch), dtype=float) if batch else np.zeros((0, 1))
    results = []
    for ka, kb, m, start, size in pairs:
        res = score_interaction(pred[start : start + size], m, n_shuffles=p["n_shuffles"], output=p["output"])
        res.update(motif_a=f"kernel_{ka}", motif_b=f"kernel_{kb}")
        results.append(res)
    return interaction_table(results, alpha=p["alpha"], min_relative=p["min_relative"])


def interpret_model(
    bundle: Any,
    sequences: Sequence[str],
    labels: np.ndarray | None,
    out_dir: str | Path,
    motif_db: str | Path | Sequence[Motif] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Interpret a trained sequence model (a ``components.seqmodels`` :class:`SequenceModel`).

    Parameters
    ----------
    bundle
        The trained model bundle (``net.first_conv``, alphabet, task, output names).
    sequences
        Sequences to interpret (the training or test set).
    labels
        ``(n, outputs)`` targets as in ``SequenceData.y`` (classes for thresholds/enrichment), or None.
    out_dir
        Output folder (created).
    motif_db
        ``"attract"``, ``"jaspar"``, a MEME file, a list of :class:`Motif`, or None (ATtRACT for RNA,
        JASPAR for DNA when pyjaspar is installed, otherwise Tomtom is skipped with a warning).
    **params
        Overrides of :data:`DEFAULTS`.

    Returns
    -------
    dict
        Paths (``meme``, ``tomtom``, ``report``, ``kernels``, ``contribution``, ``interactions``,
        ``heatmap``, ``params``, ``metrics``, ``figures``: list of PNGs) and tables (``kernel_table``,
        ``tomtom_table``, ``contribution_table``, ``interaction_table``, ``metrics``: dict).
    """
    from components.seqmodels.bundle import encode, first_layer_activations, predict, predict_encoded

    p = MotifConfig.from_mapping(params).to_dict()
    check_sequence_model(bundle)
    sequences = [s.upper() for s in sequences]
    if not sequences:
        raise InputError("no sequences to interpret")
    check_alphabet(bundle, sequences)
    timings: dict[str, float] = {}
    notes: list[str] = []
    members = getattr(bundle.net, "members", None)
    if members is not None:
        # a seed ensemble: kernels, activations, predictions and attributions of its FIRST member
        seeds = bundle.extra.get("member_seeds") or ["?"]
        bundle = dataclasses.replace(bundle, net=members[0], params={**bundle.params, "ensemble": 1})
        msg = f"Ensemble of {len(members)} models: the first member (seed {seeds[0]}) is interpreted."
        log.info(msg)
        notes.append(msg)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    # load the motif database first: a bad file fails before any work is done
    seq_letters = "".join(dict.fromkeys(bundle.alphabet.letters))
    db = _choose_db(motif_db, seq_letters, notes)
    timings["load_db_s"] = time.perf_counter() - t0
    out = Path(out_dir)
    (out / "kernels").mkdir(parents=True, exist_ok=True)

    X = encode(bundle, sequences).numpy()
    acts = first_layer_activations(bundle, X)
    preds = predict_encoded(bundle, __import__("torch").from_numpy(X))
    timings["encode_activations_s"] = time.perf_counter() - t0
    n = len(sequences)
    k_len = X.shape[2] - acts.shape[2] + 1
    channels = [bundle.alphabet.decode(i) for i in range(bundle.alphabet.n_channels)]
    y = None if labels is None else np.asarray(labels)
    if y is not None and len(y) != n:
        raise InputError(f"labels have {len(y)} rows but there are {n} sequences")
    class_names = list(bundle.class_names) if bundle.class_names else None
    if bundle.task == "binary" and class_names and len(class_names) == 2:
        class_names = [class_names[1], class_names[0]]  # y == 0 -> negative, y == 1 -> positive
    groups = class_groups(y, bundle.task, n, class_names)

    t = time.perf_counter()
    kms = kernel_motifs(acts, X, groups, channels, max_windows=p["max_windows"], seed=p["seed"])
    seq_motifs = [km.sequence_motif for km in kms]
    meme_path = write_meme(seq_motifs, out / "motifs.meme")
    artifacts: dict[str, Any] = {"meme": meme_path, "figures": []}
    if kms and kms[0].structure_motif is not None:
        structure_motifs = [km.structure_motif for km in kms if km.structure_motif is not None]
        artifacts["meme_structure"] = write_meme(structure_motifs, out / "motifs_structure.meme")
    # Tomtom queries: kernel motifs trimmed of edge columns that only reflect the data's composition
    joined = "".join(sequences)
    background = np.array([joined.count(c) for c in seq_letters], dtype=float) + 1.0
    background /= background.sum()
    core_motifs = [trim_motif(m, background, min_bits=p["trim_bits"]) for m in seq_motifs]
    activation_score = np.array([km.importance for km in kms])
    if p["importance"] == "ablation":
        rng = np.random.default_rng(p["seed"])
        m_imp = min(n, p["importance_sequences"])
        sub = np.sort(rng.choice(n, m_imp, replace=False)) if m_imp < n else np.arange(n)
        ti = time.perf_counter()
        importance = ablation_importance(bundle, X[sub], acts[sub], None if y is None else y[sub])
        timings["importance_s"] = time.perf_counter() - ti  # part of kernel_motifs_s
    else:
        importance = activation_score
    notes.append(
        "Kernel importance: "
        + (
            f"increase of the model's loss on {len(sub)} sequences when the kernel is mean-ablated."
            if p["importance"] == "ablation"
            else "largest minus smallest class mean of the maximum activation (pysster)."
        )
        + f" Tomtom queries are the kernel motifs trimmed of edge columns under {p['trim_bits']} bits"
        " relative to the data's letter frequencies (column 'core')."
    )
    kernel_table = pd.DataFrame(
        {
            "kernel": [km.kernel for km in kms],
            "motif_id": [km.sequence_motif.id for km in kms],
            "consensus": [km.sequence_motif.consensus() for km in kms],
            "core": [m.consensus() for m in core_motifs],
            "importance": importance,
            "activation_score": activation_score,
            "threshold": [km.threshold for km in kms],
            "top_class": [km.top_class for km in kms],
            "n_windows": [km.n_windows for km in kms],
            "mean_max_activation": acts.max(axis=2).mean(axis=0),
        }
    )
    timings["kernel_motifs_s"] = time.perf_counter() - t

    t = time.perf_counter()
    images: dict[int, dict[str, str]] = {}
    for km in kms:
        title = f"kernel {km.kernel} (importance {importance[km.kernel]:.3g}, n={km.n_windows})"
        files = {
            "logo": plot_kernel_logo(
                km.sequence_motif,
                km.structure_motif,
                out / "kernels" / f"motif_kernel_{km.kernel}.png",
                title=title,
            ),
            "positions": plot_positions(
                km.positions_by_class,
                km.mean_activation,
                out / "kernels" / f"position_kernel_{km.kernel}.png",
                title=f"kernel {km.kernel}",
            ),
            "classes": plot_class_enrichment(
                km.max_by_class,
                out / "kernels" / f"activations_kernel_{km.kernel}.png",
                title=f"kernel {km.kernel}",
            ),
        }
        artifacts["figures"] += list(files.values())
        images[km.kernel] = {k: str(v.relative_to(out)) for k, v in files.items()}
    group_of = np.full(n, "", dtype=object)
    for g, idx in groups.items():
        group_of[idx] = g
    heatmap, _, _ = plot_cooccurrence(
        acts.max(axis=2),
        out / "cooccurrence.png",
        group_of=group_of if len(groups) > 1 else None,
        kernel_names=[f"kernel_{k}" for k in range(acts.shape[1])],
        max_sequences=p["heatmap_sequences"],
        seed=p["seed"],
    )
    artifacts["heatmap"] = heatmap
    artifacts["figures"].append(heatmap)
    timings["plots_s"] = time.perf_counter() - t

    t = time.perf_counter()
    tomtom_table = pd.DataFrame(columns=["query", "target", "target_name", "p_value", "q_value", "rank"])
    if db is not None:
        tomtom_table = run_tomtom(
            core_motifs,
            db,
            top_n=p["tomtom_top"],
            database_file=motif_db if isinstance(motif_db, (str, Path)) else None,
        )
    timings["tomtom_s"] = time.perf_counter() - t

    t = time.perf_counter()
    out_names = list(bundle.output_names)
    contribution = neuron_contribution(
        acts.max(axis=2),
        preds,
        threshold=p["fire_threshold"],
        output_names=out_names,
        neuron_names=[f"kernel_{k}" for k in range(acts.shape[1])],
        alpha=p["alpha"],
    )
    timings["contribution_s"] = time.perf_counter() - t

    t = time.perf_counter()

    def predict_fn(seqs: list[str]) -> np.ndarray:
        return predict(bundle, seqs)

    interactions = _pair_interactions(bundle, sequences, acts, kernel_table, k_len, predict_fn, p)
    timings["interactions_s"] = time.perf_counter() - t

    # attribution motifs
    t = time.perf_counter()
    attribution_motifs: list[Motif] = []
    if p["attribution"] != "none":
        rng = np.random.default_rng(p["seed"])
        m = min(n, max(p["attribution_sequences"], p["modisco_sequences"] if p["modisco"] else 0))
        idx = np.sort(rng.choice(n, m, replace=False)) if m < n else np.arange(n)
        hyp, ainfo = attribution_scores(
            p["attribution"], bundle.net, X[idx], output=p["output"], seed=p["seed"]
        )
        hyp_b, letters = project_to_bases(hyp, channels)
        oh_b, _ = project_to_bases(X[idx], channels)
        contrib = (hyp_b * oh_b).sum(axis=1)  # (m, L)
        np.savez_compressed(
            out / "attributions.npz", index=idx, hypothetical=hyp_b.astype(np.float16), letters=letters
        )
        artifacts["attributions"] = out / "attributions.npz"
        method = ainfo["method"]
        if method == "expected_gradients":
            method += " (DeepLIFT-SHAP fallback: this network has no DeepLIFT-ready form, e.g. a GRU)"
        extra = (
            f"; {ainfo['n_refs']} dinucleotide-shuffled references per sequence, summation-to-delta error "
            f"{100 * ainfo['rel_delta']:.1f}% of |f(x) - f(ref)|"
            if "n_refs" in ainfo
            else ""
        )
        notes.append(
            f"Attributions ({method}) on {m} sequences{extra}; mean |contribution| per position "
            f"{float(np.abs(contrib).mean()):.3g}."
        )
        if p["modisco"] and len(letters) == 4:
            tm = time.perf_counter()
            attribution_motifs, info = modisco_motifs(oh_b, hyp_b, letters)
            timings["modisco_s"] = time.perf_counter() - tm
            if attribution_motifs:
                artifacts["modisco_meme"] = write_meme(attribution_motifs, out / "modisco.meme")
                if db is not None:
                    tomtom_table = pd.concat(
                        [tomtom_table, run_tomtom(attribution_motifs, db, top_n=p["tomtom_top"])],
                        ignore_index=True,
                    )
            notes.append(f"TF-MoDISco: {len(attribution_motifs)} patterns; seqlets per pattern {info}.")
    timings["attribution_s"] = time.perf_counter() - t

    artifacts["tomtom"] = write_table(tomtom_table, out / "tomtom.tsv")
    artifacts["kernels"] = write_table(kernel_table, out / "kernels.tsv")
    artifacts["contribution"] = write_table(contribution, out / "contribution.tsv")
    artifacts["interactions"] = write_table(interactions, out / "interactions.tsv")
    sections = {
        "Neuron contribution (CombMotif)": contribution.sort_values("q_value"),
        "Motif-pair interactions (scramble test)": interactions,
    }
    if attribution_motifs:
        am = pd.DataFrame(
            {
                "motif": [mm.id for mm in attribution_motifs],
                "consensus": [mm.consensus() for mm in attribution_motifs],
                "n_seqlets": [mm.nsites for mm in attribution_motifs],
            }
        )
        sections["TF-MoDISco patterns"] = am
    t = time.perf_counter()
    artifacts["report"] = write_report(
        out,
        kernel_table,
        title=f"Motifs of {bundle.arch} model ({bundle.task}, {bundle.alphabet.name})",
        images=images,
        tomtom=tomtom_table,
        sections=sections,
        figures={"Kernel co-occurrence": "cooccurrence.png"},
        notes=notes,
    )
    timings["report_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    timings["cpu_total_s"] = time.process_time() - cpu0  # all threads of this process
    metrics = {
        "n_sequences": n,
        "n_kernels": int(acts.shape[1]),
        "n_significant_tomtom_kernels": int(
            tomtom_table[(tomtom_table["rank"] == 1) & (tomtom_table["q_value"] < p["alpha"])]["query"]
            .str.startswith("kernel_")
            .sum()
        )
        if len(tomtom_table)
        else 0,
        "n_enhancing": int((contribution["sign"] == "enhancing").sum()),
        "n_repressing": int((contribution["sign"] == "repressing").sum()),
        "n_pairs_tested": len(interactions),
        "n_synergistic": int((interactions["call"] == "synergistic").sum()) if len(interactions) else 0,
        "n_antagonistic": int((interactions["call"] == "antagonistic").sum()) if len(interactions) else 0,
        **{k: round(v, 3) for k, v in timings.items()},
    }
    artifacts["params"] = write_json(
        {**p, "motif_db": str(motif_db) if not isinstance(motif_db, (list, tuple)) else "custom"},
        out / "params.json",
    )
    artifacts["metrics"] = write_json(metrics, out / "metrics.json")
    artifacts.update(
        kernel_table=kernel_table,
        tomtom_table=tomtom_table,
        contribution_table=contribution,
        interaction_table=interactions,
        metrics=metrics,
        kernel_motifs=kms,
        attribution_motifs=attribution_motifs,
    )
    return artifacts
