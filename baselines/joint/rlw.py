"""Random loss weighting (Lin et al. 2021), as ``torchjd``'s scalarizer."""

from __future__ import annotations

from torch import Tensor
from torchjd.scalarization import Random

from .base import ScalarizingMethod


class RLWMethod(ScalarizingMethod):
    """Weights drawn afresh every step, the softmax of standard normal samples (Lin et al. 2021,
    Alg. 2); they use torch's global generator, so ``seed_everything`` fixes them. The RLW
    baseline of Xin et al. 2022 (§4, their reference [20])."""

    name = "rlw"
    paper = "Lin et al. 2021, A Closer Look at Loss Weighting in Multi-Task Learning, arXiv:2111.10603"

    def setup(self, trainer) -> None:
        self.scalarizer = Random()

    def combine(self, losses: Tensor) -> Tensor:
        return self.scalarizer(losses)
