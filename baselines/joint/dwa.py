"""Dynamic weight average (Liu et al. 2019), as ``torchjd``'s scalarizer."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from torchjd.scalarization import DWA

from mtl_gym.training import Trainer

from .base import EpochClock, ScalarizingMethod


@dataclass(frozen=True)
class DWAHyperparameters:
    temperature: float = 2.0
    """T of Liu et al. 2019 eq. 1; the async-convergence KD paper (App. A) uses their recommended 2."""
    epoch_steps: int | None = None
    """Joint steps per DWA epoch (the loss averages compare epochs); None: until every task has
    seen its whole training split (see ``steps_per_epoch``)."""


class DWAMethod(ScalarizingMethod):
    """Weights each task by the softmax of the ratio of its average losses over the two previous
    epochs, divided by T and scaled to sum to K (Liu et al. 2019, eq. 1): a task whose loss falls
    slower gets more weight. Uniform for the first two epochs. A baseline of the
    async-convergence KD paper (§4.2 (3))."""

    name = "dwa"
    paper = "Liu et al. 2019, End-To-End Multi-Task Learning With Attention, CVPR"
    Hyperparameters = DWAHyperparameters

    def setup(self, trainer: Trainer) -> None:
        self.scalarizer = DWA(self.hyperparameters.temperature)
        self.clock = EpochClock(trainer, self.hyperparameters.epoch_steps)

    def combine(self, losses: Tensor) -> Tensor:
        return self.scalarizer(losses)

    def after_combine(self) -> None:
        if self.clock.tick():
            self.scalarizer.step()
