"""Instance sets: a deterministic generator with disjoint train and test sets, the env that draws an
instance at every reset, and an agent trained over instances deployed on real text."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import mtl_gym  # noqa: F401  (registers the ids)
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.data import load_suite
from mtl_gym.data.instances import InstanceSetConfig
from mtl_gym.methods import run_method

SMALL = {"size": 4, "train_size": [40, 400], "dev_size": 30, "test_size": 30}
MODEL = {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}


def test_instances_are_deterministic_distinct_and_the_splits_disjoint():
    first = load_suite("synthetic-instances", split="train", instance=1, **SMALL)
    again = load_suite("synthetic-instances", split="train", instance=1, **SMALL)
    for a, b in zip(first, again, strict=True):
        assert a.train.tokens.equal(b.train.tokens) and a.train.labels.equal(b.train.labels)
    config = InstanceSetConfig(size=32, seed=7)
    train, test = config.instances("train"), config.instances("test")
    assert len(set(train)) == len(set(test)) == 32 and not set(train) & set(test)
    sizes = [d.train_size for suite in train for d in suite.domains]
    assert 40 <= min(sizes) < 200 and 2000 < max(sizes) <= 4000  # the stated log-uniform range
    # An instance does not depend on how large its set is, and another seed gives another set.
    assert InstanceSetConfig(size=64, seed=7, instance=3).synthetic() == train[3]
    assert InstanceSetConfig(size=32, seed=8).instances("train")[3] != train[3]
    with pytest.raises(ValueError, match=r"instance must lie in 0 \.\. 3"):
        load_suite("synthetic-instances", instance=4, **SMALL)
    with pytest.raises(ValueError, match="split must be one of"):
        load_suite("synthetic-instances", split="dev", **SMALL)


def test_the_registered_env_draws_an_instance_of_its_split_at_every_reset():
    env = gym.make(
        "mtl_gym/SyntheticInstances-v0",
        split="test",
        instances=SMALL,
        model=MODEL,
        config={"episode_steps": 2},
    ).unwrapped
    seen = set()
    for episode in range(6):
        observation, info = env.reset(seed=episode)
        assert observation.shape == env.observation_space.shape and 0 <= info["instance"] < 4
        seen.add(info["instance"])
        assert env.suite.name == "synthetic-instances" and env.action_masks().shape == (4,)
        *_, truncated, info = env.step(int(np.flatnonzero(env.action_masks())[0]))
        assert not truncated and info["instance"] in seen
    assert len(seen) > 1
    _, info = env.reset(options={"instance": 2})
    assert info["instance"] == 2
    with pytest.raises(ValueError, match="out of range for a set of 4"):
        env.reset(options={"instance": 9})


@pytest.mark.slow
def test_an_agent_trained_on_instances_deploys_on_real_text(data_dir, tmp_path):
    config = TrainAgentConfig(
        suite="synthetic-instances",
        suite_options=SMALL,
        model=MODEL,
        env={"episode_steps": 8, "hard_samples": 4, "reward_samples": 8, "reference": None},
        timesteps=48,
        algorithm_kwargs={"learning_starts": 16},
    )
    record = train_agent(config, tmp_path / "agent", progress_bar=False)
    assert record["config"]["suite"] == "synthetic-instances"
    with pytest.raises(ValueError, match="trains on the full env"):
        TrainAgentConfig(suite="synthetic-instances", fast=True).make_env()
    real = load_suite("fsmtl", data_dir, domains=["apparel", "baby", "books", "dvd"], max_len=32)
    result = run_method("qls", real, 24, 0, model=MODEL, agent=str(tmp_path / "agent" / "agent.zip"))
    assert result.budget == 24 and set(result.action_counts) == {"apparel", "baby", "books", "dvd"}


def test_one_agent_trains_over_a_list_of_suites():
    from mtl_gym.env.instances import SuiteSetEnv

    config = TrainAgentConfig(
        suite="synthetic-noisy-aux, synthetic-imbalanced",
        suite_options={"dev_size": 30, "test_size": 30},
        model=MODEL,
        env={"episode_steps": 2, "reference": None, "objective": "mean"},
    )
    env = config.make_env()
    assert isinstance(env, SuiteSetEnv) and env.num_tasks == 4
    names = set()
    for episode in range(6):
        _, info = env.reset(seed=episode)
        names.add(env.suite.name)
        env.step(0)
    assert names == {"synthetic-noisy-aux", "synthetic-imbalanced"}
    mixed = TrainAgentConfig(
        suite="synthetic,fsmtl-noisy-aux", model=MODEL, env={"reference": None}
    ).make_env()
    with pytest.raises(ValueError, match="has 3 tasks; every suite of the set needs 4"):
        mixed.reset(options={"instance": 1})
