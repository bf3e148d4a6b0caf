"""The scheduling env: spaces, observation, reward, masks, rules, NaN handling, registration."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import mtl_gym  # noqa: F401  (registers the gymnasium ids)
from mtl_gym.env import (
    EnvConfig,
    InvalidActionError,
    MTLSchedulingEnv,
    Rule,
    histogram,
    reference_accuracies,
    uncertainty,
)
from mtl_gym.env import reference as reference_module
from mtl_gym.env.probes import hardest_examples
from mtl_gym.models import ModelConfig
from mtl_gym.training import example_losses, split_logits

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}


def make_env(suite, **config):
    return MTLSchedulingEnv(suite, FAST_MODEL, EnvConfig(**config))


def test_gymnasium_and_sb3_check_env(small_suite):
    from gymnasium.utils.env_checker import check_env
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(make_env(small_suite, episode_steps=20))
    sb3_check_env(make_env(small_suite, episode_steps=20))


def test_registered_id_needs_no_data_files():
    env = gym.make("mtl_gym/SyntheticText-v0", model=FAST_MODEL, config={"hard_samples": 8})
    observation, info = env.reset(seed=0)
    assert observation.shape == (4 * 20,) and env.action_space.n == 4
    assert set(info["dev_loss"]) == {"books", "electronics", "kitchen", "toys"}


@pytest.mark.parametrize("measure", ["margin", "entropy", "least-confidence"])
def test_histograms_sum_to_one_per_task(small_suite, measure):
    env = make_env(small_suite, uncertainty=measure, bins=10)
    observation, _ = env.reset(seed=1)
    assert observation.shape == (3 * 10,) and observation.dtype == np.float32
    assert np.allclose(observation.reshape(3, 10).sum(axis=1), 1.0)
    for action in (0, 1, 2, 0):
        observation, *_ = env.step(action)
        assert np.allclose(observation.reshape(3, 10).sum(axis=1), 1.0)


def test_loss_and_elapsed_features_shape_and_values(small_suite):
    env = make_env(small_suite, features=("loss", "elapsed"), episode_steps=4)
    observation, info = env.reset(seed=0)
    assert observation.shape == (3 * 20 + 3 + 1,)
    assert np.allclose(observation[60:63], list(info["dev_loss"].values()), atol=1e-6)
    observation, *_ = env.step(0)
    assert observation[-1] == pytest.approx(0.25)
    assert env.observation_space.contains(observation)


def test_uncertainty_measures_on_known_probabilities():
    p = torch.tensor([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert torch.allclose(uncertainty(p, "margin"), torch.tensor([0.5, 1.0, 0.0]))
    assert torch.allclose(uncertainty(p, "least-confidence"), torch.tensor([0.45, 1.0, 0.0]))
    assert torch.allclose(uncertainty(p, "entropy")[1:], torch.tensor([1.0, 0.0]), atol=1e-6)
    assert histogram(torch.tensor([0.0, 0.01, 0.99, 1.0]), 2).tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="unknown uncertainty measure"):
        uncertainty(p, "variance")


def test_always_task_zero_lowers_its_loss_most(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, EnvConfig(reward_set="dev"), trainer={"lr": 3e-3})
    _, start = env.reset(seed=0)
    for _ in range(60):
        _, _, _, _, info = env.step(0)
    drops = {name: start["dev_loss"][name] - info["dev_loss"][name] for name in small_suite.names}
    assert drops["alpha"] > 0.05 and drops["alpha"] > drops["beta"] and drops["alpha"] > drops["gamma"]
    assert info["minibatches"] == {"alpha": 60, "beta": 0, "gamma": 0}
    # 300 examples make epochs of 18 batches of 16 and one of 12: 3 epochs (57 batches) then 3 more.
    assert info["samples"]["alpha"] == 3 * 300 + 3 * 16


def test_seeded_episode_is_reproducible(small_suite):
    def episode(seed):
        env = make_env(small_suite, refresh_every=3)
        observation, _ = env.reset(seed=seed)
        trace = [observation]
        for action in [0, 2, 1, 1, 0, 2, 2]:
            observation, reward, *_ = env.step(action)
            trace += [observation, np.array([reward])]
        return np.concatenate(trace)

    assert np.array_equal(episode(5), episode(5))
    assert not np.array_equal(episode(5), episode(6))


def test_reward_is_minus_summed_dev_loss_and_penalty(small_suite):
    env = make_env(small_suite, reward_set="dev")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(1)
    assert reward == pytest.approx(-sum(info["dev_loss"].values()))
    full = env.trainer.evaluate("dev")
    assert info["dev_loss"]["beta"] == pytest.approx(full["beta"].loss, rel=1e-4)
    strict = make_env(small_suite, reference=(1.0, 1.0, 1.0))
    strict.reset(seed=0)
    assert strict.step(0)[1] == -10.0
    lenient = make_env(small_suite, reference=(0.1, 0.1, 0.1), reward="loss-decrease")
    lenient.reset(seed=0)
    _, first, *_ = lenient.step(0)
    assert first != -10.0 and abs(first) < 1.0


def test_hard_samples_are_the_highest_loss_dev_examples(small_suite):
    model = ModelConfig(**FAST_MODEL)(small_suite)
    chosen = hardest_examples(model, small_suite, 1, 5, batch_size=7)
    losses = torch.empty(len(small_suite[1].dev))
    for positions, batch, logits in split_logits(model, 1, small_suite[1], "dev"):
        losses[positions] = example_losses(logits, batch.labels)
    assert set(chosen.tolist()) == set(torch.topk(losses, 5).indices.tolist())


def test_hard_from_reward_takes_each_pass_hardest_reward_samples_without_a_dev_pass(small_suite, monkeypatch):
    """Under hard_from="reward" the histogram is that of the hard_samples reward samples of highest
    loss under the current model, re-chosen at every pass; hardest_examples (a dev pass) never runs."""
    from mtl_gym.env import env as env_module

    monkeypatch.setattr(env_module, "hardest_examples", lambda *a, **k: pytest.fail("made a dev pass"))
    env = make_env(small_suite, hard_from="reward", hard_samples=3, reward_samples=8, bins=10)
    env.reset(seed=4)
    for action in (0, 1, 2, 0, 1):
        observation, *_ = env.step(action)
    model = env.trainer.model.eval()
    for t, task in enumerate(small_suite):
        index = env.reward_index[t]
        with torch.inference_mode():
            tokens = task.dev.tokens[index]
            logits = model.head(t, model.encode(tokens, task.dev.lengths[index]))
        hardest = torch.topk(example_losses(logits, task.dev.labels[index]), 3).indices
        expected = histogram(uncertainty(logits[hardest].softmax(-1)), 10).numpy()
        np.testing.assert_allclose(observation.reshape(3, 10)[t], expected, atol=1e-6)
    with pytest.raises(ValueError, match="reward_set must be 'sample' or 'dev'"):
        EnvConfig(hard_from="reward", reward_set="hard")


def test_batched_probes_match_per_task_probes(small_suite):
    observations = []
    for batched in (True, False):
        env = make_env(small_suite, batch_probes=batched, probe_chunk_size=16)
        observation, info = env.reset(seed=3)
        observation, *_ = env.step(2)
        observations.append((observation, env._metrics["loss"]))
    assert np.allclose(observations[0][0], observations[1][0])
    assert np.allclose(observations[0][1], observations[1][1], rtol=1e-5)


class MaskTask(Rule):
    def __init__(self, task):
        self.task = task

    def allowed(self, env):
        mask = np.ones(env.num_tasks, dtype=bool)
        mask[self.task] = False
        return mask


def test_masked_out_of_range_and_malformed_actions_raise(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, rules=[MaskTask(1)])
    _, info = env.reset(seed=0)
    assert info["action_mask"].tolist() == [True, False, True]
    assert env.action_masks().tolist() == [True, False, True]
    for bad, message in [
        (1, "action 1 \\('beta'\\) is masked"),
        (3, "out of range"),
        (-1, "out of range"),
        (0.5, "integer"),
    ]:
        with pytest.raises(InvalidActionError, match=message):
            env.step(bad)
    assert env.trainer.budget.total == 0
    env.step(np.int64(2))
    assert env.trainer.budget.per_task == [0, 0, 1]


class EndAfter(Rule):
    def __init__(self, steps):
        self.steps = steps

    def extra_tasks(self, env, action):
        return [2], [0.5]

    def done(self, env):
        return env.steps >= self.steps


def test_rules_add_tasks_and_terminate(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, rules=[EndAfter(2)])
    env.reset(seed=0)
    assert env.step(0)[2] is False
    _, _, terminated, truncated, info = env.step(0)
    assert terminated and not truncated
    assert info["minibatches"] == {"alpha": 2, "beta": 0, "gamma": 2}


def test_truncated_at_episode_end(small_suite):
    env = make_env(small_suite, episode_steps=3, steps_per_action=2)
    env.reset(seed=0)
    flags = [env.step(0)[3] for _ in range(3)]
    assert flags == [False, False, True] and env.trainer.budget.total == 6


class NaNAfterFirstStep(nn.Module):
    def __init__(self, suite):
        super().__init__()
        self.inner = ModelConfig(**FAST_MODEL)(suite)
        self.heads = self.inner.heads
        self.calls = 0

    def encode(self, tokens, lengths):
        return self.inner.encode(tokens, lengths)

    def head(self, task_index, features):
        logits = self.inner.head(task_index, features)
        if self.training:
            self.calls += 1
            if self.calls > 1:
                return logits * float("nan")
        return logits


def test_nan_loss_terminates_with_a_flag(small_suite):
    env = MTLSchedulingEnv(small_suite, NaNAfterFirstStep)
    first, _ = env.reset(seed=0)
    env.step(0)
    observation, reward, terminated, truncated, info = env.step(1)
    assert terminated and not truncated and reward == -10.0
    assert info["nan_loss"]["task"] == "beta" and np.isnan(info["nan_loss"]["value"])
    assert env.observation_space.contains(observation)


def test_tagging_env_uses_per_token_margins(tagging_suite):
    suite = tagging_suite(10)
    env = make_env(suite, hard_samples=3, bins=5)
    observation, _ = env.reset(seed=0)
    assert observation.shape == (5,) and observation.sum() == pytest.approx(1.0)
    hard_tokens = int(suite[0].dev.lengths[env.hard_index[0]].sum())
    env.step(0)
    margins = uncertainty(
        env.probes.logits(env.trainer.model)[0].softmax(-1)[env.probes.tasks[0].hard][
            env.probes.tasks[0].labels[env.probes.tasks[0].hard] >= 0
        ]
    )
    assert len(margins) == hard_tokens


def test_env_config_round_trips_json():
    config = EnvConfig(bins=10, reference=(0.8, 0.9), reward="loss-decrease")
    assert EnvConfig.from_json(config.to_json()) == config
    with pytest.raises(ValueError, match="EnvConfig.reward must be one of"):
        EnvConfig(reward="accuracy")
    with pytest.raises(ValueError, match="EnvConfig has no setting"):
        EnvConfig.of({"bin": 3})


def test_reference_accuracies_are_cached(small_suite, tmp_path, monkeypatch):
    model = ModelConfig(**FAST_MODEL)
    first = reference_accuracies(small_suite, model, budget=20, eval_every=10, cache_dir=tmp_path)
    assert len(first) == 3 and all(0.0 < a <= 1.0 for a in first)
    assert len(list(tmp_path.glob("reference-synthetic-*.json"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("should have come from the cache")

    monkeypatch.setattr(reference_module, "single_task_accuracy", fail)
    assert reference_accuracies(small_suite, model, budget=20, eval_every=10, cache_dir=tmp_path) == first
    with pytest.raises(AssertionError, match="cache"):
        reference_accuracies(small_suite, model, budget=21, eval_every=10, cache_dir=tmp_path)


def test_observation_off_trains_the_same(small_suite):
    weights = []
    for observe in (True, False):
        env = make_env(small_suite, observe=observe)
        observation, _ = env.reset(seed=4)
        for action in (0, 1, 2, 2):
            observation, reward, *_ = env.step(action)
        weights.append(torch.cat([p.detach().flatten() for p in env.trainer.model.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert not observation.any() and reward == 0.0
