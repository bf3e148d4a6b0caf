"""IMTL-G, the gradient part of impartial multi-task learning (Liu et al. 2021), as ``torchjd``'s aggregator."""

from __future__ import annotations

from torchjd.aggregation import IMTLG

from .aggregator import AggregatorMethod


class IMTLMethod(AggregatorMethod):
    """Weights the task gradients so that the aggregate has equal projections on every task's unit
    gradient (Liu et al. 2021, IMTL-G). IMTL-L, the learned loss scales of the full IMTL, is left
    out: it is uncertainty weighting up to a factor of two (torchjd's ``IMTLL`` docs), available
    as ``uncertainty``. An MTO baseline of Xin et al. 2022 (§4)."""

    name = "imtl"
    paper = "Liu et al. 2021, Towards Impartial Multi-task Learning, ICLR"

    def make_aggregator(self, num_tasks: int) -> IMTLG:
        return IMTLG()
