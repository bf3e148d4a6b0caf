"""Claim files: how several ``bench`` processes share one ``--out`` without computing anything twice.

Before a process computes a trial (or trains the harness's agent) it creates ``<record>.claim``
with ``O_CREAT | O_EXCL``, which exactly one process can do; the claim holds its host name, pid and
a token of this run. Whoever holds a claim saves the result, then deletes the claim; the others skip
the trial, and at the end wait for its result (or take the claim over if it is released without one,
e.g. after a failure, and compute it themselves).

A claim whose process is gone is stale and is taken over, but only when that can be told: a claim
from this host whose pid no longer runs (or is this process's, from an earlier run in it). A claim
from another host (a shared file system) is honoured as long as it exists: if that process died,
delete its ``.claim`` file by hand. An interrupted run deletes its own claims on the way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path

SUFFIX = ".claim"
POLL_S = 0.5


def claim_path(path: Path) -> Path:
    """The claim file of the output ``path`` (a trial record, an agent folder)."""
    return path.with_name(path.name + SUFFIX)


class Claims:
    """The claims this process holds; ``acquire`` and ``release`` take the output's path."""

    def __init__(self) -> None:
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.token = uuid.uuid4().hex
        self.held: set[Path] = set()

    def acquire(self, path: Path) -> bool:
        """Claim ``path``; False when a live process holds it. A stale claim is taken over."""
        claim = claim_path(path)
        claim.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            if self._create(claim):
                self.held.add(claim)
                return True
            holder = read_claim(claim)
            if holder is None or not self._stale(holder):
                return False
            # Another process may be taking over the same stale claim: only the one whose rename of
            # the stale file succeeds deletes it, so a fresh claim is never removed by mistake.
            moved = claim.with_name(f"{claim.name}.stale-{self.token}")
            try:
                os.rename(claim, moved)
            except FileNotFoundError:
                continue
            if read_claim(moved) != holder:  # someone else's fresh claim: put it back
                with contextlib.suppress(OSError):
                    os.rename(moved, claim)
                return False
            moved.unlink(missing_ok=True)
        return False

    def release(self, path: Path) -> None:
        claim = claim_path(path)
        if claim in self.held:
            self.held.discard(claim)
            if (read_claim(claim) or {}).get("token") == self.token:
                claim.unlink(missing_ok=True)

    def release_all(self) -> None:
        for claim in list(self.held):
            self.release(claim.with_name(claim.name[: -len(SUFFIX)]))

    def _create(self, claim: Path) -> bool:
        try:
            fd = os.open(claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as handle:
            json.dump({"host": self.host, "pid": self.pid, "token": self.token, "time": time.time()}, handle)
        return True

    def _stale(self, holder: dict) -> bool:
        if holder.get("host") != self.host:
            return False
        pid = holder.get("pid")
        if pid == self.pid:
            return holder.get("token") != self.token
        return not isinstance(pid, int) or not pid_alive(pid)


def read_claim(claim: Path) -> dict | None:
    """The claim's holder, None if there is no claim. A claim being written reads as a live one."""
    try:
        text = claim.read_text()
    except FileNotFoundError:
        return None
    try:
        return json.loads(text)
    except ValueError:
        # Created but not yet written (O_EXCL then write): its owner is alive; a crash in between
        # leaves it empty, and an empty claim older than a minute counts as stale.
        with contextlib.suppress(FileNotFoundError):
            if time.time() - claim.stat().st_mtime > 60:
                return {"host": socket.gethostname(), "pid": None}
        return {"host": None, "pid": None}


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_for(done: Callable[[], bool], claims: Claims, path: Path, poll_s: float = POLL_S) -> bool:
    """Wait until ``done()`` (another process finished ``path``) or until this process can claim
    ``path`` itself: True in the first case, False (claim held) in the second."""
    while True:
        if done():
            return True
        if claims.acquire(path):
            if done():  # finished and released between the two checks
                claims.release(path)
                return True
            return False
        time.sleep(poll_s)
