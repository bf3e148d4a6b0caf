"""One-line CLI errors naming the flag typed (issue 14.6), and non-finite or diverging training
(issue 14.5) as one line (CLI) or a result that records it (API), never a traceback."""

from __future__ import annotations

import json
import math

import pytest

from mtl_gym.cli import main
from mtl_gym.methods import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import RunRecorder, StepResult

FAST = ["--model", "cnn", "--model-option", "embedding_dim=16", "--model-option", "hidden_dim=16"]
FAST += ["--option", "dev_size=20", "--option", "test_size=20", "--threads", "1"]
CNN = ModelConfig.of({"name": "cnn", "embedding_dim": 16, "hidden_dim": 16})


def one_line_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


def test_missing_agent_path_names_the_flag(tmp_path, capsys):
    missing = tmp_path / "X.zip"
    err = one_line_error(capsys, ["run", "--method", "qls", "--agent", str(missing), "--budget", "5"])
    assert err == f"mtl-gym: error: --agent {missing}: no such file"


def test_non_zip_agent_is_not_an_agent_file(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a zip")
    err = one_line_error(capsys, ["run", "--method", "qls", "--agent", str(notes), "--budget", "5"])
    assert err.startswith(f"mtl-gym: error: --agent {notes}: not an agent file (") and "Error:" not in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "--method", "uniform", "--budget", "-5"], "--budget must be at least 1, got -5"),
        (["demo", "--budget", "-5"], "--budget must be at least 1, got -5"),
        (["train-agent", "--timesteps", "0", "--out", "unused"], "--timesteps must be at least 1, got 0"),
        (["bench", "--budget", "-5", "--out", "unused"], "--budget must be at least 1, got -5"),
        (["bench", "--seeds", "0", "--out", "unused"], "--seeds must be at least 1, got 0"),
    ],
)
def test_bad_counts_name_the_flag(argv, message, capsys):
    assert one_line_error(capsys, argv) == f"mtl-gym: error: {message}"


def test_infinite_lr_is_one_line_naming_task_and_flag(capsys):
    err = one_line_error(
        capsys, ["run", "--method", "uniform", "--budget", "12", "--trainer", "lr=Infinity", *FAST]
    )
    assert "non-finite loss (nan)" in err and "task '" in err and "--trainer lr=..., now inf" in err


def test_infinite_lr_json_mode_prints_the_record_then_fails(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--method", "uniform", "--budget", "12", "--trainer", "lr=Infinity", "--json", *FAST])
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert exit_info.value.code == 2 and result["diverged"] is True
    assert math.isnan(result["non_finite"]["value"]) and result["non_finite"]["budget"] < 12


@pytest.mark.parametrize("method", ["uniform", "equal"])
def test_non_finite_training_is_recorded_in_the_result(small_suite, method):
    result = run_method(method, small_suite, 30, 0, model=CNN, trainer={"lr": math.inf})
    stop = result.extra["non_finite"]
    assert stop["task"] in small_suite.names and not math.isfinite(stop["value"]) and stop["budget"] < 30
    assert result.diverged and all(math.isfinite(t["test_acc"]) for t in result.tasks.values())


def test_huge_lr_is_flagged_diverged_and_shown(capsys):
    main(["run", "--method", "uniform", "--budget", "40", "--trainer", "lr=1e6", *FAST])
    out = capsys.readouterr().out
    assert "diverged: task '" in out and "try a lower --trainer lr" in out


class FakeTrainer:
    def __init__(self):
        self.last_step = None


def test_diverged_when_a_tasks_final_loss_ends_above_its_first(small_suite):
    def losses(values: list[float]) -> dict:
        recorder, trainer = RunRecorder(small_suite, budget=10**6), FakeTrainer()
        recorder.every_steps = 10**6  # no evaluations: only the loss bookkeeping runs
        for value in values:
            trainer.last_step = StepResult([0], [value])
            recorder.after_step(trainer)
        return recorder.training_loss()

    falling = losses([1.0, 0.9, 0.5, 0.4])["alpha"]
    assert falling == {"initial": 1.0, "final": pytest.approx(0.7)}
    rising = losses([1.0, 5.0, 7.0])["alpha"]
    assert rising == {"initial": 1.0, "final": pytest.approx(4.333, abs=1e-3)}
    from mtl_gym.training.runs import diverging

    assert not diverging(falling) and diverging(rising) and not diverging({"initial": 1.0, "final": 1.05})
