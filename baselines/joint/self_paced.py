"""Self-paced multi-task learning (Li et al. 2017), at the level of tasks."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

from mtl_gym.training import Trainer

from .base import EpochClock, ScalarizingMethod


@dataclass(frozen=True)
class SelfPacedHyperparameters:
    initial_threshold: float | None = None
    """The starting "age" lambda; None: the median of the first joint step's losses, so about half
    the tasks start selected, as Kumar et al. 2010 initialise self-paced learning."""
    growth: float = 1.3
    """Factor on lambda after each epoch; Kumar et al. 2010's annealing factor mu."""
    epoch_steps: int | None = None
    """Joint steps between threshold increases; None: until every task has seen its whole
    training split (see ``steps_per_epoch``)."""


class SelfPacedMethod(ScalarizingMethod):
    """Minimises sum_k v_k L_k - lambda sum_k v_k over task weights v in [0, 1]^K in closed form,
    v_k = 1 if L_k < lambda else 0, alternating with the model update, while lambda grows: easy
    tasks (low loss) train first and harder ones join as the threshold rises. The QLS paper's
    "Self Paced" baseline (§5.1: "task weights as learnable parameters and ... a regularization
    that favors training on easy tasks earlier"). Li et al. also weight the examples within a
    task; the trainer hands over one loss per task minibatch, so the weights here are per task,
    with the hard self-paced regulariser of Kumar et al. 2010. A step that selects no task has a
    zero gradient (Adam's momentum still moves the weights) and costs its K budget units."""

    name = "self-paced"
    paper = "Li et al. 2017, Self-Paced Multi-Task Learning, AAAI"
    Hyperparameters = SelfPacedHyperparameters

    def setup(self, trainer: Trainer) -> None:
        self.threshold = self.hyperparameters.initial_threshold
        self.clock = EpochClock(trainer, self.hyperparameters.epoch_steps)

    def combine(self, losses: Tensor) -> Tensor:
        if self.threshold is None:
            self.threshold = float(losses.detach().quantile(0.5))
        selected = (losses.detach() < self.threshold).to(losses.dtype)
        return (selected * losses).sum()

    def after_combine(self) -> None:
        if self.clock.tick():
            self.threshold *= self.hyperparameters.growth
