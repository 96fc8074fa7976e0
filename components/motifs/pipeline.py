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

__all__ = [
    "interpret_model",
    "check_sequence_model",
    "check_alphabet",
    "target_class",
    "rank_kernels",
    "prepare_inputs",
    "kernel_step",
    "figure_step",
    "tomtom_step",
    "contribution_step",
    "interaction_step",
    "attribution_step",
    "DEFAULTS",
    "Inputs",
]

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


@dataclasses.dataclass
class Inputs:
    """What every step reads: the (first-member) bundle, one-hot inputs, activations, classes."""

    bundle: Any
    sequences: list[str]
    X: np.ndarray  # (n, channels, L)
    acts: np.ndarray  # (n, kernels, L_out) first-layer activations
    preds: np.ndarray  # (n, outputs)
    y: np.ndarray | None
    groups: dict[str, np.ndarray]
    channels: list[Any]
    k_len: int
    letters: str  # the sequence letters
    target: str | None  # the class whose motifs the report ranks first

    @property
    def n(self) -> int:
        return len(self.sequences)


def target_class(bundle: Any, groups: dict[str, np.ndarray]) -> str | None:
    """The class whose kernels the report ranks first: the positive class (binary), the high
    tercile (regression); None when every class is a target (multiclass, multilabel, no labels)."""
    if bundle.task == "binary" and bundle.class_names:
        return str(bundle.class_names[0]) if str(bundle.class_names[0]) in groups else None
    if bundle.task == "regression" and "high" in groups:
        return "high"
    return None


def prepare_inputs(
    bundle: Any, sequences: Sequence[str], labels: np.ndarray | None, notes: list[str]
) -> Inputs:
    """Validate, take an ensemble's first member, encode, compute activations and predictions."""
    import torch

    from components.seqmodels.bundle import encode, first_layer_activations, predict_encoded

    check_sequence_model(bundle)
    seqs = [s.upper() for s in sequences]
    if not seqs:
        raise InputError("no sequences to interpret")
    check_alphabet(bundle, seqs)
    members = getattr(bundle.net, "members", None)
    if members is not None:
        # a seed ensemble: kernels, activations, predictions and attributions of its FIRST member
        seeds = bundle.extra.get("member_seeds") or ["?"]
        bundle = dataclasses.replace(bundle, net=members[0], params={**bundle.params, "ensemble": 1})
        msg = f"Ensemble of {len(members)} models: the first member (seed {seeds[0]}) is interpreted."
        log.info(msg)
        notes.append(msg)
    X = encode(bundle, seqs).numpy()
    acts = first_layer_activations(bundle, X)
    preds = predict_encoded(bundle, torch.from_numpy(X))
    y = None if labels is None else np.asarray(labels)
    if y is not None and len(y) != len(seqs):
        raise InputError(f"labels have {len(y)} rows but there are {len(seqs)} sequences")
    class_names = list(bundle.class_names) if bundle.class_names else None
    if bundle.task == "binary" and class_names and len(class_names) == 2:
        class_names = [class_names[1], class_names[0]]  # y == 0 -> negative, y == 1 -> positive
    groups = class_groups(y, bundle.task, len(seqs), class_names)
    return Inputs(
        bundle=bundle,
        sequences=seqs,
        X=X,
        acts=acts,
        preds=preds,
        y=y,
        groups=groups,
        channels=[bundle.alphabet.decode(i) for i in range(bundle.alphabet.n_channels)],
        k_len=X.shape[2] - acts.shape[2] + 1,
        letters="".join(dict.fromkeys(bundle.alphabet.letters)),
        target=target_class(bundle, groups),
    )


def kernel_step(
    inp: Inputs, p: dict[str, Any], out: Path, notes: list[str], timings: dict[str, float]
) -> dict:
    """Kernel motifs (MEME), their importance and the kernel table, ranked target class first."""
    kms = kernel_motifs(
        inp.acts, inp.X, inp.groups, inp.channels, max_windows=p["max_windows"], seed=p["seed"]
    )
    seq_motifs = [km.sequence_motif for km in kms]
    files: dict[str, Any] = {"meme": write_meme(seq_motifs, out / "motifs.meme")}
    if kms and kms[0].structure_motif is not None:
        structure_motifs = [km.structure_motif for km in kms if km.structure_motif is not None]
        files["meme_structure"] = write_meme(structure_motifs, out / "motifs_structure.meme")
    # Tomtom queries: kernel motifs trimmed of edge columns that only reflect the data's composition
    joined = "".join(inp.sequences)
    background = np.array([joined.count(c) for c in inp.letters], dtype=float) + 1.0
    core_motifs = [trim_motif(m, background / background.sum(), min_bits=p["trim_bits"]) for m in seq_motifs]
    activation_score = np.array([km.importance for km in kms])
    importance = activation_score
    how = "largest minus smallest class mean of the maximum activation (pysster)."
    if p["importance"] == "ablation":
        rng = np.random.default_rng(p["seed"])
        m_imp = min(inp.n, p["importance_sequences"])
        sub = np.sort(rng.choice(inp.n, m_imp, replace=False)) if m_imp < inp.n else np.arange(inp.n)
        ti = time.perf_counter()
        importance = ablation_importance(
            inp.bundle, inp.X[sub], inp.acts[sub], None if inp.y is None else inp.y[sub]
        )
        timings["importance_s"] = time.perf_counter() - ti  # part of kernel_motifs_s
        how = f"increase of the model's loss on {len(sub)} sequences when the kernel is mean-ablated."
    notes.append(
        f"Kernel importance: {how} Tomtom queries are the kernel motifs trimmed of edge columns under "
        f"{p['trim_bits']} bits relative to the data's letter frequencies (column 'core')."
    )
    favours = [km.top_class for km in kms]
    table = pd.DataFrame(
        {
            "kernel": [km.kernel for km in kms],
            "motif_id": [km.sequence_motif.id for km in kms],
            "consensus": [km.sequence_motif.consensus() for km in kms],
            "core": [m.consensus() for m in core_motifs],
            "importance": importance,
            "activation_score": activation_score,
            "threshold": [km.threshold for km in kms],
            "favours": favours,
            "top_class": favours,
            "n_windows": [km.n_windows for km in kms],
            "mean_max_activation": inp.acts.max(axis=2).mean(axis=0),
        }
    )
    table = rank_kernels(table, inp.target, notes)
    return {"kernel_motifs": kms, "kernel_table": table, "core_motifs": core_motifs, **files}


def rank_kernels(table: pd.DataFrame, target: str | None, notes: list[str]) -> pd.DataFrame:
    """Rank kernels: those favouring ``target`` first, each block by importance; column ``rank``.

    Kernels enriched in another class (the background of a binary model) are marked in
    ``favours_target`` and come after the target's kernels, so a GC-rich background kernel never
    reads as the protein's motif.
    """
    t = table.copy()
    t["favours_target"] = (t["favours"] == target) if target is not None else True
    t = t.sort_values(["favours_target", "importance"], ascending=[False, False], kind="stable")
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    if target is not None:
        n_bg = int((~t["favours_target"]).sum())
        notes.append(
            f"Kernels favouring the target class {target!r} (highest mean activation there) are ranked first; "
            f"{n_bg} kernel(s) favour another class (background-enriched) and are listed after them, marked."
        )
    return t.reset_index(drop=True)


def figure_step(inp: Inputs, kernels: dict[str, Any], p: dict[str, Any], out: Path) -> dict[str, Any]:
    """Logo, positional and class-enrichment plots per kernel; the co-occurrence heatmap."""
    importance = dict(
        zip(kernels["kernel_table"]["kernel"], kernels["kernel_table"]["importance"], strict=True)
    )
    images: dict[int, dict[str, str]] = {}
    figures: list[Path] = []
    for km in kernels["kernel_motifs"]:
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
        figures += list(files.values())
        images[km.kernel] = {k: str(v.relative_to(out)) for k, v in files.items()}
    group_of = np.full(inp.n, "", dtype=object)
    for g, idx in inp.groups.items():
        group_of[idx] = g
    heatmap, _, _ = plot_cooccurrence(
        inp.acts.max(axis=2),
        out / "cooccurrence.png",
        group_of=group_of if len(inp.groups) > 1 else None,
        kernel_names=[f"kernel_{k}" for k in range(inp.acts.shape[1])],
        max_sequences=p["heatmap_sequences"],
        seed=p["seed"],
    )
    return {"images": images, "figures": [*figures, heatmap], "heatmap": heatmap}


def tomtom_step(
    core_motifs: list[Motif], db: list[Motif] | None, motif_db: Any, p: dict[str, Any]
) -> pd.DataFrame:
    """Tomtom of the trimmed kernel motifs against the database (an empty table without one)."""
    if db is None:
        return pd.DataFrame(columns=["query", "target", "target_name", "p_value", "q_value", "rank"])
    return run_tomtom(
        core_motifs,
        db,
        top_n=p["tomtom_top"],
        database_file=motif_db if isinstance(motif_db, (str, Path)) else None,
    )


def contribution_step(inp: Inputs, p: dict[str, Any]) -> pd.DataFrame:
    """CombMotif's neuron contribution of each kernel to each output."""
    return neuron_contribution(
        inp.acts.max(axis=2),
        inp.preds,
        threshold=p["fire_threshold"],
        output_names=list(inp.bundle.output_names),
        neuron_names=[f"kernel_{k}" for k in range(inp.acts.shape[1])],
        alpha=p["alpha"],
    )


def interaction_step(inp: Inputs, kernel_table: pd.DataFrame, p: dict[str, Any]) -> pd.DataFrame:
    """Motif-pair interactions of the most important kernels (scramble test)."""
    from components.seqmodels.bundle import predict

    def predict_fn(seqs: list[str]) -> np.ndarray:
        return predict(inp.bundle, seqs)

    return _pair_interactions(inp.bundle, inp.sequences, inp.acts, kernel_table, inp.k_len, predict_fn, p)


def attribution_step(
    inp: Inputs, p: dict[str, Any], out: Path, notes: list[str], timings: dict[str, float]
) -> dict[str, Any]:
    """Attribution scores (``attributions.npz``) and, with ``modisco``, TF-MoDISco patterns."""
    result: dict[str, Any] = {"attribution_motifs": []}
    if p["attribution"] == "none":
        return result
    rng = np.random.default_rng(p["seed"])
    m = min(inp.n, max(p["attribution_sequences"], p["modisco_sequences"] if p["modisco"] else 0))
    idx = np.sort(rng.choice(inp.n, m, replace=False)) if m < inp.n else np.arange(inp.n)
    hyp, ainfo = attribution_scores(
        p["attribution"], inp.bundle.net, inp.X[idx], output=p["output"], seed=p["seed"]
    )
    hyp_b, letters = project_to_bases(hyp, inp.channels)
    oh_b, _ = project_to_bases(inp.X[idx], inp.channels)
    contrib = (hyp_b * oh_b).sum(axis=1)  # (m, L)
    np.savez_compressed(
        out / "attributions.npz", index=idx, hypothetical=hyp_b.astype(np.float16), letters=letters
    )
    result["attributions"] = out / "attributions.npz"
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
        motifs, info = modisco_motifs(oh_b, hyp_b, letters)
        timings["modisco_s"] = time.perf_counter() - tm
        result["attribution_motifs"] = motifs
        if motifs:
            result["modisco_meme"] = write_meme(motifs, out / "modisco.meme")
        notes.append(f"TF-MoDISco: {len(motifs)} patterns; seqlets per pattern {info}.")
    return result


def _metrics(
    inp: Inputs,
    tomtom: pd.DataFrame,
    contribution: pd.DataFrame,
    interactions: pd.DataFrame,
    kernel_table: pd.DataFrame,
    p: dict[str, Any],
    timings: dict[str, float],
) -> dict[str, Any]:
    significant = (
        int(
            tomtom[(tomtom["rank"] == 1) & (tomtom["q_value"] < p["alpha"])]["query"]
            .str.startswith("kernel_")
            .sum()
        )
        if len(tomtom)
        else 0
    )
    calls = interactions["call"] if len(interactions) else pd.Series([], dtype=str)
    return {
        "n_sequences": inp.n,
        "n_kernels": int(inp.acts.shape[1]),
        "n_target_kernels": int(kernel_table["favours_target"].sum()),
        "n_significant_tomtom_kernels": significant,
        "n_enhancing": int((contribution["sign"] == "enhancing").sum()),
        "n_repressing": int((contribution["sign"] == "repressing").sum()),
        "n_pairs_tested": len(interactions),
        "n_synergistic": int((calls == "synergistic").sum()),
        "n_antagonistic": int((calls == "antagonistic").sum()),
        **{k: round(v, 3) for k, v in timings.items()},
    }


def _report(
    inp: Inputs,
    out: Path,
    kernels: dict[str, Any],
    figs: dict[str, Any],
    tomtom: pd.DataFrame,
    contribution: pd.DataFrame,
    interactions: pd.DataFrame,
    attribution_motifs: list[Motif],
    notes: list[str],
) -> Path:
    sections = {
        "Neuron contribution (CombMotif)": contribution.sort_values("q_value"),
        "Motif-pair interactions (scramble test)": interactions,
    }
    if attribution_motifs:
        sections["TF-MoDISco patterns"] = pd.DataFrame(
            {
                "motif": [mm.id for mm in attribution_motifs],
                "consensus": [mm.consensus() for mm in attribution_motifs],
                "n_seqlets": [mm.nsites for mm in attribution_motifs],
            }
        )
    b = inp.bundle
    return write_report(
        out,
        kernels["kernel_table"],
        title=f"Motifs of {b.arch} model ({b.task}, {b.alphabet.name})",
        images=figs["images"],
        tomtom=tomtom,
        sections=sections,
        figures={"Kernel co-occurrence": "cooccurrence.png"},
        notes=notes,
        target=inp.target,
    )


def interpret_model(
    bundle: Any,
    sequences: Sequence[str],
    labels: np.ndarray | None,
    out_dir: str | Path,
    motif_db: str | Path | Sequence[Motif] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """Interpret a trained sequence model (a ``components.seqmodels`` :class:`SequenceModel`).

    Steps: :func:`prepare_inputs` -> :func:`kernel_step` (kernel motifs ranked target class first)
    -> :func:`figure_step` -> :func:`tomtom_step` -> :func:`contribution_step` ->
    :func:`interaction_step` -> :func:`attribution_step` -> report, tables, ``params.json``,
    ``metrics.json``.

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
        Overrides of :class:`~components.motifs.config.MotifConfig` (unknown keys are an error).

    Returns
    -------
    dict
        Paths (``meme``, ``tomtom``, ``report``, ``kernels``, ``contribution``, ``interactions``,
        ``heatmap``, ``params``, ``metrics``, ``figures``: list of PNGs) and tables (``kernel_table``,
        ``tomtom_table``, ``contribution_table``, ``interaction_table``, ``metrics``: dict).
    """
    p = MotifConfig.from_mapping(params).to_dict()
    timings: dict[str, float] = {}
    notes: list[str] = []
    t0, cpu0 = time.perf_counter(), time.process_time()
    check_sequence_model(bundle)
    # load the motif database first: a bad file fails before any work is done
    db = _choose_db(motif_db, "".join(dict.fromkeys(bundle.alphabet.letters)), notes)
    timings["load_db_s"] = time.perf_counter() - t0
    inp = prepare_inputs(bundle, sequences, labels, notes)
    out = Path(out_dir)
    (out / "kernels").mkdir(parents=True, exist_ok=True)
    timings["encode_activations_s"] = time.perf_counter() - t0

    def timed(name: str, fn: Any, *args: Any) -> Any:
        t = time.perf_counter()
        value = fn(*args)
        timings[name] = time.perf_counter() - t
        return value

    kernels = timed("kernel_motifs_s", kernel_step, inp, p, out, notes, timings)
    figs = timed("plots_s", figure_step, inp, kernels, p, out)
    tomtom = timed("tomtom_s", tomtom_step, kernels["core_motifs"], db, motif_db, p)
    contribution = timed("contribution_s", contribution_step, inp, p)
    interactions = timed("interactions_s", interaction_step, inp, kernels["kernel_table"], p)
    attr = timed("attribution_s", attribution_step, inp, p, out, notes, timings)
    if attr["attribution_motifs"] and db is not None:
        extra = run_tomtom(attr["attribution_motifs"], db, top_n=p["tomtom_top"])
        tomtom = pd.concat([tomtom, extra], ignore_index=True)
    artifacts: dict[str, Any] = {
        k: v
        for k, v in {**kernels, **attr}.items()
        if k in ("meme", "meme_structure", "modisco_meme", "attributions")
    }
    artifacts |= {"figures": figs["figures"], "heatmap": figs["heatmap"]}
    artifacts["tomtom"] = write_table(tomtom, out / "tomtom.tsv")
    artifacts["kernels"] = write_table(kernels["kernel_table"], out / "kernels.tsv")
    artifacts["contribution"] = write_table(contribution, out / "contribution.tsv")
    artifacts["interactions"] = write_table(interactions, out / "interactions.tsv")
    artifacts["report"] = timed(
        "report_s",
        _report,
        inp,
        out,
        kernels,
        figs,
        tomtom,
        contribution,
        interactions,
        attr["attribution_motifs"],
        notes,
    )
    timings["total_s"] = time.perf_counter() - t0
    timings["cpu_total_s"] = time.process_time() - cpu0  # all threads of this process
    metrics = _metrics(inp, tomtom, contribution, interactions, kernels["kernel_table"], p, timings)
    db_name = str(motif_db) if not isinstance(motif_db, (list, tuple)) else "custom"
    artifacts["params"] = write_json({**p, "motif_db": db_name}, out / "params.json")
    artifacts["metrics"] = write_json(metrics, out / "metrics.json")
    artifacts.update(
        kernel_table=kernels["kernel_table"],
        tomtom_table=tomtom,
        contribution_table=contribution,
        interaction_table=interactions,
        metrics=metrics,
        kernel_motifs=kernels["kernel_motifs"],
        attribution_motifs=attr["attribution_motifs"],
        target_class=inp.target,
    )
    return artifacts
