"""Deploying a QLS agent: the sampling policy, exploration in units of the Q spread, the agent/env
contract, the training log and the evaluation that chooses agent.zip."""

from __future__ import annotations

import csv
import json
import tempfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from mtl_gym.agents import QLS, QLSScheduler
from mtl_gym.agents.common.contract import DEPLOYED_OBSERVE_EVERY, agent_env_config
from mtl_gym.agents.common.masking import masked_argmax, standardized_softmax
from mtl_gym.agents.common.serialization import load_agent
from mtl_gym.agents.qls import BoltzmannGumbel, TrainAgentConfig, train_agent
from mtl_gym.agents.qls import train as train_module
from mtl_gym.cli import main
from mtl_gym.env import EnvConfig
from mtl_gym.methods import METHODS, run_method
from mtl_gym.models import ModelConfig
from mtl_gym.spec import SpecError

TASKS = 6
MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}


class Histograms(gym.Env):
    """Only its spaces matter: the scheduler is called directly with observations and masks."""

    observation_space = spaces.Box(0.0, 1.0, (8,), dtype=np.float32)
    action_space = spaces.Discrete(TASKS)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(8, np.float32), {}

    def step(self, action):
        return np.zeros(8, np.float32), 0.0, True, False, {}


def random_masks(rng, n):
    masks = rng.random((n, TASKS)) < 0.5
    masks[np.arange(n), rng.integers(TASKS, size=n)] = True
    return masks


def deploy(seed, steps=300, **hyperparameters):
    """Actions of a scheduler over an untrained agent, on fixed observations and masks."""
    scheduler = QLSScheduler(QLS("MlpPolicy", Histograms(), seed=0), **hyperparameters)
    scheduler.reset(Histograms(), seed)
    rng = np.random.default_rng(123)
    observations = rng.random((steps, 8)).astype(np.float32)
    masks = random_masks(rng, steps)
    actions = np.array([scheduler(o, {"action_mask": m}) for o, m in zip(observations, masks, strict=True)])
    return scheduler, observations, masks, actions


def test_sampling_never_picks_a_masked_action_and_spreads_over_tasks():
    _, _, masks, actions = deploy(seed=1, steps=2000)
    assert masks[np.arange(2000), actions].all()
    assert len(np.unique(actions)) == TASKS
    q = np.random.default_rng(0).normal(size=(5000, TASKS))
    masks = random_masks(np.random.default_rng(1), 5000)
    q[~masks] += 1e6  # masked actions look best: a leak would show at once
    probabilities = standardized_softmax(q, masks, temperature=1.0)
    assert np.all(probabilities[~masks] == 0) and np.allclose(probabilities.sum(axis=1), 1)


def test_sampling_reproduces_for_a_seed_and_differs_between_seeds():
    assert np.array_equal(deploy(seed=7)[3], deploy(seed=7)[3])
    assert not np.array_equal(deploy(seed=7)[3], deploy(seed=8)[3])


def test_greedy_policy_is_the_masked_argmax():
    scheduler, observations, masks, actions = deploy(seed=1, policy="greedy")
    q_values, _ = scheduler.agent.q_values(observations)
    assert np.array_equal(actions, masked_argmax(q_values, masks))


def test_softmax_is_invariant_to_q_scale_and_uniform_when_q_is_flat():
    q = np.array([[1.0, 2.0, 3.0, 9.0], [5.0, 5.0, 5.0, 5.0]])
    masks = np.array([[True, True, True, False], [True, False, True, True]])
    p = standardized_softmax(q, masks, temperature=1.0)
    assert np.allclose(p, standardized_softmax(-150 + 1e-5 * q, masks, temperature=1.0))
    assert np.allclose(p[1], [1 / 3, 0, 1 / 3, 1 / 3])
    # Q = 1, 2, 3: std sqrt(2/3), so p ∝ exp((Q - 3) / sqrt(2/3))
    expected = np.exp((np.array([1.0, 2.0, 3.0]) - 3) / np.sqrt(2 / 3))
    assert np.allclose(p[0, :3], expected / expected.sum())
    # a colder softmax is greedier
    assert standardized_softmax(q, masks, temperature=0.2)[0, 2] > p[0, 2]


def test_scheduler_settings_are_checked():
    with pytest.raises(SpecError, match="policy must be one of"):
        METHODS.parse("qls:policy=argmax")
    with pytest.raises(ValueError, match="temperature must be positive"):
        QLSScheduler(temperature=0)


def test_boltzmann_gumbel_in_units_of_the_q_spread_ignores_the_scale_of_q():
    q = np.random.default_rng(0).normal(size=(400, 4))
    masks = np.ones((400, 4), dtype=bool)
    choices = []
    for scaled in (q, -200 + 1e-3 * q):
        explorer = BoltzmannGumbel(4, np.random.default_rng(5), c=1.0, spread_decay=0.0)
        explorer.record(np.arange(4))
        choices.append([explorer.choose(row[None], masks[:1], 1.0)[0] for row in scaled])
        assert explorer.stats()["q_spread"] == pytest.approx(np.std(scaled[-1]))
    assert choices[0] == choices[1]
    absolute = BoltzmannGumbel(4, np.random.default_rng(5), c=1.0, scale="absolute")
    absolute.record(np.arange(4))
    absolute.choose(1e-3 * q[:1], masks[:1], 1.0)
    assert np.allclose(absolute.betas(), 1.0)


@pytest.fixture(scope="module")
def trained(small_suite, tmp_path_factory):
    """A tiny agent trained with observation settings off the defaults, with evaluation on; trained
    from an empty working directory with SB3's temp folder redirected, to see what lands where."""
    out = tmp_path_factory.mktemp("agent")
    cwd, temp = tmp_path_factory.mktemp("cwd"), tmp_path_factory.mktemp("temp")
    config = TrainAgentConfig(
        model=MODEL,
        env={"episode_steps": 10, "bins": 10, "hard_samples": 8},
        timesteps=20,
        algorithm_kwargs={"learning_starts": 5},
        eval_every=10,
        eval_budget=6,
        seed=0,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        patch.setattr(tempfile, "tempdir", str(temp))
        patch.setenv("SB3_LOGDIR", str(temp / "sb3"))
        record = train_agent(config, out, progress_bar=False, suite=small_suite)
    return {"out": out, "cwd": cwd, "temp": temp, "record": record}


def test_training_logs_into_out_and_nowhere_else(trained):
    out = trained["out"]
    with (out / "progress.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and "exploration/q_spread" in rows[0] and "train/q_mean" in rows[0]
    assert "rollout/exploration_rate" not in rows[0]  # SB3's epsilon, which QLS does not use
    assert any(row["exploration/beta_mean"] for row in rows)
    assert list(trained["cwd"].iterdir()) == [] and list(trained["temp"].iterdir()) == []


def test_evaluation_deploys_the_agent_of_the_best_dev_score(trained, small_suite):
    """agent.zip is the agent whose evaluation scored best: rerunning that evaluation with it (same
    seeds, budget and deployed env) gives the best recorded score; the last agent is kept beside it."""
    out = trained["out"]
    with (out / "evaluations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["timestep"]) for r in rows] == [10, 20]
    best = max(float(r["mean_dev_acc"]) for r in rows)
    assert float(rows[-1]["best_dev_acc"]) == best and rows[0]["saved"] == "1"
    config = TrainAgentConfig.of(trained["record"]["config"])
    run = config.evaluation_runner(small_suite)
    agent = load_agent(QLS, out / "agent.zip")
    scores = [run(QLSScheduler(agent), seed).objective_score("mean", "dev") for seed in config.eval_seeds]
    assert np.mean(scores) == pytest.approx(best)
    # Three tasks' 10-bin histograms and the agent-training features (share, since, loss per task, elapsed).
    assert load_agent(QLS, out / "last_agent.zip").observation_space.shape == (3 * 10 + 3 * 3 + 1,)
    assert not (out / "best_agent.zip").exists()


def test_evaluations_default_to_ten_over_a_fast_env_qls_training():
    fast = TrainAgentConfig(fast=True, timesteps=20_000, env={"episode_steps": 150, "steps_per_action": 4})
    assert fast.evaluation_interval() == 2_000 and fast.evaluation_budget() == 600
    assert TrainAgentConfig(fast=False, timesteps=20_000).evaluation_interval() == 0
    assert TrainAgentConfig(fast=True, algorithm="ppo").evaluation_interval() == 0
    assert TrainAgentConfig(fast=True, eval_every=0).evaluation_interval() == 0
    assert TrainAgentConfig(fast=True, eval_every=7, eval_budget=9).evaluation_budget() == 9


def test_config_json_records_the_observation_contract(trained):
    record = json.loads((trained["out"] / "config.json").read_text())
    assert record["observation"] == {
        "uncertainty": "margin",
        "bins": 10,
        "hard_samples": 8,
        "refresh_every": 1000,
        "hard_from": "dev",
        "features": ["share", "since", "loss", "elapsed"],
        "reward": "loss",
        "reward_set": "sample",
        "reward_samples": 32,
        "steps_per_action": 1,
    }
    agent = load_agent(QLS, trained["out"] / "agent.zip")
    assert agent.tau < 1 and agent.target_update_interval == 1


def test_deployment_builds_the_env_from_the_agents_settings(trained, small_suite):
    agent = str(trained["out"] / "agent.zip")
    # the default env has 20 bins and 16 hard samples; the agent's 10 and 8 are used
    result = run_method("qls", small_suite, 5, 3, model=ModelConfig(**MODEL), agent=agent)
    again = run_method("qls", small_suite, 5, 3, model=ModelConfig(**MODEL), agent=agent)
    assert sum(result.action_counts.values()) == 5 and result.actions == again.actions


def test_a_mismatched_env_is_refused_in_one_line(trained, small_suite, capsys):
    agent = str(trained["out"] / "agent.zip")
    with pytest.raises(ValueError, match=r"bins=10.*bins=5") as error:
        run_method("qls", small_suite, 5, model=ModelConfig(**MODEL), env_config={"bins": 5}, agent=agent)
    assert "\n" not in str(error.value) and "hard_samples" not in str(error.value)
    with pytest.raises(SystemExit):
        main(["run", "--method", "qls", "--agent", agent, "--budget", "2", "--model", "cnn", "--env",
              "uncertainty=entropy", "--suite", "synthetic", "--threads", "1"])  # fmt: skip
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "uncertainty='margin'" in lines[0] and "uncertainty='entropy'" in lines[0]


def test_unset_deployment_settings_come_from_the_agents_config(trained, small_suite, tmp_path):
    """A deploy setting recorded beside the agent (e.g. tuned by tune-agent) applies unless the spec sets it."""
    import shutil

    tuned = tmp_path / "tuned"
    shutil.copytree(trained["out"], tuned)
    record = json.loads((tuned / "config.json").read_text())
    record["config"]["deploy"] = {"policy": "greedy"}
    (tuned / "config.json").write_text(json.dumps(record))

    def actions(method, folder):
        agent = str(folder / "agent.zip")
        return run_method(method, small_suite, 8, 3, model=ModelConfig(**MODEL), agent=agent).actions

    greedy = actions("qls:policy=greedy", trained["out"])
    assert greedy != actions("qls", trained["out"])  # so the next line tells the two policies apart
    assert actions("qls", tuned) == greedy
    assert actions("qls:policy=softmax", tuned) == actions("qls", trained["out"])
    record["config"]["deploy"] = {"temperature": -1}
    (tuned / "config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="temperature must be positive, got -1"):
        actions("qls", tuned)


def test_a_deployed_agent_probes_every_few_steps_unless_told():
    """The deployment's observe_every fills in only where the caller left it unset; 1 keeps the
    paper's probe pass at every step."""
    assert agent_env_config(None).observe_every == DEPLOYED_OBSERVE_EVERY > 1
    assert agent_env_config(None, {"observe_every": 1}).observe_every == 1
    assert agent_env_config(None, {"observe_every": 4}).observe_every == 4
    assert EnvConfig().observe_every is None and EnvConfig().probe_every == 1


def test_agent_zip_is_the_best_evaluation_agent_not_the_last(small_suite, tmp_path, monkeypatch):
    """With evaluations scripted to score the first best, agent.zip holds the weights the agent had
    at the first evaluation, and last_agent.zip the trained-on ones."""
    scores = iter([0.9, 0.9, 0.1, 0.1])  # two seeds per evaluation

    class Scored:
        def __init__(self, score: float):
            self.score = score

        def objective_score(self, objective: str, split: str) -> float:
            return self.score

    monkeypatch.setattr(
        train_module, "schedule_runner", lambda *a, **k: lambda scheduler, seed: Scored(next(scores))
    )
    at_first_evaluation = {}

    class Snapshot(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps == 10:
                at_first_evaluation.update({k: v.clone() for k, v in self.model.policy.state_dict().items()})
            return True

    config = TrainAgentConfig(
        model=MODEL,
        env={"episode_steps": 10},
        timesteps=20,
        algorithm_kwargs={"learning_starts": 5},
        eval_every=10,
        eval_budget=6,
        seed=0,
    )
    train_agent(config, tmp_path, progress_bar=False, suite=small_suite, callbacks=[Snapshot()])
    assert next(scores, None) is None, "both evaluations ran on the scripted scores"
    deployed = load_agent(QLS, tmp_path / "agent.zip").policy.state_dict()
    last = load_agent(QLS, tmp_path / "last_agent.zip").policy.state_dict()
    assert all(torch.equal(deployed[k], at_first_evaluation[k]) for k in deployed)
    assert not all(torch.equal(last[k], at_first_evaluation[k]) for k in last)
