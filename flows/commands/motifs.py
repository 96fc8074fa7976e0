"""``dynamotif motifs``: interpret a registered sequence model (kernel motifs, Tomtom, interactions)."""

from __future__ import annotations

from pathlib import Path

import typer

from flows.commands import ListConventionCommand


def register(app: typer.Typer) -> None:
    @app.command("motifs", cls=ListConventionCommand)
    def motifs(
        model: str = typer.Option(
            ..., "--model", help="models:/NAME@champion, models:/NAME/3, runs:/..., or a local bundle folder."
        ),
        data: list[str] | None = typer.Option(
            None,
            "--data",
            metavar="FILE",
            help="FASTA file(s) (NAME=FILE per class; several values or a repeated flag) or tables of "
            "sequences to interpret.",
        ),
        motif_db: str | None = typer.Option(
            None, "--motif-db", help="MEME file, 'attract' (RNA, bundled) or 'jaspar' (DNA, needs pyjaspar)."
        ),
        out_dir: Path = typer.Option(Path("motifs_out"), "--out-dir", help="Output folder."),
        attribution: str = typer.Option(
            "deeplift_shap", "--attribution", help="deeplift_shap (default) | ig | ism | none."
        ),
        modisco: bool = typer.Option(
            False, "--modisco/--no-modisco", help="Run TF-MoDISco on the attributions."
        ),
        no_log: bool = typer.Option(
            False, "--no-log", help="Do not log the outputs to the model's MLflow run."
        ),
        seed: int = typer.Option(0, "--seed"),
        layer: str | None = typer.Option(
            None,
            "--layer",
            help="Deep-neuron motifs of conv layer N (1 = first conv, or convN) instead of the first-layer "
            "kernel motifs: sampling, demixing, grammar, pair tests, optimised inputs; page convN.html.",
        ),
        neurons: list[int] | None = typer.Option(
            None,
            "--neurons",
            help="With --layer: neuron indices (0-based; several values or a repeated flag); default all.",
        ),
        member: int = typer.Option(0, "--member", help="With --layer: the ensemble member to interpret."),
        criterion: Path | None = typer.Option(
            None, "--criterion", help="With --layer: demixing criterion YAML/JSON (clusters per lower layer)."
        ),
        optimize: list[str] | None = typer.Option(
            None,
            "--optimize",
            metavar="NODE",
            help="Visualization by optimization of these nodes instead (no --data needed): conv2:5 (neuron 5 "
            "of conv layer 2), dense1:0, output:0; several values or a repeated flag. Logos in "
            "optimized/ of --out-dir.",
        ),
    ) -> None:
        """Motifs of a sequence model: motifs.meme, tomtom.tsv, plots and report.html in --out-dir."""
        from components.common.errors import InputError
        from flows.motifs import run_motifs

        if optimize and (layer is not None or data):
            raise InputError("--optimize works without data and instead of --layer: give one or the other")
        if optimize:
            from flows.deep_motifs import run_optimized_nodes

            opt = run_optimized_nodes(
                model, optimize, out_dir=out_dir, log=not no_log, member=member, seed=seed
            )
            where = f"; logged to run {opt['run_id']}" if opt.get("run_id") else ""
            for row in opt["table"]:
                typer.echo(f"{row['node']:<12s} value {row['value']:.3g}  {row['consensus']}")
            typer.echo(f"logos and nodes.tsv in {opt['folder']}{where}")
            return
        if not data:
            raise InputError("motifs needs --data (sequences to interpret), unless --optimize NODE is given")
        if layer is not None:
            from flows.deep_motifs import run_deep_motifs

            deep = run_deep_motifs(
                model,
                [str(d) for d in data],
                layer=layer,
                neurons=neurons,
                out_dir=out_dir,
                motif_db=motif_db,
                criterion=criterion,
                log=not no_log,
                member=member,
                seed=seed,
            )
            dm = deep["metrics"]
            where = f"; logged to run {deep['run_id']}" if deep.get("run_id") else ""
            typer.echo(
                f"{deep['layer']}: {dm['n_neurons']} neurons, {dm['n_segments']} segments "
                f"({dm['n_neurons_with_match']} neurons with a Tomtom match q<0.05), {dm['n_pairs_tested']} "
                f"pairs tested ({dm['n_synergistic']} synergistic); report: {deep['report']}{where}"
            )
            return

        res = run_motifs(
            model,
            list(data),
            out_dir=out_dir,
            motif_db=motif_db,
            log=not no_log,
            attribution=attribution,
            modisco=modisco,
            seed=seed,
        )
        m = res["metrics"]
        where = f"; logged to run {res['run_id']}" if res.get("run_id") else ""
        typer.echo(
            f"{m['n_kernels']} kernel motifs ({m['n_significant_tomtom_kernels']} with a Tomtom match q<0.05), "
            f"{m['n_pairs_tested']} pairs tested ({m['n_synergistic']} synergistic); report: {res['report']}{where}"
        )
