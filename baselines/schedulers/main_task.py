"""The one-task schedules of Kiperwasser & Ballesteros 2018: the main task's share grows over the run."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import SamplingScheduler, task_index

KIPERWASSER_BALLESTEROS = (
    "Kiperwasser and Ballesteros 2018, Scheduled Multi-Task Learning: From Syntax to Translation, TACL"
)


@dataclass(frozen=True)
class MainTaskHyperparameters:
    main: int | str = 0
    """The main task, by index or name."""
    rate: float = 5.0
    """Slope of the schedule over the elapsed fraction of the run (main share 0.99 by the end)."""

    def __post_init__(self) -> None:
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate}")


class MainTaskSchedule(SamplingScheduler):
    """Picks the main task with probability :meth:`main_share` of the fraction of the run elapsed
    (budget spent over the run's budget) and one of the other tasks, uniformly, otherwise.

    Kiperwasser & Ballesteros train translation (the main task) with syntactic auxiliary tasks and
    move the batch mix toward translation as training goes on; the QLS paper (§5.3, Table 6) uses
    these schedules with NMT, its hardest task, as the target. Here the main task is ``main``, an
    index or a task name, by default task 0: the suites have no designated target, so pick the task
    you care most about. Their schedules run on training steps with a slope α; here they run on the
    elapsed fraction x ∈ [0, 1] with ``rate`` (default 5, chosen here so that the main task's share
    reaches 0.99 by the end of any run length).
    """

    Hyperparameters = MainTaskHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.main_index = task_index(env, self.main)

    @abstractmethod
    def main_share(self, elapsed: float) -> float:
        """Probability of the main task when a fraction ``elapsed`` of the run is spent."""

    def weights(self, info: dict) -> np.ndarray:
        share = self.main_share(self.elapsed(info))
        others = np.delete(info["action_mask"], self.main_index).sum()
        weights = np.full(self.num_tasks, (1.0 - share) / max(others, 1))
        weights[self.main_index] = share
        return weights
