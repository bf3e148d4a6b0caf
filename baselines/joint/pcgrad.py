"""PCGrad: gradient surgery (Yu et al. 2020), as ``torchjd``'s aggregator."""

from __future__ import annotations

from torchjd.aggregation import PCGrad

from .aggregator import AggregatorMethod


class PCGradMethod(AggregatorMethod):
    """Projects each task gradient onto the normal plane of every other task gradient it conflicts
    with, in random order, and sums the results (Yu et al. 2020, Alg. 1). An MTO baseline of Xin
    et al. 2022 (§4) and of the AdaTask paper (Tables 1-4)."""

    name = "pcgrad"
    paper = "Yu et al. 2020, Gradient Surgery for Multi-Task Learning, NeurIPS"

    def make_aggregator(self, num_tasks: int) -> PCGrad:
        return PCGrad()
