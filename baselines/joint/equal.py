"""Uniform weighting: the sum of the task losses."""

from __future__ import annotations

from torch import Tensor
from torchjd.scalarization import Sum

from .base import ScalarizingMethod


class EqualMethod(ScalarizingMethod):
    """Minimises the plain sum of the task losses: "Uni. Weight" of the async-convergence KD paper
    (§4.2 (1)), "Uniform" of the QLS paper (§5.1), EqualWeight of the AdaTask paper."""

    name = "equal"
    paper = "Caruana 1997, Multitask Learning, Machine Learning 28(1)"

    def setup(self, trainer) -> None:
        self.scalarizer = Sum()

    def combine(self, losses: Tensor) -> Tensor:
        return self.scalarizer(losses)
