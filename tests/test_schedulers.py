"""Baseline schedulers: every one trains through the runner under a mask, and each follows its rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mtl_gym.baselines.schedulers import (
    DTP,
    ODM,
    SCHEDULERS,
    Adaptive,
    Aioli,
    DoReMi,
    Exp3S,
    Exponential,
    FixedWeights,
    Greedy,
    Lookahead,
    PrioritizeEasy,
    PrioritizeHard,
    Proportional,
    Scheduler,
    Sigmoid,
    Single,
    make_scheduler,
)
from mtl_gym.env import MTLSchedulingEnv, Rule, run_schedule
from mtl_gym.methods import METHODS

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}
SIZES = np.array([300, 200, 80])
"""Train sizes of small_suite's alpha, beta, gamma."""


class MaskTask(Rule):
    def __init__(self, task: int):
        self.task = task

    def allowed(self, env: MTLSchedulingEnv) -> np.ndarray:
        mask = np.ones(env.num_tasks, dtype=bool)
        mask[self.task] = False
        return mask


class Recorder:
    """Wraps a scheduler: keeps the env and the initial weights, and checks every action against the mask."""

    def __init__(self, inner: Scheduler):
        self.inner = inner
        self.uses_observation = inner.uses_observation

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        self.env = env
        self.initial = {k: v.clone() for k, v in env.trainer.model.state_dict().items()}
        self.inner.reset(env, seed)

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        action = self.inner(observation, info)
        assert info["action_mask"][action], f"{self.inner.name} chose masked task {action}"
        return action


# Adversarial where it can be: the masked task (beta) is the one these would favour most.
INSTANCES = {
    "uniform": lambda: make_scheduler("uniform"),
    "random": lambda: make_scheduler("random"),
    "single": lambda: Single(task="alpha"),
    "proportional": lambda: Proportional(),
    "fixed-weights": lambda: FixedWeights(task_weights={"beta": 100.0}),
    "greedy": lambda: Greedy(eval_every=5),
    "exponential": lambda: Exponential(main="beta"),
    "sigmoid": lambda: Sigmoid(main="beta"),
    "prioritize-easy": lambda: PrioritizeEasy(eval_every=5),
    "prioritize-hard": lambda: PrioritizeHard(eval_every=5),
    "adaptive": lambda: Adaptive(reference=[0.5, 1.0, 0.5], eval_every=5),
    "dtp": lambda: DTP(eval_every=5),
    "exp3s": lambda: Exp3S(eta=0.1),
    "lookahead": lambda: Lookahead(k=3),
    "odm": lambda: ODM(),
    "doremi": lambda: DoReMi(update_every=5),
    "aioli": lambda: Aioli(round_steps=10, sweeps=1),
}


def test_every_registered_scheduler_is_tested_and_listed():
    assert set(INSTANCES) == set(SCHEDULERS)
    listed = {spec.name: spec.describe() for spec in METHODS if spec.kind == "scheduler"}
    assert set(listed) == set(SCHEDULERS)
    for entry in listed.values():
        assert entry["kind"] == "scheduler" and entry["paper"]
    assert listed["proportional"]["hyperparameters"] == {"temperature": 1.0}
    assert listed["prioritize-hard"]["hyperparameters"] == {"share": 0.98, "eval_every": 100}
    assert listed["single"]["hyperparameters"] == {"task": None}


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_trains_the_model_and_never_picks_a_masked_task(name, small_suite):
    recorder = Recorder(INSTANCES[name]())
    result = run_schedule(
        recorder, small_suite, budget=20, seed=0, model=FAST_MODEL, rules=[MaskTask(1)], evaluations=1
    )
    assert result.budget == 20 and sum(result.action_counts.values()) == 20
    assert result.action_counts["beta"] == 0
    final = recorder.env.trainer.model.state_dict()
    assert any(not torch.equal(recorder.initial[k], v) for k, v in final.items())
    if hasattr(recorder.inner, "dev"):  # evaluated at budgets 0, 5, 10 and 15
        assert recorder.inner.dev.evaluations == 4


def test_specs():
    assert make_scheduler("proportional:temperature=2").temperature == 2
    exponential = make_scheduler("exponential:main=beta,rate=3")
    assert (exponential.main, exponential.rate) == ("beta", 3)
    assert make_scheduler("fixed-weights:books=2,dvd=1").task_weights == {"books": 2, "dvd": 1}
    assert make_scheduler("fixed-weights:2,1,1").task_weights == [2, 1, 1]
    assert make_scheduler("adaptive:reference=[0.9,0.8,0.7]").reference == [0.9, 0.8, 0.7]
    assert make_scheduler("exp3s:quantiles=(0.1,0.9)").quantiles == (0.1, 0.9)
    assert make_scheduler("single:beta").task == "beta"
    with pytest.raises(KeyError):
        make_scheduler("nope")
    for bad in ("uniform:x=1", "greedy:5", "single", "fixed-weights", "proportional:temperature=0"):
        with pytest.raises(ValueError):
            make_scheduler(bad)


@pytest.fixture(scope="module")
def env(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, {"observe": False})
    env.reset(seed=0)
    return env


def started(scheduler: Scheduler, env: MTLSchedulingEnv, seed: int = 0) -> Scheduler:
    scheduler.reset(env, seed)
    return scheduler


def info(budget: float = 0, mask=(True, True, True)) -> dict:
    return {"budget": budget, "action_mask": np.array(mask)}


def frequencies(scheduler: Scheduler, state: dict, draws: int = 20_000) -> np.ndarray:
    return np.bincount([scheduler(None, state) for _ in range(draws)], minlength=3) / draws


def test_proportional_follows_sizes_and_tends_to_uniform(env):
    proportional = started(Proportional(), env)
    assert np.allclose(proportional.probabilities(info()), SIZES / SIZES.sum())
    assert np.allclose(frequencies(proportional, info()), SIZES / SIZES.sum(), atol=0.015)
    hot = started(Proportional(temperature=100.0), env)
    assert np.allclose(frequencies(hot, info()), 1 / 3, atol=0.015)
    masked = proportional.probabilities(info(mask=(False, True, True)))
    assert np.allclose(masked, [0, 200 / 280, 80 / 280])


def test_fixed_weights_follow_their_weights(env):
    by_name = started(FixedWeights(task_weights={"gamma": 3.0}), env)
    assert np.allclose(by_name.probabilities(info()), [0.2, 0.2, 0.6])
    assert np.allclose(frequencies(by_name, info()), [0.2, 0.2, 0.6], atol=0.015)
    listed = started(FixedWeights(task_weights=[1.0, 0.0, 1.0]), env)
    assert np.allclose(listed.probabilities(info(mask=(True, True, False))), [1, 0, 0])
    with pytest.raises(ValueError):
        started(FixedWeights(task_weights=[1.0, 2.0]), env)


def dev_losses(env: MTLSchedulingEnv) -> np.ndarray:
    return np.array([m.loss for m in env.trainer.evaluate("dev").values()])


def test_greedy_picks_the_highest_dev_loss(env):
    losses = dev_losses(env)
    greedy = started(Greedy(), env)
    assert greedy(None, info()) == np.argmax(losses)
    second = np.argsort(losses)[-2]
    mask = np.ones(3, dtype=bool)
    mask[np.argmax(losses)] = False
    assert greedy(None, info(mask=mask)) == second


@pytest.mark.parametrize(("cls", "pick"), [(PrioritizeHard, np.argmax), (PrioritizeEasy, np.argmin)])
def test_prioritize_puts_98_percent_on_the_right_task(env, cls, pick):
    favoured = int(pick(dev_losses(env)))
    scheduler = started(cls(), env)
    expected = np.full(3, 0.01)
    expected[favoured] = 0.98
    assert np.allclose(scheduler.probabilities(info()), expected)
    assert abs(frequencies(scheduler, info(), 5000)[favoured] - 0.98) < 0.01


def test_main_task_share_rises_over_the_run(env):
    exponential = started(Exponential(main="gamma"), env)
    sigmoid = started(Sigmoid(main=2), env)
    horizon = exponential.horizon
    shares = {
        s.name: [s.probabilities(info(budget=f * horizon))[2] for f in (0, 0.25, 0.5, 1)]
        for s in (exponential, sigmoid)
    }
    assert shares["exponential"][0] == 0 and shares["sigmoid"][0] == 0.5
    for name, share in shares.items():
        assert np.all(np.diff(share) > 0), name
    assert math.isclose(shares["exponential"][-1], 1 - math.exp(-5))
    assert math.isclose(shares["sigmoid"][-1], 1 / (1 + math.exp(-5)))
    assert np.allclose(
        exponential.probabilities(info(budget=horizon // 2))[:2], (1 - shares["exponential"][2]) / 2
    )


def test_exponential_shifts_the_run_toward_the_main_task(small_suite):
    result = run_schedule(
        Exponential(main="gamma"), small_suite, budget=60, seed=0, model=FAST_MODEL, evaluations=1
    )
    main = np.array(result.actions) == 2
    assert main[:20].sum() < main[40:].sum()


def test_dtp_priorities_follow_the_focal_form():
    dtp = DTP(gamma=2.0)
    kpi = np.array([0.9, 0.5, 0.2])
    expected = -((1 - kpi) ** 2) * np.log(kpi)
    assert np.allclose(dtp.priorities(kpi), expected)
    assert np.all(np.diff(dtp.priorities(kpi)) > 0)  # the lower the KPI, the higher the priority
    assert dtp.priorities(np.array([1.0]))[0] == 0
    assert np.allclose(DTP(gamma=0.0).priorities(kpi), -np.log(kpi))


def test_dtp_samples_by_the_priorities_of_dev_accuracy(env):
    dtp = started(DTP(), env)
    accuracies = np.array([m.accuracy for m in env.trainer.evaluate("dev").values()])
    priorities = dtp.priorities(accuracies)
    assert np.allclose(dtp.probabilities(info()), priorities / priorities.sum())


def test_adaptive_oversamples_the_lagging_task(env, small_suite):
    adaptive = started(Adaptive(reference=[0.8, 0.8, 0.8]), env)
    adaptive.probabilities(info())  # the first evaluation
    adaptive.dev.accuracy = np.array([0.8, 0.4, 0.8])
    probabilities = adaptive.probabilities(info())
    assert np.allclose(probabilities, np.array([1, 2**10, 1]) / (2 + 2**10))
    # In a run: gamma's reference is far above what an untrained model reaches, the others' far below.
    result = run_schedule(
        Adaptive(reference=[0.05, 0.05, 1.0], eval_every=5),
        small_suite,
        budget=20,
        model=FAST_MODEL,
        evaluations=1,
    )
    assert result.action_counts["gamma"] >= 18


def test_adaptive_uses_the_env_reference(small_suite):
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, {"observe": False, "reference": [0.7, 0.6, 0.5]})
    env.reset(seed=0)
    assert np.allclose(started(Adaptive(), env).baseline, [0.7, 0.6, 0.5])


def test_exp3s_moves_toward_the_task_that_progresses(env):
    exp3s = started(Exp3S(eta=0.05), env)
    rng = np.random.default_rng(0)
    state = info()
    start = exp3s.probabilities(state)
    assert np.allclose(start, 1 / 3)
    for _ in range(300):
        policy = exp3s.probabilities(state)
        task = int(rng.choice(3, p=policy))
        progress = (0.5 if task == 1 else 0.0) + rng.normal(0, 0.05)
        exp3s.learn(task, progress, policy)
    assert np.argmax(exp3s.log_weights) == 1
    assert exp3s.probabilities(state)[1] > 0.6
    assert exp3s.probabilities(info(mask=(True, False, True)))[1] == 0


def test_exp3s_rescales_progress_by_quantiles(env):
    exp3s = started(Exp3S(), env)
    for value in np.linspace(0, 1, 101):
        exp3s.rescale(float(value))
    assert exp3s.rescale(5.0) == 1.0 and exp3s.rescale(-5.0) == -1.0
    assert math.isclose(exp3s.rescale(0.5), 0.0, abs_tol=0.02)


def test_odm_matches_a_hand_computed_exp3_step(small_suite):
    scheduler = ODM(smoothing=0.9)
    env = MTLSchedulingEnv(small_suite, FAST_MODEL, {"episode_steps": 50, "observe": False})
    observation, info = env.reset(seed=0)
    scheduler.reset(env, 0)
    # K = 3: eps_t = min(1/3, sqrt(ln 3 / (3 t))) is 1/3 until t = 4, so the first draws are uniform.
    assert np.allclose(scheduler.probabilities(info), 1 / 3)
    scheduler.rewards = np.array([0.6, 0.0, 0.3])
    scheduler.decisions = 3  # the next decision is t = 4
    eps3, eps4 = 1 / 3, np.sqrt(np.log(3) / 12)
    softmax = np.exp(eps3 * np.array([0.6, 0.0, 0.3])) / np.exp(eps3 * np.array([0.6, 0.0, 0.3])).sum()
    assert np.allclose(scheduler.policy(np.ones(3, dtype=bool)), (1 - 3 * eps4) * softmax + eps4)
    # Masked: the same rule over the two allowed tasks (K = 2: eps_4 = min(1/2, sqrt(ln 2 / 8))).
    masked = scheduler.policy(np.array([True, False, True]))
    eps3, eps4 = min(0.5, np.sqrt(np.log(2) / 6)), min(0.5, np.sqrt(np.log(2) / 8))
    pair = np.exp(eps3 * np.array([0.6, 0.3])) / np.exp(eps3 * np.array([0.6, 0.3])).sum()
    assert masked[1] == 0 and np.allclose(masked[[0, 2]], (1 - 2 * eps4) * pair + eps4)
    # The reward update: R_a <- 0.9 R_a + 0.1 L / pi(a), from the trainer's own minibatch loss.
    task = scheduler(observation, info)
    drawn = scheduler.drawn_with[task]
    before = scheduler.rewards.copy()
    env.step(task)
    scheduler.update()
    loss = env.trainer.last_step.losses[0]
    expected = before.copy()
    expected[task] = 0.9 * before[task] + 0.1 * loss / drawn
    assert np.allclose(scheduler.rewards, expected)
