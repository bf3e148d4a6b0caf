"""Optimizers as methods of the registry, for the ``+OPTIMIZER`` suffix of any method spec:
``adam`` (the trainer's own), ``adatask`` and ``adam-rau``."""

from __future__ import annotations

from dataclasses import dataclass

from mtl_gym.spec import Configurable
from mtl_gym.training import OptimizerFactory
from mtl_gym.training.trainer import Backward, weighted_sum_backward

from .wiring import AdaTaskConfig, adatask_factory


@dataclass(frozen=True)
class AdaTaskRunConfig(AdaTaskConfig):
    track_dominance: bool = True
    """Record the per-task updates for the rAU report in the run's ``extra["dominance"]``."""


@dataclass(frozen=True)
class AdamRAUConfig(AdaTaskRunConfig):
    task_wise: bool = False
    """False: one accumulator of the summed gradient (plain Adam), its update split per task."""


class OptimizerMethod(Configurable):
    """Builds the optimizer factory and Backward hook of one run (``Trainer(optimizer=, backward=)``)."""

    family = "optimizer"

    def install(self, trainer_lr: float) -> tuple[OptimizerFactory | None, Backward]:
        """The pair for a trainer at ``trainer_lr`` (None: the trainer's default Adam)."""
        return None, weighted_sum_backward


class Adam(OptimizerMethod):
    name = "adam"
    paper = "Kingma & Ba 2015 (the trainer's default)"


class AdaTaskOptimizer(OptimizerMethod):
    name = "adatask"
    paper = "Yang et al. 2023, AdaTask (AAAI)"
    Hyperparameters = AdaTaskRunConfig

    def install(self, trainer_lr: float) -> tuple[OptimizerFactory | None, Backward]:
        return adatask_factory(self.hyperparameters, trainer_lr)


class AdamRAU(AdaTaskOptimizer):
    name = "adam-rau"
    paper = (
        "Adam, with each update split per task to measure its rAU (AdaTask paper, Figs. 2 and 6); "
        "costs one backward pass per task"
    )
    Hyperparameters = AdamRAUConfig


OPTIMIZERS = (Adam, AdaTaskOptimizer, AdamRAU)
