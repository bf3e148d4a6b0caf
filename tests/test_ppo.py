"""The PPO agent (sb3-contrib's MaskablePPO, method ppo): masks in training and deployment, and the
same train and deploy paths as QLS (train_agent, train-agent, run_method, mtl-gym run)."""

from __future__ import annotations

import json
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sb3_contrib import MaskablePPO

from mtl_gym.agents.ppo import PPOScheduler, action_probabilities, make_ppo
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.bench.bench import run_bench
from mtl_gym.bench.config import BenchConfig
from mtl_gym.cli import main
from mtl_gym.env.features import FeatureConfig
from mtl_gym.methods import METHODS, run_method
from mtl_gym.models import ModelConfig

ALLOWED = np.array([[True, True, False], [False, True, True], [True, False, True]])
"""State s allows every action but one; the best allowed action of state s is s."""


class ThreeArms(gym.Env):
    """One-step episodes: a one-hot state of 3, reward 1 for action == state; a masked action raises."""

    observation_space = spaces.Box(0.0, 1.0, (3,), dtype=np.float32)
    action_space = spaces.Discrete(3)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = int(self.np_random.integers(3))
        return np.eye(3, dtype=np.float32)[self.state], {"action_mask": ALLOWED[self.state].copy()}

    def step(self, action):
        if not ALLOWED[self.state][action]:
            raise AssertionError(f"masked action {action} played in state {self.state}")
        return np.eye(3, dtype=np.float32)[self.state], float(action == self.state), True, False, {}

    def action_masks(self):
        return ALLOWED[self.state].copy()


def tilted_agent() -> MaskablePPO:
    """An untrained PPO whose policy all but always wants action 0: a mask leak would show at once."""
    agent = make_ppo(ThreeArms(), seed=0, n_steps=16, batch_size=8)
    with torch.no_grad():
        agent.policy.action_net.bias.copy_(torch.tensor([50.0, 0.0, 0.0]))
    return agent


@pytest.mark.parametrize("deterministic", [True, False])
def test_scheduler_never_picks_a_masked_action(deterministic):
    scheduler = PPOScheduler(tilted_agent(), deterministic=deterministic)
    scheduler.rng = np.random.default_rng(0)
    rng = np.random.default_rng(1)
    picks = []
    for _ in range(300):
        mask = rng.random(3) < 0.5
        mask[rng.integers(3)] = True
        action = scheduler(rng.random(3).astype(np.float32), {"action_mask": mask})
        assert mask[action]
        picks.append(action)
    assert 0 in picks and len(set(picks)) > 1


def test_action_probabilities_are_zero_on_masked_tasks():
    probabilities = action_probabilities(
        tilted_agent(), np.ones(3, np.float32), np.array([False, True, True])
    )
    assert probabilities[0] == 0.0 and probabilities.sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_ppo_learns_the_best_allowed_action():
    agent = make_ppo(ThreeArms(), seed=0, learning_rate=3e-3, n_steps=64, batch_size=32, n_epochs=4)
    agent.learn(1536)  # the env raises if training ever plays a masked action
    scheduler = PPOScheduler(agent)
    hits = [scheduler(np.eye(3, dtype=np.float32)[s], {"action_mask": ALLOWED[s]}) == s for s in range(3)]
    assert all(hits)


def test_ppo_is_a_registered_agent_method():
    spec = METHODS.get("ppo")
    assert spec.kind == "agent" and spec.describe()["hyperparameters"] == {
        "agent": None,
        "deterministic": True,
    }
    assert METHODS.parse("ppo:deterministic=false").method.hyperparameters.deterministic is False


@pytest.mark.slow
def test_ppo_trains_and_deploys_through_the_agent_paths(small_suite, tmp_path):
    model = {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}
    config = TrainAgentConfig(
        model=model,
        env={"episode_steps": 20},
        timesteps=40,
        algorithm="ppo",
        algorithm_kwargs={"n_steps": 32, "batch_size": 16, "n_epochs": 2},
    )
    record = train_agent(config, tmp_path, progress_bar=False, suite=small_suite)
    assert {"agent.zip", "curves.csv", "curves.png", "config.json"} <= {p.name for p in tmp_path.iterdir()}
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["config"]["algorithm"] == "ppo" and "exploration" not in record
    assert len((tmp_path / "curves.csv").read_text().splitlines()) == 1 + 64  # two whole rollouts of 32
    for method in ("ppo", "ppo:deterministic=false"):
        result = run_method(
            method,
            small_suite,
            budget=8,
            seed=3,
            model=ModelConfig.of(model),
            agent=str(tmp_path / "agent.zip"),
        )
        assert sum(result.action_counts.values()) == 8 and result.method == method
    with pytest.raises(ValueError, match="trained for observations"):
        run_method(
            "ppo",
            small_suite,
            2,
            model=ModelConfig.of(model),
            env_config={"bins": 5},
            agent=str(tmp_path / "agent.zip"),
        )
    with pytest.raises(ValueError, match="needs a trained agent"):
        run_method("ppo", small_suite, budget=2, model=ModelConfig.of(model))


@pytest.mark.slow
def test_train_agent_ppo_then_run_with_it_from_the_cli(tmp_path, capsys):
    out = tmp_path / "ppo"
    suite = ["--option", "dev_size=40", "--option", "test_size=40", "--model", "cnn", "--threads", "1"]
    main(
        ["train-agent", "--algorithm", "ppo", "--timesteps", "16", "--out", str(out), "--quiet"]
        + [
            "--algorithm-option",
            "n_steps=16",
            "--algorithm-option",
            "batch_size=8",
            "--env",
            "episode_steps=8",
        ]
        + suite
    )
    assert json.loads((out / "config.json").read_text())["config"]["algorithm_kwargs"]["n_steps"] == 16
    capsys.readouterr()
    main(["run", "--method", "ppo", "--agent", str(out / "agent.zip"), "--budget", "6", "--json"] + suite)
    result = json.loads(capsys.readouterr().out)
    assert result["method"] == "ppo" and sum(result["action_counts"].values()) == 6


@pytest.mark.slow
def test_bench_trains_one_agent_per_agent_method(tmp_path):
    config = BenchConfig(
        suite="synthetic",
        suite_options={"dev_size": 40, "test_size": 40},
        model={"name": "cnn", "embedding_dim": 16, "hidden_dim": 16},
        methods=["qls", "ppo"],
        seeds=1,
        budget=12,
        lr_grid=[1e-3],
        evaluations=2,
        weightings=20,
        agent_timesteps=16,
    )
    run_bench(config, tmp_path, progress=False)
    for method, folder in (("qls", "agent"), ("ppo", "agent-ppo")):
        trained = json.loads((tmp_path / folder / "config.json").read_text())["config"]
        assert trained["algorithm"] == method
        record = json.loads((tmp_path / "trials" / f"{method}_lr0.001_seed0.json").read_text())
        assert (
            record["params"]["agent"] == str(tmp_path / folder / "agent.zip") and len(record["actions"]) == 12
        )
    with pytest.raises(ValueError, match="transfer trains QLS agents only"):
        run_bench(replace(config, transfer=["books"]), tmp_path / "t", progress=False)


def test_each_algorithm_trains_on_its_own_fast_env_encoder_unless_told():
    """PPO keeps the 1,200-minibatch encoder, QLS takes FeatureConfig's 50; ``features`` overrides both."""

    def features(algorithm: str, **given) -> dict:
        return TrainAgentConfig(algorithm=algorithm, fast=True, features=given).fast_env_features()

    assert features("ppo") == {"encoder_budget": 1200}
    assert features("qls") == {} and FeatureConfig().encoder_budget == 50
    assert features("ppo", encoder_budget=50, seed=3) == {"encoder_budget": 50, "seed": 3}
    assert features("qls", hidden_dim=8) == {"hidden_dim": 8}
