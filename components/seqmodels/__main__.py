"""``python -m components.seqmodels``: train one model from files into ``--out-dir`` (no MLflow).

Outputs: ``bundle/`` (weights.pt + bundle.json), ``predictions.parquet`` (test set),
``history.csv``, ``roc_pr.png`` or ``scatter.png``, ``curves.png``, ``params.json``, ``metrics.json``.
Options are those of :class:`~components.seqmodels.config.SequenceConfig` (defaults declared there);
``--config FILE`` (JSON/YAML) gives any of them, the flags override it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from components.common.cli import add_common_flags, add_list_option, run_main


def build_parser() -> argparse.ArgumentParser:
    from components.seqmodels.config import ARCH_CHOICES, TASK_CHOICES

    s = argparse.SUPPRESS  # unset options keep SequenceConfig's defaults
    p = argparse.ArgumentParser(
        prog="python -m components.seqmodels", description=__doc__.splitlines()[0], argument_default=s
    )
    p.add_argument("--config", help="JSON/YAML file of SequenceConfig options (flags override it)")
    add_list_option(p, "--data", default=s, help="FASTA per class (NAME=FILE), multi-label FASTA or table(s)")
    add_list_option(p, "--test", default=s, help="test file(s); default: seeded 80/10/10 split")
    add_list_option(p, "--target", default=s, help="target column(s) of a table")
    p.add_argument("--missing-targets", choices=["error", "mask"], help="regression tables: NaN targets")
    p.add_argument("--task", choices=TASK_CHOICES)
    p.add_argument("--arch", choices=ARCH_CHOICES)
    p.add_argument("--fold", action="store_true", help="add ViennaRNA secondary structure")
    p.add_argument("--trials", type=int, help="Optuna trials (0: train the defaults once)")
    p.add_argument("--search-space", help="Optuna search-space YAML")
    p.add_argument("--alphabet")
    p.add_argument("--length", type=int)
    p.add_argument("--policy", help="pad/crop policy, e.g. pad=right,crop=error")
    p.add_argument("--params", type=_json_object, help="JSON object of network/training parameters")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--ensemble", type=int, metavar="N", help="seed ensemble of N models")
    p.add_argument("--cache-dir")
    p.add_argument("--out-dir", required=True)
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
    """The :class:`SequenceConfig` of the parsed flags (over ``--config``), without motifs."""
    from pathlib import Path

    import yaml

    from components.common.errors import InputError
    from components.seqmodels.config import SequenceConfig

    given = {k: v for k, v in vars(args).items() if k not in ("verbose", "config")}
    base: dict[str, Any] = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise InputError("config file does not exist", file=path)
        try:
            base = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise InputError(f"invalid YAML/JSON: {str(exc).splitlines()[0]}", file=path) from exc
    return SequenceConfig.from_mapping({"motifs": False, **base, **given})


def _body(args: argparse.Namespace) -> int:
    from components.seqmodels import run

    cfg = config_from_args(args)
    res = run.run(cfg)
    print(json.dumps({f"test_{k}": round(v, 4) for k, v in res["test"].metrics.items()}))
    return 0


def main(argv: list[str] | None = None) -> int:
    return run_main(build_parser(), _body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
