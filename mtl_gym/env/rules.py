"""Rules: what the env consults around each training step, so that training policies such as
the asynchronous-convergence KD switcher plug in without the env knowing them.

A rule may mask actions, add tasks (with loss weights) to the step the chosen action triggers,
replace a task's loss (``env.trainer.loss_functions``), rewind the trainer, and end the episode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .env import MTLSchedulingEnv


class Rule:
    """Base rule: allows everything, adds nothing, never ends the episode."""

    def reset(self, env: MTLSchedulingEnv) -> None:
        """Called after the env built a fresh model and trainer."""

    def extra_tasks(self, env: MTLSchedulingEnv, action: int) -> tuple[list[int], list[float]]:
        """Tasks and loss weights to train alongside ``action``'s minibatch in this step."""
        return [], []

    def after_step(self, env: MTLSchedulingEnv) -> None:
        """Called after each training step, before the observation is taken."""

    def allowed(self, env: MTLSchedulingEnv) -> np.ndarray:
        """Bool mask over actions, True = allowed."""
        return np.ones(env.num_tasks, dtype=bool)

    def done(self, env: MTLSchedulingEnv) -> bool:
        """True when the episode should end as terminated."""
        return False

    def info(self) -> dict:
        """Extra entries for the env's info dict."""
        return {}
