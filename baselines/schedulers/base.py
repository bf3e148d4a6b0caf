"""The scheduler base: pick the next task from the env's observation and info, honouring its mask.

Also the pieces several schedulers share: sampling from weights over the allowed tasks, dev metrics
refreshed on a schedule through the trainer's evaluation, probe losses, and spec-string parsing.
"""

from __future__ import annotations

import ast
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.training import Trainer, example_losses, split_logits

EVAL_EVERY = 100
"""Budget units between dev evaluations of the schedulers that read dev metrics. None of the papers
fixes it for these baselines; 100 matches the env's full dev pass (``EnvConfig.refresh_every``) and
the reference runs' evaluations, so a metric-driven scheduler costs about what the env's own does."""


class Scheduler(ABC):
    """A task scheduler for :func:`mtl_gym.env.run_schedule`.

    ``reset`` is called with the env (after ``env.reset``) at the start of each run; ``__call__``
    returns an allowed task index (``info["action_mask"]``).
    """

    name: ClassVar[str]
    paper: ClassVar[str] = ""
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

    @classmethod
    def hyperparameters(cls) -> dict[str, Any]:
        """Constructor arguments and their defaults; None for a required one (as ``mtl-gym methods`` lists)."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        return {
            p.name: None if p.default is p.empty else p.default
            for p in parameters
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The entry of ``mtl-gym methods --json``."""
        return {
            "name": cls.name,
            "kind": "scheduler",
            "paper": cls.paper,
            "hyperparameters": cls.hyperparameters(),
        }

    @classmethod
    def from_argument(cls, argument: str) -> Scheduler:
        """The scheduler of the spec ``name:argument``; ``argument`` is ``key=value,...`` hyperparameters."""
        positional, keywords = parse_argument(argument)
        if positional:
            raise ValueError(f"scheduler {cls.name!r} takes key=value arguments, got {argument!r}")
        try:
            return cls(**keywords)
        except TypeError:
            raise ValueError(
                f"scheduler {cls.name!r} got {sorted(keywords)}; it takes {sorted(cls.hyperparameters())}"
            ) from None


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


class DevMetrics:
    """Every task's dev loss and accuracy, from ``env.trainer.evaluate`` (the one evaluation path, as
    the runner's), refreshed once ``every`` budget units have been spent since the last evaluation.
    Evaluations are not charged to the budget."""

    def __init__(self, every: int):
        if every < 1:
            raise ValueError(f"eval_every must be at least 1, got {every}")
        self.every = every

    def reset(self, env: MTLSchedulingEnv) -> None:
        self.env = env
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


_SPLIT = re.compile(r",(?![^\[(]*[\])])")
"""Commas outside brackets, so that ``reference=[0.9,0.8]`` or ``quantiles=(0.1,0.9)`` stays one argument."""


def parse_argument(argument: str) -> tuple[list[Any], dict[str, Any]]:
    """``"2,1"`` or ``"a=1,b=x"`` into positional values and keywords; values are Python literals
    (numbers, lists, True/False/None) or else plain strings."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in _SPLIT.split(argument))):
        key, sign, value = part.partition("=")
        if sign:
            keywords[key.strip()] = _literal(value.strip())
        else:
            positional.append(_literal(part))
    return positional, keywords


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def as_array(values: Sequence[float], size: int, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(f"{what}: expected {size} values, one per task, got {list(values)}")
    return array
