"""Domain errors: every user-facing failure names the file, the record and what is wrong.

The CLI turns a :class:`DynamotifError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DynamotifError", "InputError", "DynamotifWarning"]


class DynamotifError(ValueError):
    """Base class of errors caused by user input (bad file, bad value, bad option).

    Parameters
    ----------
    reason
        What is wrong, in words a user understands.
    file
        The file the problem was found in, if any.
    record
        Where in the file: ``"line 12"``, ``"record 3 ('seq_17')"``, ``"row 5"``.
    """

    def __init__(self, reason: str, *, file: str | Path | None = None, record: str | None = None):
        self.reason = reason
        self.file = None if file is None else str(file)
        self.record = record
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = ", ".join(p for p in (self.file, self.record) if p)
        return f"{where}: {self.reason}" if where else self.reason


class InputError(DynamotifError):
    """A malformed or inconsistent input file or argument."""


class DynamotifWarning(UserWarning):
    """Warnings emitted by dynamotif components (skipped records, dropped rows, ...)."""
