"""Wiring AdaTask into a Trainer: its optimizer plus the Backward hook that feeds it per-task gradients."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from mtl_gym.models import shared_parameters
from mtl_gym.spec import Settings
from mtl_gym.training import OptimizerFactory, StepGraph, Trainer, build_optimizer, weighted_sum_backward

from ..gradients import TaskGradients, add_grad, add_scaled
from .dominance import TaskDominance
from .optimizer import AdaTask


@dataclass(frozen=True)
class AdaTaskConfig(Settings):
    variant: str = "adam"
    """``adam`` (the AdaTask paper's CityScapes setting), ``rmsprop`` (its synthetic and
    recommendation settings) or ``adagrad``."""
    lr: float | None = None
    """Learning rate of the dense parameters; None: the trainer's (``TrainerConfig.lr``), so that a
    run has one learning rate whatever its optimizer."""
    betas: tuple[float, float] = (0.9, 0.999)
    """Adam's decays of the first and second moments (gamma_2, gamma_1 of Alg. 2); Kingma and Ba's defaults."""
    alpha: float = 0.99
    """RMSProp's decay gamma; torch's default."""
    eps: float | None = None
    """None: torch's default for the variant (see ``optimizer.DEFAULT_EPS``)."""
    layerwise: bool = False
    """LAdaTask (Appendix A): per-task accumulators per parameter tensor instead of per element."""
    task_wise: bool = True
    """False: the plain optimizer (one accumulator of the summed gradient) with its update split
    per task, to measure the rAU of a baseline (see ``AdaTask``)."""
    track_dominance: bool = False
    """Record the per-task updates of the shared parameters for the rAU diagnostic (``optimizer.dominance``)."""
    dominance_decay: float = 0.99
    """gamma of the accumulated updates, eq. 2 (see ``TaskDominance``)."""


class AdaTaskBackward:
    """The trainer hook that computes each task's gradient of the shared parameters separately
    and hands it, times the task's weight, to the AdaTask optimizer under the task's index;
    heads and parameters the optimizer does not own (a sparse embedding under SparseAdam) get
    the usual weighted sum in ``.grad``.

    It is also a ``GradientSink``: a joint method attached after it routes its per-task
    coefficients here, so AdaTask combines with any joint method (the paper's Alg. 3 and 4 do it
    for CAGrad and PCGrad). A gradient method's aggregate sum_k w_k g_k is split as w_k g_k per
    task; for PCGrad, Alg. 4 splits it into the projected gradients instead.
    """

    def __init__(self) -> None:
        self.optimizer: AdaTask | None = None
        self.model: nn.Module | None = None

    def bind(self, optimizer: AdaTask, model: nn.Module) -> None:
        self.optimizer = optimizer
        self.model = model

    def __call__(self, graph: StepGraph) -> None:
        self.from_coefficients(graph, torch.tensor(graph.weights))

    def from_coefficients(self, graph: StepGraph, coefficients: Tensor) -> None:
        _, model = self._bound()
        self.from_gradients(graph, TaskGradients.compute(graph, model), coefficients, coefficients)

    def from_gradients(
        self, graph: StepGraph, gradients: TaskGradients, shared: Tensor, heads: Tensor
    ) -> None:
        optimizer, _ = self._bound()
        for index, task in enumerate(graph.tasks):
            scale = float(shared[index])
            for parameter, grad in zip(graph.shared_parameters, gradients.shared[index], strict=True):
                if grad is None:
                    continue
                if optimizer.owns(parameter):
                    optimizer.add_task_gradient(task, parameter, scale * grad)
                else:
                    add_grad(parameter, scale * grad)
            add_scaled(gradients.head_parameters[index], gradients.heads[index], float(heads[index]))

    def _bound(self) -> tuple[AdaTask, nn.Module]:
        if self.optimizer is None or self.model is None:
            raise RuntimeError(
                "the AdaTask hook has no optimizer yet; build the trainer with adatask_factory's factory"
            )
        return self.optimizer, self.model


def adatask_factory(
    config: AdaTaskConfig = AdaTaskConfig(), trainer_lr: float = 1e-3
) -> tuple[OptimizerFactory, AdaTaskBackward]:
    """An optimizer factory and the hook bound to the optimizer it builds, for
    ``Trainer(model, suite, config, optimizer=factory, backward=hook)``; one pair per trainer.
    ``trainer_lr`` is the learning rate when ``config.lr`` is None: pass the trainer's."""
    hook = AdaTaskBackward()
    lr = trainer_lr if config.lr is None else config.lr

    def build(params: list[nn.Parameter], model: nn.Module) -> AdaTask:
        ids = {id(p) for p in params}
        shared = [p for p in shared_parameters(model) if id(p) in ids]
        num_tasks = len(model.heads)
        dominance = None
        if config.track_dominance:
            shared_ids = {id(p) for p in shared}
            named = [(name, p) for name, p in model.named_parameters() if id(p) in shared_ids]
            dominance = TaskDominance(named, num_tasks, config.dominance_decay)
        optimizer = AdaTask(
            params,
            shared,
            num_tasks,
            variant=config.variant,
            lr=lr,
            betas=config.betas,
            alpha=config.alpha,
            eps=config.eps,
            layerwise=config.layerwise,
            dominance=dominance,
            task_wise=config.task_wise,
        )
        hook.bind(optimizer, model)
        return optimizer

    return build, hook


def attach_adatask(trainer: Trainer, config: AdaTaskConfig = AdaTaskConfig()) -> AdaTask:
    """Give a fresh trainer AdaTask's optimizer and hook; attach joint methods after this. Returns the optimizer."""
    if trainer.backward is not weighted_sum_backward:
        raise RuntimeError(
            f"the trainer already has the Backward hook {trainer.backward!r}; attach AdaTask first, then the "
            "joint method, which then routes its per-task gradients through AdaTask's hook"
        )
    if trainer.budget.total:
        raise RuntimeError(
            "attach AdaTask before the first step: replacing the optimizer would drop its state"
        )
    factory, hook = adatask_factory(config, trainer.config.lr)
    trainer.optimizer = build_optimizer(
        trainer.model, factory, trainer.config.embedding_update, trainer.config.lr
    )
    trainer.backward = hook
    optimizer, _ = hook._bound()
    return optimizer
