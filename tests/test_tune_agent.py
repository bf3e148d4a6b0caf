"""mtl-gym tune-agent: search spaces, the intermediate evaluation, and a SQLite study that resumes
after a kill and hands its best settings to train-agent --config."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from mtl_gym.agents import QLS
from mtl_gym.agents.qls import TrainAgentConfig
from mtl_gym.agents.tuning import SPACES, PeriodicEvaluation, deployed_dev_accuracy, rescale
from mtl_gym.cli import main

optuna = pytest.importorskip("optuna")

TINY = [
    "--option", "dev_size=40", "--option", "test_size=40",
    "--model", "cnn", "--model-option", "embedding_dim=16", "--model-option", "hidden_dim=16",
    "--threads", "1",
]  # fmt: skip
"""The default synthetic suite with small dev and test splits, and a small cnn."""


def tune_command(out, trials: int) -> list[str]:
    return [
        "tune-agent", "--out", str(out), "--trials", str(trials), "--timesteps", "24",
        "--eval-every", "12", "--eval-budget", "12", "--startup-trials", "2",
        "--space", "steps_per_action=[1,2]", "--json", *TINY,
    ]  # fmt: skip


def test_train_agent_flags_override_its_config_file(tmp_path):
    from mtl_gym.cli import build_parser
    from mtl_gym.cli.train_agent import config_from_args

    saved = TrainAgentConfig(
        model={"name": "cnn", "hidden_dim": 8}, env={"bins": 5}, timesteps=99, algorithm="ppo", seed=3
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"config": saved.to_dict(), "wall_s": 1.0}))  # a run's config.json
    args = ["train-agent", "--config", str(path), "--out", "x"]
    assert config_from_args(build_parser().parse_args(args)) == saved
    flags = [
        "--seed",
        "4",
        "--env",
        "episode_steps=7",
        "--model-option",
        "embedding_dim=6",
        "--algorithm",
        "qls",
    ]
    config = config_from_args(build_parser().parse_args(args + flags))
    assert (config.seed, config.algorithm, config.timesteps) == (4, "qls", 99)
    assert config.env == {"bins": 5, "episode_steps": 7}
    assert config.model == {"name": "cnn", "hidden_dim": 8, "embedding_dim": 6}
    with pytest.raises(ValueError, match="needs --timesteps"):
        config_from_args(build_parser().parse_args(["train-agent", "--out", "x"]))
    path.write_text(json.dumps(TrainAgentConfig(timesteps=99, fast=True).to_dict()))  # as tune-agent writes
    assert config_from_args(build_parser().parse_args(args)).fast
    assert not config_from_args(build_parser().parse_args([*args, "--full"])).fast


def test_rescale_holds_task_minibatches():
    base = TrainAgentConfig(env={"episode_steps": 30, "steps_per_action": 2}, timesteps=100)
    config = rescale(base, 4)
    assert config.env == {"episode_steps": 15, "steps_per_action": 4} and config.timesteps == 50
    assert rescale(base, 1).timesteps == 200 and base.timesteps == 100


@pytest.mark.parametrize("algorithm", ["qls", "ppo"])
def test_spaces_sample_configs_within_their_ranges(algorithm):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    base = TrainAgentConfig(env={"episode_steps": 40}, timesteps=200, algorithm_kwargs={"verbose": 0})
    space = SPACES[algorithm]
    for _ in range(20):
        config = space.sample(study.ask(), base)
        kwargs = config.algorithm_kwargs
        assert config.algorithm == algorithm and kwargs["verbose"] == 0
        assert space.learning_rate[0] <= config.learning_rate <= space.learning_rate[1]
        assert config.env["steps_per_action"] * config.timesteps >= 200
        if algorithm == "qls":
            assert kwargs["learning_starts"] <= config.timesteps // 2
            assert space.c[0] <= config.exploration_kwargs["c"] <= space.c[1]
            assert config.deploy["temperature"] in space.temperature
            assert space.tau[0] <= kwargs["tau"] <= space.tau[1] and "target_update_interval" not in kwargs
        else:
            assert kwargs["batch_size"] <= kwargs["n_steps"] and not config.exploration_kwargs


def test_periodic_evaluation_reports_and_can_stop_training():
    from test_ppo import ThreeArms

    from mtl_gym.agents.ppo import make_ppo

    seen = []
    callback = PeriodicEvaluation(
        lambda agent: 0.5, every=10, on_result=lambda s, i: seen.append(i) or i == 3
    )
    agent = make_ppo(ThreeArms(), seed=0, n_steps=16, batch_size=8)
    agent.learn(64, callback=callback)
    assert seen == [1, 2, 3] and callback.stopped and agent.num_timesteps == 30
    assert callback.scores == [(10, 0.5), (20, 0.5), (30, 0.5)]


def test_periodic_evaluation_counts_decisions_of_a_vector_env():
    """Four envs add four decisions a step: every 10 decisions falls at 12, 20, 32, 40 (the first
    step past each multiple), not every 10 steps (40 decisions) nor only where 4k = 10m."""
    from stable_baselines3.common.vec_env import DummyVecEnv
    from test_ppo import ThreeArms

    from mtl_gym.agents.ppo import make_ppo

    callback = PeriodicEvaluation(lambda agent: 0.5, every=10)
    agent = make_ppo(DummyVecEnv([ThreeArms] * 4), seed=0, n_steps=4, batch_size=8)
    agent.learn(40, callback=callback)
    assert [t for t, _ in callback.scores] == [12, 20, 32, 40]


def test_evaluation_leaves_the_global_random_streams_alone(small_suite):
    from mtl_gym.agents.ppo import make_ppo

    config = TrainAgentConfig(model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}, algorithm="ppo")
    agent = make_ppo(config.make_env(small_suite), seed=0, n_steps=16, batch_size=8)
    random.seed(7), np.random.seed(7), torch.manual_seed(7)
    score = deployed_dev_accuracy(agent, config, small_suite, budget=3, seed=99)
    assert 0.0 <= score <= 1.0
    expected = (
        random.Random(7).random(),
        np.random.RandomState(7).random_sample(),
        torch.rand(1, generator=torch.Generator().manual_seed(7)).item(),
    )
    assert (random.random(), np.random.random(), torch.rand(1).item()) == expected


def test_evaluation_deploys_as_the_config_says(small_suite):
    """The tuned deployment settings reach the evaluated scheduler (here, one it must refuse)."""
    config = TrainAgentConfig(
        model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}, deploy={"temperature": -1.0}
    )
    agent = QLS("MlpPolicy", config.make_env(small_suite), seed=0)
    with pytest.raises(ValueError, match="temperature must be positive, got -1.0"):
        deployed_dev_accuracy(agent, config, small_suite, budget=3, seed=99)


def load_study(out):
    return optuna.load_study(study_name="tune-agent", storage=f"sqlite:///{out / 'study.db'}")


def study_states(out) -> dict[int, tuple[str, float | None]]:
    return {t.number: (t.state.name, t.value) for t in load_study(out).get_trials(deepcopy=False)}


def started_trials(out):
    """The study's trials so far; none while the tuner has yet to create the database or the study
    in it (the file exists a moment before the study's record does)."""
    try:
        return load_study(out).get_trials() if (out / "study.db").exists() else []
    except KeyError:
        return []


@pytest.mark.slow
def test_tune_agent_resumes_after_a_kill_and_its_best_config_trains(tmp_path, capsys):
    out = tmp_path / "tune"
    code = f"from mtl_gym.cli import main; main({tune_command(out, 50)!r})"
    worker = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while True:
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "the tuner finished no trial in time"
            trials = started_trials(out)
            finished = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
            # Killed inside a trial that has sampled all its parameters: the trial records its
            # config right after sampling them (a kill between two draws left a partial set).
            if finished and any(t.state.name == "RUNNING" and "config" in t.user_attrs for t in trials):
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    before = study_states(out)
    cut_off = [n for n, (state, _) in before.items() if state == "RUNNING"]
    assert len(cut_off) == 1
    finished_before = {n: v for n, v in before.items() if v[0] in ("COMPLETE", "PRUNED")}

    target = len(finished_before) + 2  # the cut-off trial again, then a new one
    main(tune_command(out, target))
    summary = json.loads(capsys.readouterr().out)
    after = study_states(out)
    assert summary["recovered"] == cut_off and summary["ran"] == 2
    assert after[cut_off[0]][0] == "FAIL"
    assert {n: after[n] for n in finished_before} == finished_before  # kept as they were
    assert len(after) == len(before) + 2
    assert sum(state in ("COMPLETE", "PRUNED") for state, _ in after.values()) == target
    study = load_study(out)
    retry = study.trials[len(before)]  # queued first
    assert retry.user_attrs["retry_of"] == cut_off[0] and retry.params == study.trials[cut_off[0]].params
    assert (
        len({json.dumps(t.params, sort_keys=True) for t in study.trials if t.number != cut_off[0]})
        == len(study.trials) - 1
    )  # a resumed run does not draw the same random start-up trials again

    main(tune_command(out, target))  # nothing left to run
    assert json.loads(capsys.readouterr().out)["ran"] == 0 and len(study_states(out)) == len(after)
    with pytest.raises(SystemExit):
        main([*tune_command(out, target + 1), "--timesteps", "30"])
    assert "other settings (changed: base.timesteps)" in capsys.readouterr().err

    best = json.loads((out / "best_config.json").read_text())
    assert (
        best
        == json.loads((out / "trials" / f"{summary['best']['number']:04d}" / "config.json").read_text())[
            "config"
        ]
    )
    main(
        [
            "train-agent",
            "--config",
            str(out / "best_config.json"),
            "--timesteps",
            "4",
            "--out",
            str(tmp_path / "a"),
        ]
        + ["--quiet", "--threads", "1"]
    )
    trained = json.loads((tmp_path / "a" / "config.json").read_text())["config"]
    assert trained == {**best, "timesteps": 4}


@pytest.mark.slow
def test_tune_agent_ppo_two_trials(tmp_path, capsys):
    out = tmp_path / "ppo"
    main(
        [*tune_command(out, 2), "--algorithm", "ppo", "--space", "n_steps=[16]", "--space", "batch_size=[8]"]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["complete"] + summary["pruned"] == 2 and summary["ran"] == 2
    assert json.loads((out / "best_config.json").read_text())["algorithm"] == "ppo"


@pytest.mark.slow
def test_a_trial_below_the_median_is_pruned(small_suite, tmp_path, monkeypatch):
    from mtl_gym.agents.tuning import TuneConfig, study, tune_agent

    scores = iter([0.9, 0.9, 0.9, 0.1])  # trial 0: two evaluations and its final one; trial 1: worse at once
    monkeypatch.setattr(study, "deployed_dev_accuracy", lambda *args: next(scores))
    base = TrainAgentConfig(
        model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}, env={"episode_steps": 10}, timesteps=20
    )
    tune = TuneConfig(trials=2, eval_every=8, startup_trials=1, space={"steps_per_action": [1]})
    summary = tune_agent(base, tune, tmp_path, suite=small_suite)
    assert (summary["complete"], summary["pruned"]) == (1, 1)
    assert summary["best"]["number"] == 0 and summary["best"]["value"] == 0.9
    pruned = len((tmp_path / "trials" / "0001" / "curves.csv").read_text().splitlines()) - 1
    assert pruned == 8  # training stopped at the first evaluation


def test_a_trial_value_averages_the_evaluation_runs_seeds(small_suite, tmp_path, monkeypatch):
    from mtl_gym.agents.tuning import TuneConfig, study, tune_agent

    seeds = []

    def accuracy(agent, config, suite, budget, seed):
        seeds.append(seed)
        return {7: 0.5, 8: 0.7, 9: 0.6}[seed]

    monkeypatch.setattr(study, "deployed_dev_accuracy", accuracy)
    base = TrainAgentConfig(
        model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}, env={"episode_steps": 10}, timesteps=10
    )
    space = {"steps_per_action": [1], "train_freq": [1]}  # SB3 overshoots timesteps by up to train_freq
    tune = TuneConfig(trials=1, eval_every=10, eval_seed=7, eval_runs=3, space=space)
    summary = tune_agent(base, tune, tmp_path, suite=small_suite)
    assert seeds == [7, 8, 9]  # one evaluation, at the last step, which is also the trial's value
    assert summary["best"]["value"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="eval_runs"):
        tune_agent(base, TuneConfig(eval_runs=0), tmp_path / "none", suite=small_suite)
