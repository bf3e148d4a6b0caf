"""Gradient methods that are ``torchjd`` aggregators, applied to the Jacobian of the task losses."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import torch
from torch import Tensor
from torchjd.aggregation import WeightedAggregator

from mtl_gym.training import StepGraph, Trainer

from .base import GradientMethod, MissingExtraError


class AggregatorMethod(GradientMethod):
    """Aggregates the ``[K, n]`` Jacobian of the task losses with respect to the shared parameters.

    Every aggregator used here is a ``torchjd`` weighted aggregator: its output is ``w @ J`` for
    weights ``w`` it derives from the Jacobian, so the shared parameters get
    ``sum_k w_k grad L_k``. Each head gets its own task's gradient unweighted, as in
    ``torchjd.autojac.mtl_backward``. With ``embedding_update="sparse"`` the Jacobian holds the
    embedding rows some batch touched (see ``TaskGradients.jacobian``), so the method is exact there too.
    """

    extra: ClassVar[str | None] = None
    """The ``torchjd`` pip extra the aggregator needs, if any."""

    @abstractmethod
    def make_aggregator(self, num_tasks: int) -> WeightedAggregator: ...

    def setup(self, trainer: Trainer) -> None:
        try:
            self.aggregator = self.make_aggregator(len(trainer.suite))
        except ImportError as error:
            if self.extra is None:
                raise
            raise MissingExtraError(
                f"joint method {self.name!r} needs the optional dependencies of torchjd's {self.extra!r} extra; "
                f'install them with: pip install "torchjd[{self.extra}]" ({error})'
            ) from error

    def coefficients(self, graph: StepGraph, jacobian: Tensor) -> tuple[Tensor, Tensor]:
        weights = self.aggregator.weighting(jacobian)
        return weights, torch.ones_like(weights)
