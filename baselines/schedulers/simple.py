"""Schedulers that ignore the observation: round-robin, uniform random, and one task alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import Scheduler, allowed_tasks


class Uniform(Scheduler):
    """Round-robin over the allowed tasks: every task gets the same number of minibatches."""

    name = "uniform"
    paper = "the QLS paper's Uniform baseline (§5.1, Table 2): every task equally important throughout"

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.position = -1

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        allowed = allowed_tasks(info)
        later = allowed[allowed > self.position]
        self.position = int(later[0] if len(later) else allowed[0])
        return self.position


class Random(Scheduler):
    """A uniformly random allowed task at every step (seeded by the run's seed)."""

    name = "random"
    paper = "the QLS paper's Random baseline (§5.1, Table 2): a random task for each step"

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        return int(self.rng.choice(allowed_tasks(info)))


@dataclass(frozen=True)
class SingleHyperparameters:
    task: str
    """The one task trained (spec: ``single:<task>``)."""


class Single(Scheduler):
    """Always the named task: the single-task reference trained through the same path."""

    name = "single"
    paper = "the single-task reference of the QLS paper's reward penalty (§4.3)"

    Hyperparameters = SingleHyperparameters
    positional = "task"

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.index = env.suite.index(self.task)

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        if not info["action_mask"][self.index]:
            raise RuntimeError(f"task {self.task!r} is masked; a single-task run cannot continue")
        return self.index
