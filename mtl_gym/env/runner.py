"""The schedule runner: train one MTL model to a budget under any scheduler, through the env.

Schedulers, trained agents and the benchmarks all use :func:`run_schedule` (joint methods use
``mtl_gym.baselines.joint.run_joint``); both build and record through ``mtl_gym.training.runs``,
so every method is charged the same budget (task-minibatches) and evaluated by the same code.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

import numpy as np

from ..data import TaskSuite
from ..training import OptimizerFactory, Trainer, TrainerConfig
from ..training.runs import ModelFactory, RunRecorder, RunResult
from ..training.trainer import Backward, weighted_sum_backward
from .config import EnvConfig
from .env import MTLSchedulingEnv
from .rules import Rule

Scheduler = Callable[[np.ndarray, dict], int]
"""Maps an observation and info dict to the next task. An object with a ``reset(env, seed)``
method is reset at the start of each run; one whose ``uses_observation`` is False runs with the
env's observation (and reward) switched off, which changes nothing it trains."""


def run_schedule(
    scheduler: Scheduler,
    suite: TaskSuite,
    budget: int,
    seed: int = 0,
    *,
    method: str = "custom",
    model: ModelFactory | dict | None = None,
    env_config: EnvConfig | dict | None = None,
    trainer: TrainerConfig | dict | None = None,
    rules: Sequence[Rule] = (),
    optimizer: OptimizerFactory | None = None,
    backward: Backward = weighted_sum_backward,
    evaluations: int = 10,
    after_training: Callable[[Trainer], None] | None = None,
    recorder: RunRecorder | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Train a fresh model (seeded by ``seed``) until ``budget`` task-minibatches are spent or a
    rule ends the episode, evaluating the full dev split ``evaluations`` times along the way (or
    as ``recorder`` says). ``after_training`` gets the trainer with the final model, e.g. to keep
    or probe its encoder; ``progress`` gets the task-minibatches spent after every env step (a
    progress bar). A non-finite training loss ends the run early: the result's
    ``extra["non_finite"]`` says which task, its loss and the budget spent, and ``diverged`` is set."""
    recorder = recorder or RunRecorder(suite, budget, evaluations)
    config = EnvConfig.of(env_config)
    observe = config.observe and getattr(scheduler, "uses_observation", True)
    # One episode is the whole run: budget units at steps_per_action units per env step.
    episode_steps = math.ceil(budget / config.steps_per_action)
    config = dataclasses.replace(config, episode_steps=episode_steps, observe=observe)
    env = MTLSchedulingEnv(suite, model, config, trainer, rules, optimizer=optimizer, backward=backward)
    observation, info = env.reset(seed=seed)
    if hasattr(scheduler, "reset"):
        scheduler.reset(env, seed)
    actions, non_finite = [], None
    while env.trainer.budget.total < budget:
        action = scheduler(observation, info)
        observation, _, terminated, truncated, info = env.step(action)
        actions.append(int(action))
        recorder.after_step(env.trainer)
        if progress is not None:
            progress(env.trainer.budget.total)
        if "nan_loss" in info:
            # Stopped, not raised: the result records where (task, value, budget) and the metrics so far.
            non_finite = {**info["nan_loss"], "budget": env.trainer.budget.total}
            break
        if terminated or truncated:
            break
    extra = {k: v for rule in env.rules for k, v in rule.info().items()}
    if non_finite is not None:
        extra["non_finite"] = non_finite
    result = recorder.result(env.trainer, method, seed, actions, extra)
    if after_training is not None:
        after_training(env.trainer)
    return result
