"""MGDA (Sener and Koltun 2018), as ``torchjd``'s aggregator."""

from __future__ import annotations

from dataclasses import dataclass

from torchjd.aggregation import MGDA

from .aggregator import AggregatorMethod


@dataclass(frozen=True)
class MGDAHyperparameters:
    epsilon: float = 0.001
    """Stop the Frank-Wolfe solver (Sener and Koltun 2018, Alg. 2) once its step is below this; torchjd's default."""
    max_iters: int = 100
    """Most Frank-Wolfe iterations per step; torchjd's default."""


class MGDAMethod(AggregatorMethod):
    """The min-norm point of the convex hull of the task gradients, a common descent direction
    (Sener and Koltun 2018, §3.2: MGDA on the gradients of the shared parameters, not their
    MGDA-UB bound on the shared features). An MTO baseline of Xin et al. 2022 (§4) and of the
    AdaTask paper (Table 8)."""

    name = "mgda"
    paper = "Sener and Koltun 2018, Multi-Task Learning as Multi-Objective Optimization, NeurIPS"
    Hyperparameters = MGDAHyperparameters

    def make_aggregator(self, num_tasks: int) -> MGDA:
        return MGDA(epsilon=self.hyperparameters.epsilon, max_iters=self.hyperparameters.max_iters)
