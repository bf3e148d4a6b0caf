"""Where a result came from: package versions, the code's git commit, the interpreter and the machine.

Stored with every trial record and ``config.json`` so that a table can be traced to the code and
libraries that produced it, and so that timings are read against the cores the run actually had
(``cpu_count`` is the machine's; ``cpu_affinity`` is what this process may use, which is smaller in a
container or under ``taskset``).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

PACKAGES: tuple[str, ...] = ("mtl-gym", "torch", "stable-baselines3", "gymnasium", "torchjd", "numpy")
"""Distributions whose versions decide results, by their names on PyPI."""

GIT_TIMEOUT_S = 5.0
"""Per git call: provenance is recorded per trial and must never hold a sweep up."""

PACKAGE_MARKER = Path(__file__).resolve().parent / "__init__.py"
"""A file of the imported ``mtl_gym``: the git checkout that tracks it, if any, is the one recorded."""


def provenance(packages: tuple[str, ...] = PACKAGES) -> dict[str, Any]:
    """A JSON-ready description of the software and machine that produce a result.

    Keys: ``packages`` (name → version, ``None`` when not installed), ``git`` (``{"commit", "dirty"}``
    when the imported ``mtl_gym`` is a tracked file of a git checkout, else ``None``), ``python``,
    ``implementation``, ``platform``, ``machine``, ``cpu_count`` and ``cpu_affinity`` (``None`` where
    the OS does not report it).
    """
    return {
        "packages": {name: package_version(name) for name in packages},
        "git": git_state(PACKAGE_MARKER),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": cpu_affinity(),
    }


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None`` if it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_affinity() -> int | None:
    """How many cores this process may run on (Linux and some BSDs), else ``None``."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is None:
        return None
    try:
        return len(getaffinity(0))
    except OSError:
        return None


def git_state(tracked_file: Path) -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool}`` for the git checkout that tracks ``tracked_file``.

    ``None`` when git is missing, times out, or the file is not tracked: a package installed into a
    virtual environment that happens to sit inside some other checkout must not report that
    checkout's commit, so the test is that the file itself is tracked, not merely that a repository
    encloses it. ``dirty`` counts changes to tracked files only (untracked files do not alter the code).
    """
    directory = tracked_file.parent
    if _git(directory, "ls-files", "--error-unmatch", "--", tracked_file.name) is None:
        return None
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def _git(directory: Path, *args: str) -> str | None:
    """Stripped stdout of ``git -C directory args``, or ``None`` on any failure."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
