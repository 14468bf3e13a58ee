"""Errors that reach the user.

`InputError` is the one exception the CLI turns into exit code 2 with a single line on stderr: bad
input, bad usage or a bad recipe. Its message names the file, the line or field, and what was
expected. Anything else escaping a command is an internal error (exit 1, with a traceback).
"""

from __future__ import annotations

__all__ = ["InputError"]


class InputError(Exception):
    """Bad user input: a file, a field, a flag. Rendered as one line; exit code 2."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
