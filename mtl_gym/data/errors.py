"""The one error type of the data layer: it always names the file and, where known, the line."""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Malformed input data, located as precisely as the reader knows it."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else Path(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        super().__init__(where + message)

    def __reduce__(self):
        # Rebuilt from its own arguments, so that it crosses a process pool with its file and line.
        return type(self), (self.message, self.path, self.line)


class DataWarning(UserWarning):
    """Input that loads but deserves a look, e.g. a dev split that takes much of a train file."""
