"""Nash-MTL (Navon et al. 2022), as ``torchjd``'s aggregator."""

from __future__ import annotations

from dataclasses import dataclass

from torchjd.aggregation import NashMTL

from .aggregator import AggregatorMethod


@dataclass(frozen=True)
class NashMTLHyperparameters:
    max_norm: float = 1.0
    """Clip the norm of the aggregated gradient to this (0 disables); the official implementation's default, kept by torchjd."""
    update_weights_every: int = 1
    """Solve for new weights every this many steps; the official default."""
    optim_niter: int = 20
    """Iterations of the sequential convex solver per update; the official default."""


class NashMTLMethod(AggregatorMethod):
    """Weights that solve the Nash bargaining problem between the tasks, G^T G alpha = 1/alpha
    (Navon et al. 2022, Alg. 1)."""

    name = "nash-mtl"
    paper = "Navon et al. 2022, Multi-Task Learning as a Bargaining Game, ICML"
    Hyperparameters = NashMTLHyperparameters
    extra = "nash-mtl"

    def make_aggregator(self, num_tasks: int) -> NashMTL:
        h = self.hyperparameters
        return NashMTL(num_tasks, h.max_norm, h.update_weights_every, h.optim_niter)
