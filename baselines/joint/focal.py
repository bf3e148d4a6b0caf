"""Focal loss (Lin et al. 2017) on every task: a sample-level weighting of the examples."""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor
from torchjd.scalarization import Sum

from mtl_gym.data import IGNORE_INDEX, Batch
from mtl_gym.training import LossFunction, Trainer, supervised_loss

from .base import ScalarizingMethod


@dataclass(frozen=True)
class FocalHyperparameters:
    gamma: float = 2.0
    """Focusing parameter; Lin et al. 2017 find gamma = 2 best (their Table 1a). gamma = 0 is cross-entropy."""


def focal_loss(gamma: float) -> LossFunction:
    """Mean of -(1 - p_t) ** gamma * log p_t over the examples, or over the real tokens for tagging."""

    def loss(logits: Tensor, batch: Batch) -> Tensor:
        labels = batch.labels.to(logits.device).reshape(-1)
        keep = labels.ne(IGNORE_INDEX)
        log_probs = F.log_softmax(logits.reshape(-1, logits.shape[-1])[keep], dim=-1)
        log_true = log_probs.gather(1, labels[keep].unsqueeze(1)).squeeze(1)
        return (-((1.0 - log_true.exp()) ** gamma) * log_true).mean()

    return loss


class FocalMethod(ScalarizingMethod):
    """Replaces each task's cross-entropy by the focal loss, which down-weights the examples the
    model already gets right and focuses on the hard ones, and sums the tasks. The QLS paper's
    "Focal Loss" baseline (§5.1: "sample-level scheduler that down-weights easier samples and
    focuses on hard samples during training"). The trainer's reported losses become focal losses."""

    name = "focal"
    paper = "Lin et al. 2017, Focal Loss for Dense Object Detection, ICCV"
    Hyperparameters = FocalHyperparameters

    def setup(self, trainer: Trainer) -> None:
        # Another rule (e.g. KD) may own a task's loss; silently replacing it would change that rule.
        custom = [
            t.name
            for t, f in zip(trainer.suite, trainer.loss_functions, strict=True)
            if f is not supervised_loss
        ]
        if custom:
            raise RuntimeError(
                f"focal replaces the supervised loss, but tasks {custom} already have a custom loss"
            )
        trainer.loss_functions = [focal_loss(self.hyperparameters.gamma)] * len(trainer.suite)
        self.scalarizer = Sum()

    def combine(self, losses: Tensor) -> Tensor:
        return self.scalarizer(losses)
