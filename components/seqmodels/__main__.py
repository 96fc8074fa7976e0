"""``python -m components.seqmodels``: train one model from files into ``--out-dir`` (no MLflow).

Outputs: ``bundle/`` (weights.pt + bundle.json), ``predictions.parquet`` (test set),
``history.csv``, ``roc_pr.png`` or ``scatter.png``, ``curves.png``, ``params.json``, ``metrics.json``.
One flag per option of :class:`~components.seqmodels.config.SequenceConfig` (defaults declared there);
``--config FILE`` (JSON) gives any of them, the flags override it; ``--params`` takes a JSON object.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from components.common.cli import add_common_flags, run_main

#: options the component CLI does not take as flags (JSON objects, tracking, the motif stage)
_SKIP = (
    "params",
    "initial_configs",
    "motif_params",
    "motifs",
    "motif_sequences",
    "motif_db",
    "name",
    "experiment",
)


def build_parser() -> argparse.ArgumentParser:
    from components.common.typed_config import add_config_arguments
    from components.seqmodels.config import SequenceConfig

    p = argparse.ArgumentParser(prog="python -m components.seqmodels", description=__doc__.splitlines()[0])
    p.add_argument("--config", help="JSON file of SequenceConfig options (flags override it)")
    add_config_arguments(p, SequenceConfig, skip=_SKIP)
    p.add_argument("--params", type=_json_object, help="JSON object of network/training parameters")
    add_common_flags(p)
    return p


def _json_object(text: str) -> dict[str, Any]:
    from components.common.errors import InputError

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--params is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InputError("--params must be a JSON object")
    return value


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`SequenceConfig` of ``--config`` and the flags (no motif stage); ``--out-dir`` required."""
    from components.common.errors import InputError
    from components.common.typed_config import config_args, read_config_file
    from components.seqmodels.config import SequenceConfig

    base = read_config_file(args.config) if args.config else {}
    given = config_args(args, SequenceConfig)
    if args.params is not None:
        given["params"] = args.params
    cfg = SequenceConfig.from_mapping({**base, **given, "motifs": False})
    if not cfg.out_dir:
        raise InputError("option 'out_dir' is required (--out-dir DIR)")
    return cfg


def _body(args: argparse.Namespace) -> int:
    from components.seqmodels import run

    res = run.run(config_from_args(args))
    print(json.dumps({f"test_{k}": round(v, 4) for k, v in res["test"].metrics.items()}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), _body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
