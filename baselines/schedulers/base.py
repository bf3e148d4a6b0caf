"""The scheduler base: pick the next task from the env's observation and info, honouring its mask."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from mtl_gym.env import MTLSchedulingEnv


class Scheduler(ABC):
    """A task scheduler for :func:`mtl_gym.env.run_schedule`.

    ``reset`` is called with the env at the start of each run; ``__call__`` returns an allowed
    task index (``info["action_mask"]``).
    """

    name: ClassVar[str]
    paper: ClassVar[str] = ""
    uses_observation: ClassVar[bool] = False
    """Whether the histogram observation is read; the runner skips computing it otherwise."""

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        self.num_tasks = env.num_tasks
        self.rng = np.random.default_rng(seed)

    @abstractmethod
    def __call__(self, observation: np.ndarray, info: dict) -> int: ...


def allowed_tasks(info: dict) -> np.ndarray:
    allowed = np.flatnonzero(info["action_mask"])
    if len(allowed) == 0:
        raise RuntimeError("every task is masked; the episode should have ended")
    return allowed
