"""Aligned-MTL (Senushkin et al. 2023), as ``torchjd``'s aggregator."""

from __future__ import annotations

from dataclasses import dataclass

from torchjd.aggregation import AlignedMTL

from .aggregator import AggregatorMethod


@dataclass(frozen=True)
class AlignedMTLHyperparameters:
    scale_mode: str = "min"
    """Eigenvalue that scales the aligned gradients: ``min`` (Senushkin et al. 2023 and torchjd's
    default), ``median`` or ``rmse``."""


class AlignedMTLMethod(AggregatorMethod):
    """Aligns the principal components of the task gradients so the gradient system has condition
    number one, then averages (Senushkin et al. 2023)."""

    name = "aligned-mtl"
    paper = "Senushkin et al. 2023, Independent Component Alignment for Multi-Task Learning, CVPR"
    Hyperparameters = AlignedMTLHyperparameters

    def make_aggregator(self, num_tasks: int) -> AlignedMTL:
        return AlignedMTL(scale_mode=self.hyperparameters.scale_mode)
