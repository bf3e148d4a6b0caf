"""The batched training env: step-for-step parity with MTLSchedulingEnv over cached features, the
gymnasium vector-env contract, masks, NaN handling, the feature cache, and the SB3 adapter."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import data_equivalence
from gymnasium.utils.passive_env_checker import check_obs
from gymnasium.vector.utils import batch_space
from gymnasium.wrappers.vector import RecordEpisodeStatistics

from mtl_gym.agents import QLS
from mtl_gym.agents.common.batched import BatchedVecEnv
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.baselines.kd import AsyncKDRule, KDConfig
from mtl_gym.data import load_suite
from mtl_gym.data.synthetic import DomainSpec
from mtl_gym.env import InvalidActionError
from mtl_gym.env import features as features_module
from mtl_gym.env.batched import BatchedMTLEnv, predicts
from mtl_gym.env.features import FeatureConfig, frozen_features
from mtl_gym.env.uncertainty import histogram, histograms
from mtl_gym.models import ModelConfig

ENCODER = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
FEATURES = FeatureConfig(encoder_budget=30)
TOLERANCE = 1e-9
"""The parity tests run both envs in float64 (conftest's ``float64`` fixture). Batched and per-run matmuls
round differently; over these tests' <= 60 Adam steps the float64 results stay within 1e-14 (measured:
1e-14 passes, 1e-15 fails), so 1e-9 leaves five orders of margin for other CPUs' kernels and still
catches any wrong update. In float32 the same drift reached 1.5e-5 on an AMD EPYC (a few 1e-7 on the
Intel machines the tests were written on): no float32 tolerance both holds on every CPU and stays tight."""


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


def make(suite, cache, num_envs=1, config=None, **kwargs) -> BatchedMTLEnv:
    return BatchedMTLEnv(num_envs, suite, ENCODER, config or {}, features=FEATURES, cache_dir=cache, **kwargs)


def assert_same_step(batched_step, single_step, run=0):
    observation, reward, terminated, truncated, info = batched_step
    expected_observation, expected_reward, expected_terminated, expected_truncated, expected_info = (
        single_step
    )
    np.testing.assert_allclose(observation[run], expected_observation, atol=TOLERANCE)
    assert reward[run] == pytest.approx(expected_reward, abs=TOLERANCE)
    assert (terminated[run], truncated[run]) == (expected_terminated, expected_truncated)
    np.testing.assert_array_equal(info["action_mask"][run], expected_info["action_mask"])
    assert info["step"][run] == expected_info["step"]
    for name in expected_info["dev_loss"]:
        assert info["dev_loss"][name][run] == pytest.approx(expected_info["dev_loss"][name], abs=TOLERANCE)
        assert info["dev_accuracy"][name][run] == pytest.approx(expected_info["dev_accuracy"][name])
        assert info["minibatches"][name][run] == expected_info["minibatches"][name]
        assert info["samples"][name][run] == expected_info["samples"][name]


CONFIGS = {
    "defaults": {"episode_steps": 30, "refresh_every": 7},
    "variants": {
        "episode_steps": 12,
        "refresh_every": 5,
        "steps_per_action": 2,
        "reward": "loss-decrease",
        "uncertainty": "entropy",
        "features": ("loss", "elapsed", "since", "share"),
        "reference": "auto",
        "reference_budget": 20,
        "penalty_threshold": 1.0,
        "penalty_from": 0.4,
    },
    "hard-reward": {"episode_steps": 25, "refresh_every": 4, "reward_set": "hard"},
    "normalized": {
        "episode_steps": 15,
        "refresh_every": 6,
        "reward": "loss-normalized",
        "features": ("share", "since", "loss", "elapsed"),
    },
    "whole-dev": {
        "episode_steps": 20,
        "refresh_every": 3,
        "reward_set": "dev",
        "hard_samples": 5,
        "uncertainty": "least-confidence",
    },
    "hard-from-reward": {"episode_steps": 20, "hard_from": "reward", "hard_samples": 3, "reward_samples": 5},
    "hard-from-whole-dev": {
        "episode_steps": 20,
        "hard_from": "reward",
        "reward_set": "dev",
        "hard_samples": 4,
    },
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_one_run_matches_the_single_env_step_for_step(small_suite, cache, float64, name):
    """Across episode ends (autoreset against the single env's own reset), hard-sample refreshes
    and every observation/reward setting."""
    batched = make(small_suite, cache, config=CONFIGS[name])
    single = batched.single_env()
    observation, info = batched.reset(seed=11)
    expected_observation, expected_info = single.reset(seed=11)
    np.testing.assert_allclose(observation[0], expected_observation, atol=TOLERANCE)
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(45):
        action = int(rng.integers(batched.num_tasks))
        step = batched.step(np.array([action]))
        assert_same_step(step, single.step(action))
        if step[2][0] or step[3][0]:
            ends += 1
            expected_observation, expected_info = single.reset()
            # The next batched step resets the run (NEXT_STEP autoreset): its action is ignored.
            observation, reward, terminated, truncated, info = batched.step(np.array([0]))
            np.testing.assert_allclose(observation[0], expected_observation, atol=TOLERANCE)
            assert (reward[0], terminated[0], truncated[0], info["step"][0]) == (0.0, False, False, 0)
    assert ends >= 1


AMORTISED = {
    "every": {"observe_every": 3, "features": ("loss", "since", "age")},
    "subset": {"observe_tasks": 1, "features": ("age", "share", "loss"), "reward": "loss-normalized"},
    "both": {
        "observe_every": 2,
        "observe_tasks": 2,
        "features": ("age", "elapsed"),
        "reward": "loss-decrease",
    },
    "hard-from-reward": {"observe_every": 3, "hard_from": "reward", "hard_samples": 2, "features": ("age",)},
}


@pytest.mark.parametrize("name", sorted(AMORTISED))
def test_amortised_runs_match_single_envs_out_of_step(small_suite, cache, float64, name):
    """Observations, rewards and info (dev_age included) under observe_every / observe_tasks, with
    one run reset mid-episode so that the runs' passes and turns fall at different decisions."""
    config = {"episode_steps": 8, "refresh_every": 5, **AMORTISED[name]}
    batched = make(small_suite, cache, num_envs=2, config=config)
    singles = [batched.single_env() for _ in range(2)]
    observations, _ = batched.reset(seed=7)
    for i, single in enumerate(singles):
        np.testing.assert_allclose(observations[i], single.reset(seed=7 + i)[0], atol=TOLERANCE)
    rng = np.random.default_rng(2)
    for step in range(20):
        if step == 4:
            observations, info = batched.reset(options={"reset_mask": np.array([False, True])})
            np.testing.assert_allclose(observations[1], singles[1].reset()[0], atol=TOLERANCE)
        actions = rng.integers(batched.num_tasks, size=2)
        batched_step = batched.step(actions)
        for i, single in enumerate(singles):
            if batched_step[4]["step"][i] == 0:  # reset by this step (NEXT_STEP autoreset)
                np.testing.assert_allclose(batched_step[0][i], single.reset()[0], atol=TOLERANCE)
                continue
            expected = single.step(int(actions[i]))
            assert_same_step(batched_step, expected, run=i)
            ages = {name: batched_step[4]["dev_age"][name][i] for name in small_suite.names}
            assert ages == expected[4]["dev_age"]


def test_amortised_runs_leave_passes_not_due_out_of_the_probe_computation(small_suite, cache, monkeypatch):
    passes = []
    measure = BatchedMTLEnv._measure

    def spy(self, runs, tasks):
        if len(runs):
            passes.append((runs.tolist(), None if tasks is None else tasks.tolist()))
        return measure(self, runs, tasks)

    monkeypatch.setattr(BatchedMTLEnv, "_measure", spy)
    env = make(small_suite, cache, num_envs=2, config={"observe_every": 2, "observe_tasks": 1})
    env.reset(seed=0)
    for _ in range(4):
        env.step(np.array([0, 1]))
    assert passes == [([0, 1], None), ([0, 1], [[0], [0]]), ([0, 1], [[1], [1]])]


def test_runs_are_independent_and_match_single_envs_seeded_in_turn(small_suite, cache, float64):
    """Run i of ``reset(seed=s)`` is the single env reset with seed s + i, whatever the others do."""
    batched = make(small_suite, cache, num_envs=3, config={"refresh_every": 4})
    singles = [batched.single_env() for _ in range(3)]
    observations, _ = batched.reset(seed=5)
    for i, single in enumerate(singles):
        np.testing.assert_allclose(observations[i], single.reset(seed=5 + i)[0], atol=TOLERANCE)
    rng = np.random.default_rng(1)
    for _ in range(12):
        actions = rng.integers(batched.num_tasks, size=3)
        step = batched.step(actions)
        for i, single in enumerate(singles):
            assert_same_step(step, single.step(int(actions[i])), run=i)


def test_vector_env_contract(small_suite, cache):
    env = make(small_suite, cache, num_envs=4, config={"episode_steps": 6})
    assert env.observation_space == batch_space(env.single_observation_space, 4)
    assert env.action_space == batch_space(env.single_action_space, 4)
    assert env.metadata["autoreset_mode"].value == "NextStep"
    first, info = env.reset(seed=3)
    check_obs(first, env.observation_space, "reset")
    assert set(info["_step"]) == {True} and set(info["dev_loss"]) >= {"alpha", "_alpha"}
    again, _ = env.reset(seed=3)
    assert data_equivalence(first, again, exact=True)
    env.action_space.seed(0)
    actions = env.action_space.sample()
    stepped = env.step(actions)
    env.reset(seed=3)
    repeated = env.step(actions)
    for one, other in zip(stepped[:4], repeated[:4], strict=True):
        assert data_equivalence(one, other, exact=True)
    check_obs(stepped[0], env.observation_space, "step")
    assert stepped[1].dtype == np.float64 and stepped[2].dtype == stepped[3].dtype == np.bool_
    stepped[0][:] = -1.0  # returned arrays are the caller's
    assert not np.array_equal(env.step(actions)[0], stepped[0])
    assert env.action_masks().shape == (4, env.num_tasks)
    partial, info = env.reset(options={"reset_mask": np.array([True, False, False, False])})
    assert info["_step"].tolist() == [True, False, False, False] and info["step"][0] == 0

    wrapped = RecordEpisodeStatistics(make(small_suite, cache, num_envs=2, config={"episode_steps": 3}))
    wrapped.reset(seed=0)
    for _ in range(3):
        *_, info = wrapped.step(np.array([0, 1]))
    assert info["_episode"].all() and list(info["episode"]["l"]) == [3, 3]


def test_same_step_autoreset_reports_the_final_state(small_suite, cache):
    env = make(small_suite, cache, num_envs=2, config={"episode_steps": 3}, autoreset_mode="SameStep")
    env.reset(seed=0)
    for _ in range(2):
        env.step(np.array([1, 2]))
    observation, reward, terminated, truncated, info = env.step(np.array([1, 2]))
    assert truncated.all() and info["_final_obs"].all()
    assert list(info["final_info"]["step"]) == [3, 3] and list(info["step"]) == [0, 0]
    assert info["final_info"]["minibatches"]["beta"][0] == 3
    assert not np.allclose(info["final_obs"][0], observation[0])
    assert env.step(np.array([0, 0]))[4]["step"].tolist() == [1, 1]


def test_invalid_and_masked_actions_name_the_run_and_train_nothing(small_suite, cache):
    env = make(small_suite, cache, num_envs=3)
    env.reset(seed=0)
    before = env.minibatches.copy()
    with pytest.raises(InvalidActionError, match=r"run 2: action 7 is out of range for 3 tasks"):
        env.step(np.array([0, 1, 7]))
    with pytest.raises(InvalidActionError, match="3 integer task indices"):
        env.step(np.array([0.0, 1.0, 2.0]))
    env.masks[1, 2] = False
    assert env.action_masks()[1].tolist() == [True, True, False]
    with pytest.raises(InvalidActionError, match=r"run 1: action 2 \('gamma'\) is masked"):
        env.step(np.array([2, 2, 2]))
    np.testing.assert_array_equal(env.minibatches, before)
    *_, info = env.step(np.array([2, 1, 2]))
    assert info["action_mask"][1].tolist() == [True, True, False]
    assert [info["minibatches"]["gamma"][i] for i in range(3)] == [1, 0, 1]


def test_a_nan_loss_terminates_only_its_run(small_suite, cache):
    env = make(small_suite, cache, num_envs=2, config={"penalty": -7.0})
    observation, _ = env.reset(seed=0)
    env.params["head_weight"][1, 0] = float("nan")
    steps_before = env.shared_steps.clone()
    observation_after, reward, terminated, truncated, info = env.step(np.array([0, 0]))
    assert terminated.tolist() == [False, True] and reward[1] == -7.0 and not truncated.any()
    assert info["_nan_loss"].tolist() == [False, True] and info["nan_loss"]["task"][1] == "alpha"
    np.testing.assert_array_equal(observation_after[1], observation[1])
    assert env.shared_steps.tolist() == [steps_before[0] + 1, steps_before[1]]
    assert info["minibatches"]["alpha"].tolist() == [1, 0]
    *_, info = env.step(np.array([0, 0]))  # the failed run is reset, the other goes on
    assert info["step"].tolist() == [2, 0]


def test_a_model_left_non_finite_by_its_update_fails_its_run_on_dev(small_suite, cache, monkeypatch):
    """As in the single env: the step's training loss was finite, the model it left is not; the run
    ends with the penalty, its last finite observation and nan_loss where="dev"."""
    env = make(small_suite, cache, num_envs=2, config={"penalty": -7.0, "episode_steps": 1})
    observation, _ = env.reset(seed=0)
    train = BatchedMTLEnv._train

    def corrupting(self, *args):
        failed = train(self, *args)
        self.params["head_weight"][1, 1] = float("nan")
        return failed

    monkeypatch.setattr(BatchedMTLEnv, "_train", corrupting)
    after, reward, terminated, truncated, info = env.step(np.array([0, 0]))
    assert terminated.tolist() == [False, True] and truncated.tolist() == [True, False]
    assert reward[1] == -7.0 and np.isfinite(reward).all()
    assert info["nan_loss"]["task"][1] == "beta" and info["nan_loss"]["where"][1] == "dev"
    np.testing.assert_array_equal(after[1], observation[1])
    assert not info["_nan_loss"][0]


def test_feature_cache_is_reused_and_keyed_by_suite_model_and_seed(small_suite, cache, monkeypatch, tmp_path):
    first = frozen_features(small_suite, ENCODER, config=FEATURES, cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("features-synthetic-") and files[0].endswith(".pt")

    def no_training(*args, **kwargs):
        raise AssertionError("the cached features should have been read")

    monkeypatch.setattr(features_module, "train_encoder", no_training)
    again = frozen_features(small_suite, ENCODER, config=FEATURES, cache_dir=tmp_path)
    assert again.key == first.key and torch.equal(again.table, first.table)
    monkeypatch.undo()

    other_content = load_suite(
        "synthetic",
        domains=(DomainSpec("alpha", train_size=300, difficulty=0.2, label_noise=0.0),),
        dev_size=60,
        test_size=100,
    )
    variants = {
        "seed": frozen_features(small_suite, ENCODER, config=FeatureConfig(30, seed=1), cache_dir=tmp_path),
        "model": frozen_features(
            small_suite,
            ModelConfig(name="cnn", embedding_dim=16, hidden_dim=8),
            config=FEATURES,
            cache_dir=tmp_path,
        ),
        "budget": frozen_features(small_suite, ENCODER, config=FeatureConfig(31), cache_dir=tmp_path),
        "suite": frozen_features(other_content, ENCODER, config=FEATURES, cache_dir=tmp_path),
    }
    keys = {first.key} | {features.key for features in variants.values()}
    assert len(keys) == 5
    assert not torch.equal(variants["seed"].table, first.table)
    assert variants["model"].dim == 8
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_tagging_suites_are_refused(tagging_suite, cache):
    with pytest.raises(ValueError, match="classification suites only"):
        BatchedMTLEnv(1, tagging_suite(2), ENCODER, features=FEATURES, cache_dir=cache)


def test_batched_helpers_match_what_the_single_env_uses():
    torch.manual_seed(0)
    values = torch.cat([torch.rand(500, 16), torch.randint(0, 21, (500, 16)) / 20])
    expected = torch.stack([histogram(row, 20) for row in values])
    assert torch.equal(histograms(values, 20), expected)
    valid = torch.arange(16) < 9
    assert torch.equal(histograms(values, 20, valid)[3], histogram(values[3, :9], 20))
    broken = torch.tensor([[0.1, float("nan"), float("inf"), -float("inf")], [float("nan")] * 4])
    for row, found in zip(broken, histograms(broken, 5), strict=True):
        torch.testing.assert_close(found, histogram(row, 5), equal_nan=True)
    assert histograms(broken, 5)[1].isnan().all()
    logits = torch.randint(0, 3, (2000, 4)).float()
    labels = torch.randint(0, 4, (2000,))
    assert torch.equal(predicts(logits, labels), logits.argmax(-1).eq(labels))


def test_sb3_adapter_trains_qls_with_same_step_semantics(small_suite, cache, tmp_path):
    env = BatchedVecEnv(
        num_envs=4,
        suite=small_suite,
        model=ENCODER,
        config={"episode_steps": 5},
        features=FEATURES,
        cache_dir=cache,
    )
    env.seed(0)
    observations = env.reset()
    assert observations.shape == (4, env.observation_space.shape[0])
    assert [mask.tolist() for mask in env.env_method("action_masks", indices=[1, 3])] == [[True] * 3] * 2
    for _ in range(4):
        _, _, dones, infos = env.step(np.array([0, 1, 2, 0]))
        assert not dones.any()
    _, rewards, dones, infos = env.step(np.array([0, 1, 2, 0]))
    assert dones.all() and rewards.dtype == np.float32
    assert infos[0]["step"] == 5 and infos[0]["TimeLimit.truncated"] is True
    assert infos[2]["minibatches"]["gamma"] == 5 and infos[2]["action_mask"].tolist() == [True] * 3
    assert infos[0]["terminal_observation"].shape == observations.shape[1:]
    assert env.reset_infos[0]["step"] == 0

    agent = QLS("MlpPolicy", env, seed=0, learning_starts=8)
    agent.learn(64)
    assert agent.num_timesteps >= 64 and agent.explorer.counts.sum() >= 64

    config = TrainAgentConfig(
        model=ENCODER.to_dict(),
        env={"episode_steps": 10},
        timesteps=40,
        fast=True,
        num_envs=4,
        features={"encoder_budget": 30},
    )
    monkey_cache = pytest.MonkeyPatch()
    monkey_cache.setenv("MTL_GYM_CACHE", str(cache))
    try:
        record = train_agent(config, tmp_path / "agent", progress_bar=False, suite=small_suite)
    finally:
        monkey_cache.undo()
    assert (tmp_path / "agent" / "agent.zip").is_file() and record["config"]["fast"] is True


@pytest.mark.parametrize(
    "setting, order", [("joint", ()), ("scheduled", ()), ("sequential", ("gamma", "alpha", "beta"))]
)
def test_kd_rule_runs_per_run_as_in_the_single_env(small_suite, cache, float64, setting, order):
    """Each run's AsyncKDRule evaluates, rewinds, distils (T = 2, KD every other step), masks and
    ends its episode on its own, exactly as the rule does on the single env with that seed."""
    kd = KDConfig(eval_every=4, patience=2, temperature=2.0, kd_every=2)

    def rules():
        return [AsyncKDRule(setting, order, kd)]

    env = make(small_suite, cache, num_envs=3, config={"episode_steps": 200, "refresh_every": 7}, rules=rules)
    singles = [env.single_env(rules=rules()) for _ in range(3)]
    env.reset(seed=2)
    for i, single in enumerate(singles):
        single.reset(seed=2 + i)
    rng = np.random.default_rng(0)
    ended_at = {}
    for step in range(1, 60):
        masks = env.action_masks()
        # A run whose episode ended (every task converged, all masked) is reset by this step.
        actions = np.array([rng.choice(np.flatnonzero(mask)) if mask.any() else 0 for mask in masks])
        batched_step = env.step(actions)
        for i, single in enumerate(singles):
            if i in ended_at:
                continue
            np.testing.assert_array_equal(masks[i], single.action_masks())
            expected = single.step(int(actions[i]))
            assert_same_step(batched_step, expected, run=i)
            converged = {name: batched_step[4]["converged"][name][i] for name in small_suite.names}
            assert converged == expected[4]["converged"]
            if expected[2]:
                ended_at[i] = step
        if len(ended_at) == 3:
            break
    assert len(ended_at) == 3, "every run should converge on every task within the test"
    if setting == "scheduled":
        assert len(set(ended_at.values())) > 1, "runs converge at different steps, each with its own masks"
