"""SB3 callbacks for agent training beyond the curves and the evaluation."""

from __future__ import annotations

import contextlib
import random
import sys
import time
from collections.abc import Iterator

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from tqdm import tqdm


@contextlib.contextmanager
def preserved_global_rng() -> Iterator[None]:
    """Restore Python's, NumPy's and torch's global random states on exit: the MTL trainer seeds
    them, and an evaluation during training must not change the random stream of the agent."""
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])


class ProgressBar(BaseCallback):
    """The decisions trained so far, as a tqdm bar on stderr, like the bench's bars. SB3's own bar
    (``learn(progress_bar=True)``) is rich's and writes to stdout, where it would mix with a
    command's output. ``show``: True draws it, False never, None only when stderr is a terminal
    (tqdm's ``disable=None``), so that a log file or a captured stderr gets none of its updates."""

    def __init__(self, show: bool | None = True):
        super().__init__()
        self.show = show
        self.bar: tqdm | None = None

    def _on_training_start(self) -> None:
        self.close()  # a second learn() on the same callback starts a new bar
        self.bar = tqdm(
            total=self.locals["total_timesteps"] - self.model.num_timesteps,
            desc="agent training",
            unit="decision",
            file=sys.stderr,
            disable=None if self.show is None else not self.show,
        )

    def _on_step(self) -> bool:
        self.bar.update(self.training_env.num_envs)  # a vector env makes num_envs decisions a step
        return True

    def _on_training_end(self) -> None:
        self.close()

    def close(self) -> None:
        """End the bar (also when training raised, which skips ``_on_training_end``)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def interval_reached(callback: BaseCallback, every: int) -> bool:
    """Whether the step that just ended crossed a multiple of ``every`` decisions. A vector env
    adds ``num_envs`` decisions a step (64 for the fast env), so counting steps, or testing
    ``num_timesteps % every``, would evaluate 64 times too rarely, or only at multiples of both."""
    now = callback.num_timesteps
    return (now - callback.training_env.num_envs) // every < now // every


class WallTimeLimit(BaseCallback):
    """Ends training (returns False) once ``seconds`` of wall time have passed since it started, so
    that agents are compared at equal training time: give ``train_agent`` more timesteps than the
    time allows and this in ``callbacks``. ``decisions`` (env steps over all envs of a vector env)
    and ``wall_s`` then hold what the training did."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.start = 0.0
        self.decisions = 0
        self.wall_s = 0.0

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        self.decisions = self.num_timesteps
        self.wall_s = time.perf_counter() - self.start
        return self.wall_s < self.seconds
