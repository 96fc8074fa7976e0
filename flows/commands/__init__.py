"""One module per ``dynamotif`` subcommand; each defines ``register(app: typer.Typer) -> None``.

Modules import heavy libraries (torch, mlflow, prefect) inside the command function, never at
module level, so ``dynamotif --help`` stays instant.
"""

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
