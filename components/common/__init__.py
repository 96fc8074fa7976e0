"""Shared I/O, errors and validation for all components."""

from components.common.errors import DynamotifError, InputError

__all__ = ["DynamotifError", "InputError"]
