"""UPGrad (Quinton and Rey 2024), as ``torchjd``'s aggregator."""

from __future__ import annotations

from torchjd.aggregation import UPGrad

from .aggregator import AggregatorMethod


class UPGradMethod(AggregatorMethod):
    """Projects each task gradient onto the dual cone of all task gradients and averages the
    projections, so no task's loss increases to first order (Quinton and Rey 2024)."""

    name = "upgrad"
    paper = "Quinton and Rey 2024, Jacobian Descent for Multi-Objective Optimization, arXiv:2406.16232"
    extra = "quadprog-projector"

    def make_aggregator(self, num_tasks: int) -> UPGrad:
        return UPGrad()
