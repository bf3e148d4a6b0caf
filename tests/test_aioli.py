"""Aioli: its exponentiated-gradient step, the least-squares estimate of A, masks, the probes' cost
and its hyperparameters."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from test_schedulers import FAST_MODEL, MaskTask, Recorder

from mtl_gym.baselines.schedulers.aioli import Aioli, estimate_interactions, normalise, whole_counts
from mtl_gym.env import MTLSchedulingEnv, run_schedule

A = np.array([[0.3, 0.1, -0.1], [0.05, 0.2, 0.0], [0.1, -0.05, 0.4]])
"""A fixed interaction matrix: A[i, j] is the fall of task i's loss per minibatch of task j."""


def started(small_suite, budget: int = 60, objective: str = "mean", **hyperparameters):
    """An Aioli reset on a fresh env whose run is ``budget`` task-minibatches long, and the env's info."""
    config = {"episode_steps": budget, "observe": False, "objective": objective}
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, config)
    _, info = env.reset(seed=0)
    scheduler = Aioli(dev_samples=16, **hyperparameters)
    scheduler.reset(env, 0)
    return scheduler, env, info


def test_the_update_matches_a_hand_computed_exponentiated_gradient_step(small_suite):
    scheduler, _, info = started(small_suite, step_size=0.5)
    assert np.allclose(scheduler.probabilities(info), 1 / 3)  # p^0 is uniform
    p = np.array([0.5, 0.3, 0.2])
    scheduler.log_weights = np.log(p)
    scheduler.update(A, np.arange(3))
    # Normalised: shifted by 0.1 (the minimum is -0.1), then divided by the sum, 1.9.
    shifted = np.array([[0.4, 0.2, 0.0], [0.15, 0.3, 0.1], [0.2, 0.05, 0.5]])
    assert np.allclose(scheduler.interactions[-1], shifted / 1.9)
    # mean: p_j ∝ p_j exp(η Σ_i Â_ij), the column sums 0.75, 0.55 and 0.6 over 1.9.
    raised = p * np.exp(0.5 * np.array([0.75, 0.55, 0.6]) / 1.9)
    assert np.allclose(scheduler.probabilities(info), raised / raised.sum())
    # target:gamma counts gamma's row alone, at K = 3 times its objective weight of 1.
    target, _, info = started(small_suite, objective="target:gamma", step_size=0.5)
    target.log_weights = np.log(p)
    target.update(A, np.arange(3))
    raised = p * np.exp(0.5 * 3 * np.array([0.2, 0.05, 0.5]) / 1.9)
    assert np.allclose(target.probabilities(info), raised / raised.sum())


def test_least_squares_recovers_a_known_interaction_matrix():
    rng = np.random.default_rng(0)
    # Two sweeps of the default probes on 3 tasks, (1 - 0.25) / 3 + 0.25 e_j over 4 minibatches.
    mixtures = np.full((3, 3), 0.25) + 0.25 * np.eye(3)
    counts = np.array([whole_counts(m, 4, rng) for m in mixtures] * 2)
    assert np.array_equal(counts[:3], [[2, 1, 1], [1, 2, 1], [1, 1, 2]])
    drops = counts @ A.T
    estimate = estimate_interactions(counts, drops)
    assert np.allclose(estimate, A)
    # The authors' estimator, the probe mixtures solved against the sweeps' average falls, gives
    # A per probe (4 minibatches): the same once normalised.
    authors = np.linalg.solve(mixtures, (drops[:3] + drops[3:]) / 2).T
    assert np.allclose(authors, 4 * A) and np.allclose(normalise(authors), normalise(estimate))
    # Five tasks: the probes' rounding differs from probe to probe, and least squares still recovers A.
    known = rng.normal(size=(5, 5))
    mixtures = np.full((5, 5), 0.15) + 0.25 * np.eye(5)
    counts = np.array([whole_counts(m, 4, rng) for m in mixtures for _ in range(4)])
    assert np.all(counts.sum(axis=1) == 4) and np.all(counts.max(axis=1) == 2)
    assert np.allclose(estimate_interactions(counts, counts @ known.T), known)


def test_a_masked_task_is_never_picked_and_gets_weight_zero(small_suite):
    recorder = Recorder(Aioli(round_steps=20, sweeps=2, dev_samples=16, step_size=5.0))
    result = run_schedule(
        recorder, small_suite, budget=60, seed=0, model=FAST_MODEL, rules=[MaskTask(1)], evaluations=1
    )
    aioli = recorder.inner
    assert result.action_counts["beta"] == 0 and sum(result.action_counts.values()) == 60
    # Rounds at budgets 0, 20 and 40, each learnt after its 2 x 2 x 4 probe minibatches.
    assert len(aioli.interactions) == 3 and all(a.shape == (3, 2) for a in aioli.interactions)
    info = {"budget": 60, "action_mask": np.array([True, False, True])}
    probabilities = aioli.probabilities(info)
    assert aioli.weights(info)[1] == 0 and probabilities[1] == 0
    assert not np.allclose(probabilities[[0, 2]], 0.5)
    # The update over the allowed columns 0 and 2 alone: shifted by 0.1, they sum to 1.35; beta's
    # weight moves only by the shift that keeps the largest log weight at 0.
    before = aioli.log_weights.copy()
    aioli.update(A, np.array([0, 2]))
    assert np.allclose(aioli.interactions[-1], np.array([[0.4, 0.0], [0.15, 0.1], [0.2, 0.5]]) / 1.35)
    moved = aioli.log_weights - before
    assert np.allclose(moved[[0, 2]] - moved[1], 5.0 * np.array([0.75, 0.6]) / 1.35)
    assert aioli.probabilities(info)[1] == 0


def test_the_probes_are_charged_steps_of_the_run_and_feed_the_estimate(small_suite):
    scheduler, env, info = started(small_suite, round_steps=30, sweeps=2)
    observation, actions = None, []
    while env.trainer.budget.total < 60:
        actions.append(scheduler(observation, info))
        observation, _, _, _, info = env.step(actions[-1])
    # Rounds at budgets 0 and 30, each opened by 2 sweeps x 3 tasks x 4 minibatches of probes.
    assert len(scheduler.interactions) == 2 and scheduler.probe_budget == 48
    for start in (0, 30):
        blocks = np.array(actions[start : start + 24]).reshape(6, 4)
        compositions = np.array([np.bincount(b, minlength=3) for b in blocks])
        assert all(sorted(c) == [1, 1, 2] for c in compositions)  # the probed task twice, the others once
        probed = compositions.argmax(axis=1)
        assert sorted(probed[:3]) == sorted(probed[3:]) == [0, 1, 2]  # each sweep probes every task
    assert np.array_equal(scheduler.counts, compositions)
    # Kept, not rewound: the probes are in the trainer's budget with the rest of the run, no more.
    assert env.trainer.budget.total == len(actions) == 60
    assert env.trainer.budget.per_task == list(np.bincount(actions, minlength=3))
    estimate = estimate_interactions(np.array(scheduler.counts), np.array(scheduler.drops))
    assert np.allclose(scheduler.interactions[-1], normalise(estimate))
    assert not np.allclose(scheduler.probabilities(info), 1 / 3)


def test_a_non_finite_dev_loss_raises(small_suite):
    scheduler, env, info = started(small_suite)
    with env.trainer.rewound(), torch.no_grad():
        for parameter in env.trainer.model.parameters():
            parameter.fill_(float("nan"))
        with pytest.raises(FloatingPointError, match="aioli: the dev loss on task 'alpha' is nan"):
            scheduler(None, info)


def test_hyperparameters_by_name():
    aioli = Aioli.from_argument("step_size=0.5,perturbation=0.5,round_steps=100,probe_steps=2,sweeps=3")
    hyperparameters = ("step_size", "perturbation", "round_steps", "probe_steps", "sweeps")
    assert [getattr(aioli, name) for name in hyperparameters] == [0.5, 0.5, 100, 2, 3]


@pytest.mark.parametrize(
    "argument",
    [
        "step_size=0",
        "step_size=-1",
        "step_size=nan",
        "perturbation=0",
        "perturbation=1.5",
        "round_steps=0",
        "probe_steps=2.5",
        "sweeps=true",
        "dev_samples=-3",
    ],
)
def test_bad_hyperparameters_raise_naming_the_value(argument):
    name, value = argument.split("=")
    value = {"true": "True"}.get(value, value)
    with pytest.raises(ValueError, match=rf"{name}.*{re.escape(value)}"):
        Aioli.from_argument(argument)


def test_reset_refuses_probes_that_fill_the_round_or_cannot_be_told_apart(small_suite):
    with pytest.raises(ValueError, match=r"round_steps=48 .*48 probe minibatches"):
        started(small_suite, round_steps=48)
    # 3 minibatches at ε = 0.05: 1.1 of the probed task and 0.95 of each other round to one each.
    with pytest.raises(ValueError, match=r"probe_steps=3 .*perturbation=0.05"):
        started(small_suite, perturbation=0.05, probe_steps=3)
