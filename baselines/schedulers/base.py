"""The scheduler base: pick the next task from the env's observation and info, honouring its mask.

Also the pieces several schedulers share: sampling from weights over the allowed tasks, dev metrics
refreshed on a schedule through the trainer's evaluation, and probe losses.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.spec import Configurable
from mtl_gym.training import Trainer, example_losses, split_logits

EVAL_EVERY = 100
"""Budget units between dev evaluations of the schedulers that read dev metrics. None of the papers
fixes it for these baselines; 100 matches the env's full dev pass (``EnvConfig.refresh_every``) and
the reference runs' evaluations, so a metric-driven scheduler costs about what the env's own does."""


class Scheduler(Configurable, ABC):
    """A task scheduler for :func:`mtl_gym.env.run_schedule`.

    ``reset`` is called with the env (after ``env.reset``) at the start of each run; ``__call__``
    returns an allowed task index (``info["action_mask"]``).
    """

    family = "scheduler"
    uses_observation: ClassVar[bool] = False
    """Whether the histogram observation is read; the runner skips computing it otherwise."""

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        self.env = env
        self.num_tasks = env.num_tasks
        self.rng = np.random.default_rng(seed)
        # run_schedule sets episode_steps to the run's budget, so this is the run's length in budget units.
        self.horizon = env.config.episode_steps * env.config.steps_per_action

    @abstractmethod
    def __call__(self, observation: np.ndarray, info: dict) -> int: ...

    def elapsed(self, info: dict) -> float:
        """Fraction of the run's budget spent, in [0, 1]."""
        return min(1.0, info["budget"] / self.horizon)

    def __init__(self, **hyperparameters: Any):
        super().__init__(**hyperparameters)
        # Each hyperparameter is also an attribute, as the scheduler's own code reads it.
        for f in dataclasses.fields(self.hyperparameters):
            setattr(self, f.name, getattr(self.hyperparameters, f.name))


class SamplingScheduler(Scheduler):
    """Draws each task at random from :meth:`weights`, renormalised over the allowed tasks."""

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        return int(self.rng.choice(self.num_tasks, p=self.probabilities(info)))

    def probabilities(self, info: dict) -> np.ndarray:
        return masked_distribution(self.weights(info), info["action_mask"])

    @abstractmethod
    def weights(self, info: dict) -> np.ndarray:
        """Non-negative, unnormalised weight of every task for the next step."""


def allowed_tasks(info: dict) -> np.ndarray:
    allowed = np.flatnonzero(info["action_mask"])
    if len(allowed) == 0:
        raise RuntimeError("every task is masked; the episode should have ended")
    return allowed


def masked_distribution(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``weights`` zeroed on masked tasks and normalised; uniform over the allowed tasks when none of
    them has weight (a fixed schedule whose weighted tasks are all masked must still pick one)."""
    allowed = allowed_tasks({"action_mask": mask})
    weights = np.asarray(weights, dtype=np.float64)
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"task weights must be finite and non-negative, got {weights}")
    kept = np.zeros_like(weights)
    kept[allowed] = weights[allowed]
    if kept.sum() == 0:
        kept[allowed] = 1.0
    return kept / kept.sum()


def exp_weights(log_weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """exp(log_weights) on the allowed tasks, 0 on the masked ones, scaled so that the largest allowed
    weight is 1: log-space weights then neither overflow nor vanish because of a masked task."""
    shifted = np.where(mask, log_weights, -np.inf)
    return np.exp(shifted - shifted[allowed_tasks({"action_mask": mask})].max())


def task_index(env: MTLSchedulingEnv, task: int | str) -> int:
    """A task given by index or by name."""
    if isinstance(task, str):
        return env.suite.index(task)
    if not 0 <= task < env.num_tasks:
        raise IndexError(f"task index {task} is out of range for {env.num_tasks} tasks")
    return task


def check_eval_every(every: int) -> None:
    if every < 1:
        raise ValueError(f"eval_every must be at least 1, got {every}")


class DevMetrics:
    """Every task's dev loss and accuracy, from ``env.trainer.evaluate`` (the one evaluation path, as
    the runner's), refreshed once ``every`` budget units have been spent since the last evaluation.
    Evaluations are not charged to the budget. A scheduler makes a new one at each reset."""

    def __init__(self, env: MTLSchedulingEnv, every: int):
        check_eval_every(every)
        self.env = env
        self.every = every
        self.due = 0
        self.evaluations = 0

    def refresh(self, info: dict) -> bool:
        """Evaluate if due; True when it did."""
        if info["budget"] < self.due:
            return False
        metrics = self.env.trainer.evaluate("dev")
        names = self.env.suite.names
        self.loss = np.array([metrics[n].loss for n in names])
        self.accuracy = np.array([metrics[n].accuracy for n in names])
        self.due = info["budget"] + self.every
        self.evaluations += 1
        return True


def probe_loss(trainer: Trainer, task: int, index: torch.Tensor) -> float:
    """Mean loss of ``task`` on the dev examples ``index``, through the evaluation module's inference pass."""
    total = sum(
        float(example_losses(logits, batch.labels).sum())
        for _, batch, logits in split_logits(
            trainer.model, task, trainer.suite[task], "dev", index, trainer.config.eval_batch_size
        )
    )
    return total / len(index)


def as_array(values: Sequence[float], size: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(f"{what}: expected {size} values, one per task, got {list(values)}")
    return array
