"""The QLS paper's constant prioritisation schedules: most minibatches on one task, the rest shared."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import EVAL_EVERY, DevMetrics, SamplingScheduler, allowed_tasks, check_eval_every


@dataclass(frozen=True)
class PrioritizeHyperparameters:
    share: float = 0.98
    """Probability of the favoured task (the QLS paper's 0.98)."""
    eval_every: int = EVAL_EVERY
    """Budget units between the dev evaluations that rank the tasks."""

    def __post_init__(self) -> None:
        if not 0 <= self.share <= 1:
            raise ValueError(f"share must be in [0, 1], got {self.share}")
        check_eval_every(self.eval_every)


class Prioritize(SamplingScheduler):
    """Probability ``share`` (default 0.98) on the :meth:`favoured` allowed task, the rest split evenly
    over the other allowed tasks.

    The QLS paper (§5.3, Table 6) assigns "the weight of 0.98 to the hardest/easiest task and 0.01 to
    others", with three tasks, so the others split the remaining 0.02; with K tasks each other task
    gets 0.02 / (K - 1). Difficulty is the current dev loss (a task is harder the higher its loss),
    from ``env.trainer.evaluate`` every ``eval_every`` budget units: the paper knows its hardest task
    (NMT) beforehand and keeps the weights fixed, which ``fixed-weights`` reproduces when the hard
    task is known; without that knowledge the current loss is what tells the tasks apart.
    """

    Hyperparameters = PrioritizeHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.dev = DevMetrics(env, self.eval_every)

    @abstractmethod
    def favoured(self, allowed: np.ndarray, loss: np.ndarray) -> int:
        """The task among ``allowed`` that gets ``share``, from every task's dev ``loss``."""

    def weights(self, info: dict) -> np.ndarray:
        self.dev.refresh(info)
        allowed = allowed_tasks(info)
        weights = np.zeros(self.num_tasks)
        weights[allowed] = (1.0 - self.share) / max(len(allowed) - 1, 1)
        weights[self.favoured(allowed, self.dev.loss)] = self.share
        return weights
