"""Amortised observations: probe passes every observe_every decisions, over observe_tasks tasks in
turn, the ``age`` feature and info's ``dev_age``; with both off, the env of every other test."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.env.observation import feature_bounds, measured_tasks, rotation
from mtl_gym.env.probes import ProbeSet

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}
CHEAP = ("share", "since", "elapsed")
BINS = 20
ACTIONS = (0, 1, 2, 2, 1, 0, 0, 2)
FEATURES = (*CHEAP, "loss", "age")


def make_env(suite, **config):
    return MTLSchedulingEnv(suite, FAST_MODEL, EnvConfig(**config))


def split(observation, groups=None, num_tasks=3):
    """Histograms ``[K, bins]`` and each feature group of ``groups`` (FEATURES by default)."""
    histograms = observation[: num_tasks * BINS].reshape(num_tasks, BINS)
    parts, start = {}, num_tasks * BINS
    for group in FEATURES if groups is None else groups:
        size = 1 if group == "elapsed" else num_tasks
        parts[group], start = observation[start : start + size], start + size
    return histograms, parts


def squashed(ages, num_tasks=3):
    ages = np.asarray(ages, dtype=np.float64)
    return ages / (ages + num_tasks)


def episode(env, actions=ACTIONS, seed=0):
    """Observation, reward and info after reset and each action (reward None at reset)."""
    observation, info = env.reset(seed=seed)
    trace = [(observation, None, info)]
    for action in actions:
        observation, reward, _, _, info = env.step(action)
        trace.append((observation, reward, info))
    return trace


def counting_passes(monkeypatch):
    """The task lists of every probe pass from now on."""
    calls = []
    original = ProbeSet.logits

    def logits(self, model, tasks=None):
        calls.append(list(range(len(self.tasks))) if tasks is None else list(tasks))
        return original(self, model, tasks)

    monkeypatch.setattr(ProbeSet, "logits", logits)
    return calls


def test_observe_every_holds_the_measured_part_and_recomputes_the_cheap_features(small_suite):
    every = make_env(small_suite, features=FEATURES, observe_every=3, episode_steps=20, refresh_every=4)
    always = make_env(small_suite, features=FEATURES, episode_steps=20, refresh_every=4)
    assert every.observation_space.shape == always.observation_space.shape == (3 * BINS + 3 * 4 + 1,)
    amortised, reference = episode(every), episode(always)
    for decision, ((observation, reward, info), (now, _, _)) in enumerate(
        zip(amortised, reference, strict=True)
    ):
        measured = decision - decision % 3
        then, then_reward, then_info = reference[measured]
        histograms, parts = split(observation)
        # Training does not depend on the observation, so both envs hold the same model: the
        # measured part is the reference's at the last pass, bit for bit; the cheap features are today's.
        np.testing.assert_array_equal(histograms, split(then)[0])
        np.testing.assert_array_equal(parts["loss"], split(then)[1]["loss"])
        for group in CHEAP:
            np.testing.assert_array_equal(parts[group], split(now)[1][group])
        np.testing.assert_allclose(parts["age"], squashed([decision % 3] * 3), atol=1e-7)
        assert info["dev_loss"] == then_info["dev_loss"] and info["dev_accuracy"] == then_info["dev_accuracy"]
        assert info["dev_age"] == dict.fromkeys(small_suite.names, decision % 3)
        if decision:
            # The reward of the last measured losses, which under ``loss`` is the last measured reward.
            assert reward == (
                then_reward if measured else pytest.approx(-sum(then_info["dev_loss"].values()))
            )
        if decision % 3:
            np.testing.assert_array_equal(histograms, split(amortised[decision - 1][0])[0])
        elif decision:
            assert not np.array_equal(histograms, split(amortised[decision - 1][0])[0])
        assert every.observation_space.contains(observation)


def test_the_penalty_reads_the_last_measured_accuracies(small_suite):
    strict = make_env(small_suite, reference=(1.0, 1.0, 1.0), observe_every=3, observe_tasks=1)
    assert [reward for _, reward, _ in episode(strict)[1:]] == [-10.0] * len(ACTIONS)


def test_loss_decrease_is_zero_between_passes_and_the_whole_fall_at_a_pass(small_suite):
    every = make_env(small_suite, reward="loss-decrease", observe_every=2, episode_steps=20)
    always = make_env(small_suite, reward="loss-decrease", episode_steps=20)
    amortised, reference = episode(every), episode(always)
    for decision in range(1, len(ACTIONS) + 1):
        if decision % 2:
            assert amortised[decision][1] == 0.0
        else:
            fall = reference[decision][1] + reference[decision - 1][1]
            assert amortised[decision][1] == pytest.approx(fall, abs=1e-6)


def test_observe_tasks_measures_one_task_per_decision_in_turn(small_suite, monkeypatch):
    calls = counting_passes(monkeypatch)
    subset = make_env(small_suite, features=FEATURES, observe_tasks=1, episode_steps=20)
    always = make_env(small_suite, features=FEATURES, episode_steps=20)
    amortised = episode(subset)
    assert calls == [[0, 1, 2]] + [[(d - 1) % 3] for d in range(1, len(ACTIONS) + 1)]
    reference = episode(always)
    ages = np.zeros(3, dtype=int)
    for decision in range(1, len(ACTIONS) + 1):
        observation, reward, info = amortised[decision]
        histograms, parts = split(observation)
        previous = split(amortised[decision - 1][0])[0]
        now, _, now_info = reference[decision]
        fresh = (decision - 1) % 3
        ages += 1
        ages[fresh] = 0
        for t, name in enumerate(small_suite.names):
            if t == fresh:
                np.testing.assert_array_equal(histograms[t], split(now)[0][t])
                assert info["dev_loss"][name] == now_info["dev_loss"][name]
            else:
                np.testing.assert_array_equal(histograms[t], previous[t])
                assert info["dev_loss"][name] == amortised[decision - 1][2]["dev_loss"][name]
        assert list(info["dev_age"].values()) == ages.tolist()
        np.testing.assert_allclose(parts["age"], squashed(ages), atol=1e-7)
        np.testing.assert_array_equal(parts["loss"], np.float32(list(info["dev_loss"].values())))
        # The objective (mean: the sum) over the last measured losses, of mixed ages.
        assert reward == pytest.approx(-sum(info["dev_loss"].values()))
        for group in CHEAP:
            np.testing.assert_array_equal(parts[group], split(now)[1][group])


def test_both_settings_together_rotate_over_the_passes(small_suite, monkeypatch):
    calls = counting_passes(monkeypatch)
    env = make_env(small_suite, features=("age",), observe_every=2, observe_tasks=2, episode_steps=20)
    trace = episode(env, actions=(0, 1, 2, 0, 1, 2, 0))
    # Passes at decisions 0 (every task), 2, 4, 6: tasks {0, 1}, then {2, 0}, then {1, 2}.
    assert calls == [[0, 1, 2], [0, 1], [0, 2], [1, 2]]
    ages = [list(info["dev_age"].values()) for _, _, info in trace]
    assert ages == [[0, 0, 0], [1, 1, 1], [0, 0, 2], [1, 1, 3], [0, 2, 0], [1, 3, 1], [2, 0, 0], [3, 1, 1]]
    for (observation, _, _), age in zip(trace, ages, strict=True):
        np.testing.assert_allclose(observation[3 * BINS :], squashed(age), atol=1e-7)


@pytest.mark.parametrize("decisions, every", [(9, 3), (10, 3), (7, 1)])
def test_a_probe_pass_runs_only_when_due(small_suite, monkeypatch, decisions, every):
    calls = counting_passes(monkeypatch)
    env = make_env(small_suite, observe_every=every, episode_steps=decisions, refresh_every=4)
    env.reset(seed=0)
    truncated, taken = False, 0
    while not truncated:
        *_, truncated, _ = env.step(taken % 3)
        taken += 1
    # Decisions 0 (reset), k, 2k, ... up to the last one.
    assert taken == decisions and len(calls) == 1 + decisions // every


def test_settings_off_are_todays_env(small_suite):
    config = {"features": ("share", "since", "loss", "elapsed"), "episode_steps": 20, "refresh_every": 3}
    default = episode(make_env(small_suite, **config))
    explicit = episode(make_env(small_suite, **config, observe_every=1, observe_tasks=None))
    for (observation, reward, info), (same_observation, same_reward, same_info) in zip(
        default, explicit, strict=True
    ):
        np.testing.assert_array_equal(observation, same_observation)
        assert reward == same_reward
        assert "dev_age" not in info and info.keys() == same_info.keys()
        for key in ("dev_loss", "dev_accuracy", "minibatches", "samples", "step", "budget"):
            assert info[key] == same_info[key]
    assert not EnvConfig().amortised and not EnvConfig(observe_tasks=None, observe_every=1).amortised
    # Every task measured every decision: the same observations, with ages all 0.
    whole = episode(make_env(small_suite, **config, observe_tasks=3))
    for (observation, reward, info), (same_observation, same_reward, _) in zip(whole, default, strict=True):
        np.testing.assert_array_equal(observation, same_observation)
        assert reward == same_reward and set(info["dev_age"].values()) == {0}


def test_age_without_amortisation_is_all_zeros(small_suite):
    env = make_env(small_suite, features=("share", "age"), episode_steps=5)
    assert env.observation_space.shape == (3 * BINS + 6,)
    for observation, _, info in episode(env, actions=(0, 1, 2)):
        assert not observation[3 * BINS + 3 :].any() and "dev_age" not in info
    low, high = feature_bounds(("age",), 3)
    assert low.tolist() == [0, 0, 0] and high.tolist() == [1, 1, 1]


def test_rotation_is_round_robin_over_task_indices():
    assert measured_tasks(0, 3, 2, 5).tolist() == [0, 1, 2, 3, 4]  # reset measures every task
    assert measured_tasks(4, 3, 2, 5).tolist() == []  # not due
    assert [measured_tasks(d, 3, 2, 5).tolist() for d in (3, 6, 9)] == [[0, 1], [2, 3], [0, 4]]
    assert measured_tasks(6, 3, None, 5).tolist() == [0, 1, 2, 3, 4]
    assert rotation(np.array([2, 4, 6]), 2, 1, 3).tolist() == [[0], [1], [2]]


def test_bad_values_are_refused_naming_them(small_suite):
    with pytest.raises(ValueError, match="EnvConfig.observe_every must be at least 1, got 0"):
        EnvConfig(observe_every=0)
    with pytest.raises(ValueError, match="EnvConfig.observe_tasks must be at least 1.*got 0"):
        EnvConfig(observe_tasks=0)
    with pytest.raises(ValueError, match="observe_tasks must be at most the suite's 3 tasks, got 4"):
        make_env(small_suite, observe_tasks=4)
    config = EnvConfig(observe_every=4, observe_tasks=2, features="age, since")
    assert EnvConfig.from_json(config.to_json()) == config and config.features == ("age", "since")
