"""SB3 callbacks for agent training beyond the curves and the evaluation."""

from __future__ import annotations

import time

from stable_baselines3.common.callbacks import BaseCallback


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
