"""Issue 11 (env side): the penalty, the per-task normalised reward, NaN as termination, and the
observation's budget features (share, steps since chosen, loss, elapsed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mtl_gym.agents.common.contract import agent_env_config, observation_settings
from mtl_gym.agents.qls import AGENT_ENV_DEFAULTS, TrainAgentConfig
from mtl_gym.env import EnvConfig, MTLSchedulingEnv, run_schedule
from mtl_gym.env.observation import (
    FEATURE_GROUPS,
    LOSS_FLOOR,
    below_reference,
    budget_share,
    feature_bounds,
    loss_reward,
    steps_since,
)

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}
ALL = ("share", "since", "loss", "elapsed")


def make_env(suite, trainer=None, **config):
    return MTLSchedulingEnv(suite, FAST_MODEL, EnvConfig(**config), trainer)


def appended(env, observation):
    return observation[env.num_tasks * env.config.bins :]


# -- penalty -----------------------------------------------------------------------------------


def test_below_reference_compares_mean_accuracy_with_threshold_times_mean_reference():
    assert below_reference([0.5, 0.9], [0.8, 0.8], 0.95)  # 0.70 < 0.76
    assert not below_reference([0.7, 0.9], [0.8, 0.8], 0.95)  # 0.80 >= 0.76
    assert not below_reference([0.95, 0.95], [1.0, 1.0], 0.95)  # equal: not below
    assert not below_reference([0.62, 0.62], [1.0, 0.3], 0.95)  # 0.62 >= 0.95 x mean 0.65, though < 0.95


def test_penalty_fires_exactly_when_mean_accuracy_falls_under_95_percent_of_reference(small_suite):
    free = make_env(small_suite)
    free.reset(seed=0)
    _, reward, _, _, info = free.step(0)
    accuracy = float(np.mean(list(info["dev_accuracy"].values())))
    # Uneven references with the same mean: the penalty reads the mean, not each task.
    for offset, fires in ((+1e-3, True), (-1e-3, False)):
        mean = accuracy / 0.95 + offset
        env = make_env(small_suite, reference=(mean + 0.02, mean - 0.02, mean))
        env.reset(seed=0)
        _, penalised, *_ = env.step(0)
        assert penalised == (-10.0 if fires else pytest.approx(reward))


def test_penalty_is_judged_only_from_penalty_from_of_the_episode(small_suite):
    """A reference no model reaches: every step is under it, and the penalty replaces the reward
    from step ceil(0.5 x 6 x 2) = 6 of training on, the loss reward before."""
    free = make_env(small_suite, episode_steps=6, steps_per_action=2)
    judged = make_env(
        small_suite, episode_steps=6, steps_per_action=2, reference=(2.0, 2.0, 2.0), penalty_from=0.5
    )
    free.reset(seed=0)
    judged.reset(seed=0)
    for decision in range(6):
        expected = free.step(decision % 3)[1]
        reward = judged.step(decision % 3)[1]
        assert reward == (-10.0 if 2 * (decision + 1) >= 6 else pytest.approx(expected))


@pytest.mark.parametrize("value", (-0.1, 1.0))
def test_penalty_from_outside_zero_to_one_is_refused(value):
    with pytest.raises(ValueError, match="penalty_from"):
        EnvConfig(penalty_from=value)


# -- reward ------------------------------------------------------------------------------------


def test_normalized_reward_is_minus_k_at_reset_losses_and_floors_tiny_ones():
    losses = [0.7, 2.0, 0.1]
    assert loss_reward("loss-normalized", losses, losses, 0.0) == (pytest.approx(-3.0), pytest.approx(2.8))
    assert loss_reward("loss-normalized", [0.35, 1.0, 0.1], losses, 0.0)[0] == pytest.approx(-2.0)
    assert loss_reward("loss-normalized", [1e-3], [0.0], 0.0)[0] == pytest.approx(-1e-3 / LOSS_FLOOR)
    assert loss_reward("loss", losses, losses, 0.0)[0] == pytest.approx(-2.8)
    assert loss_reward("loss-decrease", losses, losses, 3.0)[0] == pytest.approx(0.2)


def test_env_normalized_reward_divides_each_loss_by_its_reset_value(small_suite):
    env = make_env(small_suite, reward="loss-normalized", features=("loss",))
    observation, info = env.reset(seed=0)
    reset = np.array(list(info["dev_loss"].values()))
    assert np.allclose(appended(env, observation), 1.0)
    observation, reward, *_, info = env.step(1)
    now = np.array(list(info["dev_loss"].values()))
    assert reward == pytest.approx(-(now / reset).sum(), rel=1e-5)
    assert np.allclose(appended(env, observation), now / reset, rtol=1e-5)
    # Raw losses under the paper's reward.
    raw = make_env(small_suite, features=("loss",))
    observation, info = raw.reset(seed=0)
    assert np.allclose(appended(raw, observation), list(info["dev_loss"].values()), rtol=1e-6)


# -- NaN ---------------------------------------------------------------------------------------


def test_nan_loss_terminates_with_the_penalty_and_later_steps_raise(small_suite):
    env = make_env(small_suite, trainer={"lr": float("inf")}, features=ALL)
    env.reset(seed=0)
    for step in range(5):
        observation, reward, terminated, truncated, info = env.step(step % 3)
        if "nan_loss" in info:
            break
    assert "nan_loss" in info, "an infinite learning rate should give a non-finite loss within 5 steps"
    assert terminated is True and truncated is False and reward == -10.0
    assert env.observation_space.contains(observation)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=1)  # and the env is usable again
    # The runner stops there and records it (issue 14: a result, not a traceback).
    result = run_schedule(lambda obs, info: 0, small_suite, 5, model=FAST_MODEL, trainer={"lr": float("inf")})
    assert result.extra["non_finite"]["budget"] <= 5 and result.diverged


# -- budget features ---------------------------------------------------------------------------


def test_budget_features_after_a_known_action_sequence(small_suite):
    env = make_env(small_suite, features=("share", "since", "elapsed"), episode_steps=10)
    observation, _ = env.reset(seed=0)
    assert np.array_equal(appended(env, observation), np.zeros(7, dtype=np.float32))
    for action in (1, 1):
        observation, *_ = env.step(action)
    # share [0, 1, 0]; since: task 0 and 2 never chosen in 2 steps, task 1 just now; elapsed 2/10.
    assert np.allclose(appended(env, observation), [0, 1, 0, 2 / 5, 0, 2 / 5, 0.2])
    for action in (0, 0, 2, 0):
        observation, *_ = env.step(action)
    # counts [3, 2, 1] of 6; last chosen at decisions 6, 2, 5 -> gaps 0, 4, 1 -> s / (s + 3).
    assert np.allclose(appended(env, observation), [3 / 6, 2 / 6, 1 / 6, 0, 4 / 7, 1 / 4, 0.6])


def test_features_count_decisions_when_each_trains_several_minibatches(small_suite):
    env = make_env(small_suite, features=("share", "since", "elapsed"), episode_steps=4, steps_per_action=2)
    env.reset(seed=0)
    for action in (0, 1, 0):
        observation, *_, info = env.step(action)
    assert list(info["minibatches"].values()) == [4, 2, 0]
    assert np.allclose(appended(env, observation), [4 / 6, 2 / 6, 0, 0, 1 / 4, 3 / 6, 0.75])


def test_pure_feature_functions():
    assert np.array_equal(budget_share([0, 0]), [0, 0])
    assert np.allclose(budget_share([1, 3]), [0.25, 0.75])
    assert np.allclose(steps_since([0, 7, 10, 10], 10), [10 / 14, 3 / 7, 0, 0])
    low, high = feature_bounds(ALL, 2)
    assert low.tolist() == [0] * 7 and high.tolist() == [1, 1, 1, 1, np.inf, np.inf, 1]


@pytest.mark.parametrize("reward", ["loss", "loss-normalized"])
def test_box_bounds_contain_every_observation_over_an_episode(small_suite, reward):
    env = make_env(small_suite, features=ALL, reward=reward, episode_steps=12, refresh_every=5)
    observation, _ = env.reset(seed=3)
    assert env.observation_space.shape == (3 * 20 + 3 * 3 + 1,)
    rng = np.random.default_rng(0)
    done = False
    while not done:
        assert env.observation_space.contains(observation), observation
        observation, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
        done = terminated or truncated
    assert env.observation_space.contains(observation)
    assert appended(env, observation)[-1] == 1.0


def test_check_env_passes_with_features_on(small_suite):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(make_env(small_suite, features=ALL, reward="loss-normalized", episode_steps=20))
    sb3_check_env(make_env(small_suite, features=ALL, episode_steps=20))


# -- settings ----------------------------------------------------------------------------------


def test_env_config_features_are_checked_and_round_trip():
    with pytest.raises(ValueError, match=r"unknown \['budget'\]"):
        EnvConfig(features=("share", "budget"))
    with pytest.raises(ValueError, match="twice"):
        EnvConfig(features=("share", "share"))
    assert EnvConfig(features="share, since").features == ("share", "since")  # as --env gives it
    config = EnvConfig(features=list(FEATURE_GROUPS), reward="loss-normalized")
    assert config.features == FEATURE_GROUPS and EnvConfig.from_json(config.to_json()) == config
    assert EnvConfig().features == ()


def test_agent_training_defaults_merge_under_user_settings():
    config = TrainAgentConfig(env={"episode_steps": 50}).env_config()
    assert config.reference == "auto" and config.features == ALL and config.reward == "loss"
    assert config.episode_steps == 50
    paper = TrainAgentConfig(env={"features": [], "reference": None}).env_config()
    assert paper.features == () and paper.reference is None
    assert TrainAgentConfig(env={"reward": "loss-normalized"}).env_config().features == ALL
    assert set(AGENT_ENV_DEFAULTS) <= set(EnvConfig().to_dict())


def test_deployment_takes_the_agents_observation_settings(tmp_path):
    trained = EnvConfig(features=("share",), bins=10, reward="loss-normalized", reference=(0.9, 0.8))
    (tmp_path / "config.json").write_text(
        json.dumps({"config": {}, "observation": observation_settings(trained)})
    )
    deployed = agent_env_config(str(tmp_path / "agent.zip"), {"episode_steps": 7})
    assert deployed.features == ("share",) and deployed.bins == 10 and deployed.reward == "loss-normalized"
    assert deployed.episode_steps == 7 and deployed.reference is None  # the penalty is not carried over
    assert agent_env_config(str(tmp_path / "missing" / "agent.zip"), {"bins": 5}).bins == 5


def test_an_agent_trained_with_features_deploys_with_them_whatever_the_run_env(small_suite, tmp_path):
    from mtl_gym.agents.qls import train_agent
    from mtl_gym.methods.run import run_method
    from mtl_gym.models import ModelConfig

    env = {"episode_steps": 10, "reference": None, "reward": "loss-normalized"}
    config = TrainAgentConfig(model=FAST_MODEL, env=env, timesteps=20)
    record = train_agent(config, tmp_path, progress_bar=False, suite=small_suite)
    assert tuple(record["observation"]["features"]) == ALL
    assert json.loads((tmp_path / "config.json").read_text())["observation"]["reward"] == "loss-normalized"
    result = run_method(
        "qls",
        small_suite,
        6,
        0,
        model=ModelConfig(**FAST_MODEL),
        env_config={},
        agent=str(tmp_path / "agent.zip"),
    )
    assert sum(result.action_counts.values()) == 6
