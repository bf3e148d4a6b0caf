"""Atomic file writes: a reader (or a rerun after a crash) sees the old file or the new one, never half.

Every write goes to a unique temporary file in the destination's own folder (so the final rename stays
on one file system) and is moved into place with ``os.replace``, which POSIX and Windows both make
atomic for a rename within a folder. A failed write removes its temporary file and leaves the
destination untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_MODE = 0o644
"""Permissions of a new file: ``mkstemp`` makes 0600 files, but results are meant to be read by others."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path beside ``path`` to write to; on a clean exit it replaces ``path``.

    For writers that want a file name rather than a stream, e.g. matplotlib's ``savefig``. The
    temporary name ends with the destination's suffix, so tools that infer a format from it still do.
    An existing destination's permissions are kept; a new one gets ``DEFAULT_MODE``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = DEFAULT_MODE
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Writes ``data`` to ``path`` atomically (flushed to disk before the rename); returns the path."""
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Writes ``text`` to ``path`` atomically; returns the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_json(
    path: str | os.PathLike[str], document: Any, indent: int | None = 2, allow_nan: bool = False
) -> Path:
    """Writes ``document`` as JSON. Strict by default: JSON has no NaN or infinity, and Python's
    ``NaN`` tokens break other readers, so a NaN is an error unless ``allow_nan``."""
    return atomic_write_text(path, json.dumps(document, indent=indent, allow_nan=allow_nan) + "\n")
