"""DoReMi: its exponentiated-gradient step, the reference it compares with, masks, the two-stage form
and its hyperparameters."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_schedulers import FAST_MODEL, MaskTask, Recorder

from mtl_gym.baselines.schedulers.doremi import DoReMi
from mtl_gym.env import MTLSchedulingEnv, run_schedule
from mtl_gym.spec import SpecError


def started(small_suite, budget: int = 20, **hyperparameters) -> tuple[DoReMi, MTLSchedulingEnv]:
    """A DoReMi reset on a fresh env whose run is ``budget`` task-minibatches long."""
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, {"episode_steps": budget, "observe": False})
    env.reset(seed=0)
    scheduler = DoReMi(probe_samples=16, **hyperparameters)
    scheduler.reset(env, 0)
    return scheduler, env


def test_the_update_matches_a_hand_computed_step(small_suite):
    scheduler, env = started(small_suite, update_every=10)
    # The reference starts from the env's model: its losses at budget 0 are the model's own.
    assert np.array_equal(scheduler.reference_budgets, [0, 10, 20])
    assert np.allclose(scheduler.reference[0], scheduler.losses("current"))
    assert np.allclose(scheduler.alpha, 1 / 3)
    scheduler.alpha = np.array([0.5, 0.3, 0.2])
    losses, reference = np.array([2.0, 1.0, 0.4]), np.array([1.5, 1.2, 0.1])
    scheduler.update(losses, reference)
    excess = np.array([0.5, 0.0, 0.3])  # beta's loss is under the reference's: clipped at 0
    raised = np.array([0.5, 0.3, 0.2]) * np.exp(excess)
    expected = 0.999 * raised / raised.sum() + 0.001 / 3
    assert np.allclose(scheduler.alpha, expected) and np.isclose(scheduler.alpha.sum(), 1)
    assert np.allclose(scheduler.history[-1], expected)
    # A refresh compares with the reference point nearest the budget (10 for a budget of 12).
    scheduler.alpha, scheduler.due = np.full(3, 1 / 3), 12
    current = scheduler.losses("current")
    scheduler.refresh(12)
    raised = np.exp(np.maximum(current - scheduler.reference[1], 0)) / 3
    assert np.allclose(scheduler.alpha, 0.999 * raised / raised.sum() + 0.001 / 3)
    assert scheduler.due == 22
    # A non-finite dev loss stops the run with a clear error.
    with env.trainer.rewound(), torch.no_grad():
        for parameter in env.trainer.model.parameters():
            parameter.fill_(float("nan"))
        with pytest.raises(FloatingPointError, match="dev loss on task 'alpha' is nan"):
            scheduler.refresh(22)


def test_a_masked_task_is_never_picked(small_suite):
    recorder = Recorder(DoReMi(update_every=5, probe_samples=16, smoothing=0.5))
    result = run_schedule(
        recorder, small_suite, budget=20, seed=0, model=FAST_MODEL, rules=[MaskTask(1)], evaluations=1
    )
    assert result.action_counts["beta"] == 0 and sum(result.action_counts.values()) == 20
    assert len(recorder.inner.history) == 3  # updated at budgets 5, 10 and 15


def test_two_stage_samples_the_proxy_average_and_leaves_the_env_as_it_was(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, {"episode_steps": 30, "observe": False})
    _, info = env.reset(seed=0)
    before = {k: v.clone() for k, v in env.trainer.model.state_dict().items()}
    scheduler = DoReMi(stage="two-stage", update_every=10, probe_samples=16, step_size=5.0)
    scheduler.reset(env, 0)
    assert len(scheduler.history) == 2  # the proxy updated α at budgets 10 and 20
    assert np.allclose(scheduler.weights(info), np.mean(scheduler.history, axis=0))
    assert not np.allclose(scheduler.weights(info), 1 / 3)
    assert np.allclose(scheduler.probabilities(info), scheduler.fixed / scheduler.fixed.sum())
    info["budget"] = 25  # fixed: no update later in the run
    assert np.array_equal(scheduler.weights(info), scheduler.fixed) and len(scheduler.history) == 2
    assert env.trainer.budget.total == 0 and env.trainer.last_step is None
    after = env.trainer.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not any(state["state"] for state in env.trainer.optimizer.state_dict())  # Adam has taken no step
    fresh = MTLSchedulingEnv(small_suite, FAST_MODEL, {"episode_steps": 30, "observe": False})
    fresh.reset(seed=0)  # the minibatch samplers are where a fresh env's are
    assert all(
        torch.equal(env.trainer.next_batch(t).index, fresh.trainer.next_batch(t).index) for t in range(3)
    )


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("step_size=0", "step_size must be a positive finite number, got 0"),
        ("step_size=-1", "got -1"),
        ("smoothing=1.5", "smoothing must lie in \\[0, 1\\], got 1.5"),
        ("stage=offline", "stage must be one of online, two-stage, got 'offline'"),
        ("update_every=0", "update_every must be an integer of at least 1, got 0"),
        ("update_every=2.5", "got 2.5"),
        ("probe_samples=0", "probe_samples must be an integer of at least 1, got 0"),
    ],
)
def test_bad_hyperparameters_name_the_value(spec, named):
    with pytest.raises(ValueError, match=named):
        DoReMi.from_argument(spec)


def test_specs_set_every_hyperparameter():
    scheduler = DoReMi.from_argument("step_size=1,smoothing=0.001,stage=two-stage,update_every=50")
    expected = DoReMi.Hyperparameters(step_size=1, smoothing=0.001, stage="two-stage", update_every=50)
    assert scheduler.hyperparameters == expected and scheduler.stage == "two-stage"
    with pytest.raises(SpecError, match="no setting 'eta'"):
        DoReMi.from_argument("eta=1")
