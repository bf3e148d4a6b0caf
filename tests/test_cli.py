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


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path, capsys):
    main(
        [
            "demo",
            "--timesteps",
            "30",
            "--budget",
            "12",
            "--seeds",
            "1",
            "--out",
            str(tmp_path),
            "--quiet",
            "--threads",
            "1",
        ]
    )
    out = capsys.readouterr().out
    rows = {
        line[:22].strip(): line[22:].split()
        for line in out.splitlines()
        if line.startswith(("qls", "uniform", "best"))
    }
    assert set(rows) == {"qls (greedy)", "qls (softmax)", "uniform", "best static schedule"}
    # Uniform is the reference of the paired column, and shares its budget evenly.
    assert rows["uniform"][1:4] == ["+0.0", "[+0.0,", "+0.0]"] and rows["uniform"][-3:] == [
        "0.50,",
        "noise",
        "0.50",
    ]
    assert rows["best static schedule"][4] == "100%"
    assert {"agent.zip", "curves.csv", "curves.png", "config.json"} <= {p.name for p in tmp_path.iterdir()}


@pytest.mark.slow
def test_train_agent_then_run_with_it(tmp_path, capsys):
    out = tmp_path / "qls"
    main(
        [
            "train-agent",
            "--timesteps",
            "20",
            "--out",
            str(out),
            "--model",
            "cnn",
            "--env",
            "episode_steps=10",
            "--quiet",
            "--threads",
            "1",
        ]
    )
    rows = (out / "curves.csv").read_text().splitlines()
    assert rows[0] == "timestep,env,episode,action,reward" and len(rows) == 21
    assert rows[-1].split(",")[2] == "1"  # the second episode began after 10 steps
    capsys.readouterr()
    main(
        [
            "run",
            "--method",
            "qls",
            "--agent",
            str(out / "agent.zip"),
            "--budget",
            "6",
            "--model",
            "cnn",
            "--json",
            "--threads",
            "1",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "qls" and sum(result["action_counts"].values()) == 6


def test_train_agent_flags_override_the_config_file(tmp_path):
    """--eval-every, --eval-budget and --reward-baseline reach the config (they were parsed and then
    dropped), over a --config that sets them otherwise; left out, the config's values stay."""
    import argparse

    from mtl_gym.cli.train_agent import add_arguments, config_from_args

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"fast": True, "timesteps": 100, "eval_every": 50, "eval_budget": 30}))
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--config", str(config), "--out", str(tmp_path / "out")]
    given = config_from_args(
        parser.parse_args([*base, "--eval-every", "0", "--eval-budget", "12", "--reward-baseline", "uniform"])
    )
    assert (given.eval_every, given.eval_budget, given.reward_baseline) == (0, 12, "uniform")
    kept = config_from_args(parser.parse_args(base))
    assert (kept.eval_every, kept.eval_budget, kept.reward_baseline) == (50, 30, None)


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```bash\n(.+?)\n```", readme)
    assert len(commands) >= 2 and commands[0].endswith("mtl-gym demo")
    assert commands[1] in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "constraints.txt" in commands[0] and "constraints.txt" in commands[1]
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text(encoding="utf-8")
