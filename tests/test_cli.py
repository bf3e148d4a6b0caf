"""The CLI contract later checks rely on, and the README's commands."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mtl_gym.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_info_json_schema(data_dir, capsys):
    main(
        [
            "info",
            "--suite",
            "fsmtl",
            "--data-dir",
            str(data_dir),
            "--json",
            "--option",
            'domains=["books","dvd"]',
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["suite"] == "fsmtl" and summary["vocab_size"] > 1000
    keys = {"name", "kind", "num_labels", "train", "dev", "test", "train_duplicates", "train_test_overlap"}
    assert [t["name"] for t in summary["tasks"]] == ["books", "dvd"]
    for task in summary["tasks"]:
        assert keys <= set(task) and task["kind"] == "classification" and task["dev"] == 200


def test_info_bad_data_dir_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["info", "--suite", "fsmtl", "--data-dir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "no fsmtl16 data here" in capsys.readouterr().err


def test_demo_runs_end_to_end(capsys):
    main(["demo", "--model", "cnn", "--budget", "40", "--quiet", "--threads", "1"])
    out = capsys.readouterr().out
    assert "mean test accuracy" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["books"], ["toys"])]
    assert len(rows) == 2 and all(row[2] == "10" for row in rows)


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) >= 2 and commands[0].endswith("mtl-gym demo")
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "constraints.txt" in commands[0] and "constraints.txt" in commands[1]
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text(encoding="utf-8")
