"""``python -m components.motifs``: interpret a local sequence-model bundle (no MLflow).

Reads ``--model`` (a bundle folder, or the ``--out-dir`` of ``python -m components.seqmodels`` /
``dynamotif sequence``) and the sequences of ``--data``; writes every output of
:func:`components.motifs.interpret_model` (``motifs.meme``, ``tomtom.tsv``, ``kernels.tsv``,
``report.html``, plots, ``params.json``, ``metrics.json``) into ``--out-dir``, all or nothing.
"""

from __future__ import annotations

import argparse
import json

from components.common.cli import add_common_flags, add_list_option, run_main


def build_parser() -> argparse.ArgumentParser:
    from components.motifs.config import ATTRIBUTION_CHOICES

    p = argparse.ArgumentParser(prog="python -m components.motifs", description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="sequence-model bundle folder")
    add_list_option(p, "--data", required=True, help="FASTA per class (NAME=FILE), FASTA or table(s)")
    p.add_argument("--out-dir", required=True, help="output folder")
    p.add_argument("--motif-db", default=None, help="attract | jaspar | MEME file (default by alphabet)")
    p.add_argument("--attribution", default=None, choices=ATTRIBUTION_CHOICES)
    p.add_argument("--params", default=None, help="JSON object of motif parameters (MotifConfig)")
    add_common_flags(p)
    return p


def _body(args: argparse.Namespace) -> int:
    from components.common.errors import InputError
    from components.common.io import atomic_dir
    from components.motifs.config import MotifConfig
    from components.motifs.inputs import load_local_bundle, read_sequences
    from components.motifs.pipeline import check_alphabet, interpret_model

    try:
        overrides = json.loads(args.params) if args.params else {}
    except json.JSONDecodeError as exc:
        raise InputError(f"--params is not valid JSON: {exc.msg}") from exc
    if args.attribution:
        overrides["attribution"] = args.attribution
    params = MotifConfig.from_mapping(overrides).to_dict()
    bundle = load_local_bundle(args.model)
    sequences, labels = read_sequences(args.data)
    check_alphabet(bundle, sequences, source=", ".join(args.data))
    if labels is not None and labels.shape[1] != bundle.n_outputs:
        labels = None  # the files' classes are not the model's outputs: interpret without classes
    with atomic_dir(args.out_dir) as out:
        res = interpret_model(bundle, sequences, labels, out, motif_db=args.motif_db, **params)
    print(json.dumps({k: v for k, v in res["metrics"].items() if not k.endswith("_s")}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), _body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
