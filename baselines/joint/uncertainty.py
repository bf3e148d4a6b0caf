"""Uncertainty weighting (Kendall et al. 2018), as ``torchjd``'s scalarizer."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor
from torchjd.scalarization import UW

from mtl_gym.training import Trainer

from .base import ScalarizingMethod, learned_weights_optimizer


@dataclass(frozen=True)
class UncertaintyHyperparameters:
    lr: float | None = None
    """Adam learning rate of the log-variances; None takes the trainer's, as Kendall et al. learn
    them with the network's optimizer."""


class UncertaintyMethod(ScalarizingMethod):
    """Minimises sum_k exp(-s_k) L_k / 2 + s_k / 2 over the model and learnable log-variances s_k
    (Kendall et al. 2018, eq. 7 with torchjd's parametrisation, s_k = 0 at the start). At the
    optimum exp(-s_k) = 1 / L_k, so a task with a higher loss (a noisier task) gets a lower
    weight. "Homoscedastic Uncertainty" of the QLS paper (§5.1, Tables 2, 5), UW of the AdaTask paper."""

    name = "uncertainty"
    paper = "Kendall et al. 2018, Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and Semantics, CVPR"
    Hyperparameters = UncertaintyHyperparameters

    def setup(self, trainer: Trainer) -> None:
        self.scalarizer = UW(len(trainer.suite)).to(trainer.device)  # its log-variances meet the losses
        self.optimizer = learned_weights_optimizer(
            list(self.scalarizer.parameters()), self.hyperparameters.lr, trainer
        )

    def combine(self, losses: Tensor) -> Tensor:
        self.optimizer.zero_grad(set_to_none=True)
        return self.scalarizer(losses)

    def after_combine(self) -> None:
        self.optimizer.step()
