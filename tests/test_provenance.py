"""Provenance recorded with every trial and config.json."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import mtl_gym
from mtl_gym import provenance as provenance_module
from mtl_gym.provenance import PACKAGES, git_state, package_version, provenance


def test_fields_present_and_json_ready():
    record = provenance()
    assert set(record) == {
        "packages",
        "git",
        "python",
        "implementation",
        "platform",
        "machine",
        "cpu_count",
        "cpu_affinity",
    }
    assert set(record["packages"]) == set(PACKAGES)
    assert {"mtl-gym", "torch", "stable-baselines3", "gymnasium", "torchjd", "numpy"} <= set(PACKAGES)
    assert record["packages"]["numpy"] is not None and record["packages"]["torch"] is not None
    assert record["cpu_count"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert record["cpu_affinity"] == len(os.sched_getaffinity(0))
    assert json.loads(json.dumps(record)) == record


def test_missing_package_is_null():
    assert package_version("surely-not-an-installed-distribution") is None
    assert provenance(("surely-not-an-installed-distribution",))["packages"] == {
        "surely-not-an-installed-distribution": None
    }


def test_git_commit_of_this_checkout():
    package = Path(mtl_gym.__file__).resolve().parent
    tracked = subprocess.run(
        ["git", "-C", str(package), "ls-files", "--error-unmatch", "__init__.py"], capture_output=True
    )
    state = provenance()["git"]
    if tracked.returncode != 0:  # an installed copy, not a checkout
        assert state is None
        return
    head = subprocess.run(["git", "-C", str(package), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert state["commit"] == head.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"])
    assert isinstance(state["dirty"], bool)


def test_git_dirty_flag_and_untracked_files(tmp_path):
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    source = tmp_path / "module.py"
    source.write_text("x = 1\n")
    assert git_state(source) is None  # untracked: not this checkout's code
    git("add", "module.py")
    git("commit", "-q", "-m", "one")
    clean = git_state(source)
    assert clean is not None and clean["dirty"] is False
    (tmp_path / "notes.txt").write_text("untracked files do not make it dirty")
    assert git_state(source)["dirty"] is False
    source.write_text("x = 2\n")
    assert git_state(source) == {"commit": clean["commit"], "dirty": True}


def test_no_git_no_failure(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(provenance_module.subprocess, "run", missing)
    assert provenance()["git"] is None


def test_git_timeout_no_failure(monkeypatch):
    def slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(cmd="git", timeout=kwargs.get("timeout", 0))

    monkeypatch.setattr(provenance_module.subprocess, "run", slow)
    assert provenance()["git"] is None
