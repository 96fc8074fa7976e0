"""One module per ``dynamotif`` subcommand; each defines ``register(app: typer.Typer) -> None``.

Modules import heavy libraries (torch, mlflow, prefect) inside the command function, never at
module level, so ``dynamotif --help`` stays instant. Every command is declared with
``cls=ListConventionCommand``: list options take a repeated flag or several values after one flag
alike, and a scalar option given twice is an error (:func:`components.common.cli.normalize_list_args`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperCommand

from components.common.cli import normalize_list_args

__all__ = ["COMMAND_MODULES", "ListConventionCommand"]

COMMAND_MODULES = [
    "demo",
    "ui",
    "check",
    "mutate",
    "signatures",
    "dynasig",
    "sequence",
    "motifs",
    "predict",
]


class ListConventionCommand(TyperCommand):
    """A typer command whose list options follow the project's one convention."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        lists: set[str] = set()
        scalars: list[tuple[str, ...]] = []
        for param in self.get_params(ctx):
            # typer vendors its own click: options are recognised by their kind, not their class
            if getattr(param, "param_type_name", "") != "option" or param.name == "help":
                continue
            spellings = (*param.opts, *getattr(param, "secondary_opts", ()))
            if getattr(param, "multiple", False):
                lists.update(spellings)
            elif not getattr(param, "count", False):
                scalars.append(spellings)
        normalized = normalize_list_args(args, lists, scalars, command=f"dynamotif {self.name}")
        result: Any = super().parse_args(ctx, normalized)
        return list(result)
