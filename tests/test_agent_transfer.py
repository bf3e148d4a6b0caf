"""benchmarks.agent_transfer's pieces: the wall-time callback ends training, and an agent trained on the fast
(batched, cached-feature) env deploys on the full env through run_method."""

from __future__ import annotations

import json

from mtl_gym.agents.common.callbacks import WallTimeLimit
from mtl_gym.agents.common.contract import recorded_settings
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.methods import run_method
from mtl_gym.models import ModelConfig

ENCODER = {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}
ENV = {"features": "loss,elapsed", "reference": None, "episode_steps": 12}


def test_wall_time_limit_stops_training_and_the_fast_agent_deploys_on_the_full_env(
    small_suite, tmp_path, monkeypatch
):
    monkeypatch.setenv("MTL_GYM_CACHE", str(tmp_path / "cache"))
    config = TrainAgentConfig(
        model=ENCODER,
        env=ENV,
        timesteps=10**9,
        fast=True,
        num_envs=4,
        features={"encoder_budget": 20},
        seed=3,
    )
    limit = WallTimeLimit(seconds=1.0)
    record = train_agent(config, tmp_path / "fast", progress_bar=False, suite=small_suite, callbacks=[limit])
    # Stopped by the clock, long before the timesteps; it made decisions, four per vector step.
    assert 1.0 <= limit.wall_s < 30 and 0 < limit.decisions < 10**6 and limit.decisions % 4 == 0
    assert record["wall_s"] < 30
    saved = json.loads((tmp_path / "fast" / "config.json").read_text())
    assert saved["observation"]["features"] == ["loss", "elapsed"]

    agent = str(tmp_path / "fast" / "agent.zip")
    assert recorded_settings(agent)["features"] == ["loss", "elapsed"]
    # The full env with a (different) real model: run_method builds it with the agent's observation
    # settings, and the scheduler checks the observation shape fits the agent's network.
    for method in ("qls", "qls:policy=greedy"):
        result = run_method(
            method,
            small_suite,
            16,
            100,
            model=ModelConfig(name="cnn", embedding_dim=8, hidden_dim=8),
            agent=agent,
        )
        assert sum(result.action_counts.values()) == 16 and 0 <= result.avg_test_acc <= 1


def test_wall_time_limit_of_zero_stops_after_the_first_step(small_suite, tmp_path, monkeypatch):
    monkeypatch.setenv("MTL_GYM_CACHE", str(tmp_path / "cache"))
    config = TrainAgentConfig(
        model=ENCODER, env=ENV, timesteps=10**9, fast=True, num_envs=2, features={"encoder_budget": 20}
    )
    limit = WallTimeLimit(seconds=0.0)
    train_agent(config, tmp_path / "zero", progress_bar=False, suite=small_suite, callbacks=[limit])
    assert limit.decisions == 2
