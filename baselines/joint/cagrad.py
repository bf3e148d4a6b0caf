"""CAGrad (Liu et al. 2021), as ``torchjd``'s aggregator."""

from __future__ import annotations

from dataclasses import dataclass

from torchjd.aggregation import CAGrad

from .aggregator import AggregatorMethod


@dataclass(frozen=True)
class CAGradHyperparameters:
    c: float = 0.4
    """Radius of the ball around the mean gradient, relative to its norm; Liu et al. 2021 use 0.4
    on NYUv2 and CityScapes."""


class CAGradMethod(AggregatorMethod):
    """Conflict-averse gradient descent: within a ball around the average gradient, the direction
    that maximises the worst task's improvement (Liu et al. 2021, Alg. 1). A baseline of the
    AdaTask paper (Tables 1-4; Alg. 3 combines it with AdaTask)."""

    name = "cagrad"
    paper = "Liu et al. 2021, Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS"
    Hyperparameters = CAGradHyperparameters
    extra = "cagrad"

    def make_aggregator(self, num_tasks: int) -> CAGrad:
        return CAGrad(c=self.hyperparameters.c)
