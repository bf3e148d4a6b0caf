"""Loss exponentiation, a baseline of the QLS paper."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from .base import ScalarizingMethod


@dataclass(frozen=True)
class LossExpHyperparameters:
    power: float = 1.15
    """Exponent of every loss; the QLS paper found 1.15 by grid search (§5.1)."""


class LossExpMethod(ScalarizingMethod):
    """Minimises sum_k L_k ** p, which magnifies the larger losses, "for the tasks needing more
    changes in the shared space" (QLS paper, §5.1, "Loss Exponentiation" in Tables 2, 3)."""

    name = "loss-exp"
    paper = "the QLS paper (Q-learning task scheduling for multi-task learning), §5.1"
    Hyperparameters = LossExpHyperparameters

    def combine(self, losses: Tensor) -> Tensor:
        return losses.pow(self.hyperparameters.power).sum()
