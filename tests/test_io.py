"""Atomic writes: the destination is replaced whole, or left as it was."""

from __future__ import annotations

import json
import os
import stat

import pytest

from mtl_gym.io import DEFAULT_MODE, atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text


def test_write_text_bytes_json(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    assert atomic_write_text(target, "héllo") == target
    assert target.read_text(encoding="utf-8") == "héllo"
    atomic_write_bytes(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    atomic_write_json(tmp_path / "a.json", {"x": [1, 2]})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": [1, 2]}
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a.json", "a.txt", "sub"]


def test_new_files_are_readable_and_existing_modes_kept(tmp_path):
    target = tmp_path / "a.txt"
    atomic_write_text(target, "one")
    assert stat.S_IMODE(target.stat().st_mode) == DEFAULT_MODE
    os.chmod(target, 0o600)
    atomic_write_text(target, "two")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "a.png"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.endswith(".png")
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_json_refuses_nan_unless_allowed(tmp_path):
    with pytest.raises(ValueError):
        atomic_write_json(tmp_path / "a.json", {"x": float("nan")})
    assert not (tmp_path / "a.json").exists()
    atomic_write_json(tmp_path / "a.json", {"x": float("nan")}, allow_nan=True)
    assert "NaN" in (tmp_path / "a.json").read_text()


def test_matplotlib_savefig_through_atomic_path(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    with atomic_path(tmp_path / "plot.png") as temporary:
        figure.savefig(temporary)
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
