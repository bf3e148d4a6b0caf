"""GradNorm (Chen et al. 2018): learned task weights that balance the training rates."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mtl_gym.training import StepGraph, Trainer

from .base import GradientMethod, learned_weights_optimizer


@dataclass(frozen=True)
class GradNormHyperparameters:
    alpha: float = 1.5
    """Strength of the pull towards equal training rates; Chen et al. 2018 use 1.5 on NYUv2. The
    async-convergence KD paper picks from {0.5, 1, 2} (App. A), Xin et al. 2022 grid-search it."""
    lr: float | None = None
    """Adam learning rate of the task weights; None takes the trainer's, as Chen et al. train the
    weights alongside the network."""


class GradNormMethod(GradientMethod):
    """Learns task weights w (renormalised to sum to K after every update) by gradient descent on
    sum_k |G_k - mean(G) r_k ** alpha|, where G_k = w_k ||grad_W L_k|| and r_k is task k's loss
    ratio L_k(t) / L_k(0) relative to the mean ratio, the target held constant (Chen et al. 2018,
    Alg. 1): a task whose loss falls slower than the others' gains weight. The model then takes
    the gradient of sum_k w_k L_k. W is every shared parameter rather than Chen et al.'s last
    shared layer: the model protocol does not say which layer is last, and ||grad_W L_k|| over
    all of them is what the per-task Jacobian already holds. A baseline of the QLS, async-KD
    (§4.2 (4)), Xin et al. 2022 and AdaTask papers."""

    name = "gradnorm"
    paper = "Chen et al. 2018, GradNorm: Gradient Normalization for Adaptive Loss Balancing in Deep Multitask Networks, ICML"
    Hyperparameters = GradNormHyperparameters

    def setup(self, trainer: Trainer) -> None:
        self.task_weights = nn.Parameter(torch.ones(len(trainer.suite), device=trainer.device))
        self.optimizer = learned_weights_optimizer([self.task_weights], self.hyperparameters.lr, trainer)
        self.initial_losses: Tensor | None = None

    def coefficients(self, graph: StepGraph, jacobian: Tensor) -> tuple[Tensor, Tensor]:
        losses = torch.stack([loss.detach() for loss in graph.losses])
        if self.initial_losses is None:
            self.initial_losses = losses
        used = self.task_weights.detach().clone()
        ratios = losses / self.initial_losses
        norms = self.task_weights * jacobian.norm(dim=1)
        target = (norms.mean() * (ratios / ratios.mean()) ** self.hyperparameters.alpha).detach()
        self.optimizer.zero_grad(set_to_none=True)
        (norms - target).abs().sum().backward()
        self.optimizer.step()
        with torch.no_grad():
            self.task_weights.mul_(len(used) / self.task_weights.sum())
        return used, used
