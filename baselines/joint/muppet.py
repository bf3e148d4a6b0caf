"""Muppet's static loss scaling (Aghajanyan et al. 2021)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from mtl_gym.training import Trainer

from .base import ScalarizingMethod

SCALES = ("log-classes", "initial-loss")


@dataclass(frozen=True)
class MuppetHyperparameters:
    scale: str = "log-classes"
    """``log-classes``: w_k = 1 / log C_k, the loss of a uniform prediction over task k's C_k
    labels, Muppet's own rule (Aghajanyan et al. 2021, §3.2 "Loss Scaling"). ``initial-loss``:
    w_k = 1 / L_k of the first joint step, the same heuristic measured, for encoders whose first
    predictions are not uniform (pretrained vectors, warm starts)."""


class MuppetMethod(ScalarizingMethod):
    """Static loss weights that bring the task losses to one scale, so that a uniform prediction
    costs 1 on every task. The async-convergence KD paper's "Muppet" baseline (§4.2 (2): "a
    simple heuristic to compute a loss weight for each task such that the losses will roughly be
    on the same scale after applying the weights"; its weights in App. A, Table 6). With binary
    tasks only, ``log-classes`` is uniform weighting scaled by 1 / log 2."""

    name = "muppet"
    paper = "Aghajanyan et al. 2021, Muppet: Massive Multi-task Representations with Pre-Finetuning, EMNLP"
    Hyperparameters = MuppetHyperparameters

    def setup(self, trainer: Trainer) -> None:
        scale = self.hyperparameters.scale
        if scale not in SCALES:
            raise ValueError(f"muppet scale must be one of {SCALES}, got {scale!r}")
        self.scales: Tensor | None = None
        if scale == "log-classes":
            self.scales = torch.tensor(
                [1.0 / math.log(task.num_labels) for task in trainer.suite], device=trainer.device
            )

    def combine(self, losses: Tensor) -> Tensor:
        if self.scales is None:
            self.scales = 1.0 / losses.detach()
        return (self.scales * losses).sum()
