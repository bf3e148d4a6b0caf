"""The reward relative to uniform's (``TrainAgentConfig.reward_baseline``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from mtl_gym.agents.common.batched import BatchedVecEnv
from mtl_gym.agents.common.reward_baseline import (
    UNIFORM_RUNS,
    UNIFORM_SEED,
    RelativeReward,
    uniform_reward_curve,
)
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.env.features import FeatureConfig
from mtl_gym.models import ModelConfig

ENCODER = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
FEATURES = FeatureConfig(encoder_budget=30)


class Constant(gym.Env):
    """Reward 1 at every step, episodes of 3 steps."""

    observation_space = spaces.Box(0.0, 1.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        self.steps = 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.steps += 1
        return np.zeros(1, dtype=np.float32), 1.0, False, self.steps == 3, {}


def test_each_decision_of_an_episode_loses_its_own_baseline():
    env = RelativeReward(DummyVecEnv([Constant, Constant]), np.array([0.5, 0.25, 0.125]))
    env.reset()
    rewards = [env.step(np.array([0, 1]))[1].tolist() for _ in range(7)]
    # The index restarts with each episode (after 3 steps), and past the curve's end it keeps the last.
    assert rewards == [[0.5, 0.5], [0.75, 0.75], [0.875, 0.875]] * 2 + [[0.5, 0.5]]
    env.decisions[:] = 10
    assert env.step(np.array([0, 0]))[1].tolist() == [0.875, 0.875]


def test_round_robin_on_the_baselines_own_seeds_gains_nothing(small_suite, tmp_path):
    """The baseline is round-robin's mean reward at each decision: the same runs (seeds, starting
    tasks) scheduled round-robin get relative rewards that average 0 at every decision, while the
    reward itself falls as they train (so a misaligned index would not average 0)."""
    settings = dict(
        suite=small_suite, model=ENCODER, config={"episode_steps": 12}, features=FEATURES, cache_dir=tmp_path
    )
    curve = uniform_reward_curve(12, **settings)
    assert curve[-1] > curve[0]
    env = RelativeReward(BatchedVecEnv(num_envs=UNIFORM_RUNS, **settings), curve)
    env.seed(UNIFORM_SEED)
    env.reset()
    for decision in range(12):
        _, rewards, _, _ = env.step((np.arange(UNIFORM_RUNS) + decision) % 3)
        assert abs(rewards.mean()) < 1e-5, decision


def test_reward_baseline_settings_are_checked():
    with pytest.raises(ValueError, match="reward_baseline must be one of"):
        TrainAgentConfig(fast=True, reward_baseline="static")
    with pytest.raises(ValueError, match="needs the fast env"):
        TrainAgentConfig(reward_baseline="uniform")


def test_an_agent_trains_on_the_relative_reward(small_suite, tmp_path):
    config = TrainAgentConfig(
        fast=True,
        num_envs=4,
        timesteps=48,
        model=ENCODER.to_dict(),
        features={"encoder_budget": 30},
        env={"episode_steps": 6, "reference": None},
        eval_every=0,
        reward_baseline="uniform",
    )
    record = train_agent(config, tmp_path / "agent", progress_bar=False, suite=small_suite)
    assert record["config"]["reward_baseline"] == "uniform"
    rewards = np.loadtxt(tmp_path / "agent" / "curves.csv", delimiter=",", skiprows=1, usecols=4)
    # Relative rewards are small differences around 0; the env's own are minus a summed loss (about -3).
    assert len(rewards) == 48 and np.abs(rewards).max() < 1.0
