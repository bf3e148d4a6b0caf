"""The joint-method base: every task's minibatch in every step, through the one trainer.

A joint method installs a ``Backward`` hook on the trainer and steps with
``trainer.step(list(range(K)))``, which costs K budget units. Inside the hook it decides one
coefficient per task, either from the losses alone (:class:`ScalarizingMethod`) or from the
per-task gradients (:class:`GradientMethod`), and hands them to a :class:`GradientSink`: plain
weighted sums, or AdaTask's per-task optimizer when ``attach_adatask`` ran first.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import torch
from torch import Tensor

from mtl_gym.spec import Configurable
from mtl_gym.training import StepGraph, StepResult, Trainer, weighted_sum_backward

from ..gradients import GradientSink, SumSink, TaskGradients


class MissingExtraError(ImportError):
    """An optional dependency of a method is not installed."""


class JointMethod(Configurable, ABC):
    """Trains all K tasks in every step. Use ``attach(trainer)`` once, then ``step(trainer)``.

    ``weights`` holds the coefficients of the task gradients on the shared parameters in the
    latest step, for logging and tests.
    """

    family = "joint method"

    def __init__(self, **hyperparameters: Any):
        super().__init__(**hyperparameters)
        self.trainer: Trainer | None = None
        self.weights: list[float] = []

    @property
    def num_tasks(self) -> int:
        return len(self._attached().suite)

    def attach(self, trainer: Trainer) -> None:
        """Install this method's hook on ``trainer``; AdaTask's hook, if present, receives its gradients."""
        if self.trainer is not None:
            raise RuntimeError(f"joint method {self.name!r} is already attached to a trainer")
        if isinstance(trainer.backward, GradientSink):
            self.sink: GradientSink = trainer.backward
        elif trainer.backward is weighted_sum_backward:
            self.sink = SumSink()
        else:
            raise RuntimeError(
                f"joint method {self.name!r} cannot share the trainer with the Backward hook {trainer.backward!r}; "
                "only AdaTask's hook (attach_adatask, before the joint method) combines with joint methods"
            )
        self.setup(trainer)
        self.trainer = trainer
        trainer.backward = self._backward

    def setup(self, trainer: Trainer) -> None:  # noqa: B027 - optional hook, empty by default
        """Create the method's own state once the trainer is known."""

    def step(self, trainer: Trainer) -> StepResult:
        """One update on a fresh minibatch of every task."""
        if trainer is not self.trainer:
            raise RuntimeError(
                f"joint method {self.name!r} is attached to another trainer; call attach first"
            )
        return trainer.step(list(range(self.num_tasks)))

    def _attached(self) -> Trainer:
        if self.trainer is None:
            raise RuntimeError(f"joint method {self.name!r} is not attached to a trainer")
        return self.trainer

    def _backward(self, graph: StepGraph) -> None:
        # The method owns the weighting, so a step with other tasks or weights would be ignored silently.
        if graph.tasks != list(range(self.num_tasks)) or any(w != 1.0 for w in graph.weights):
            raise ValueError(
                f"joint method {self.name!r} expects unweighted steps over all {self.num_tasks} tasks "
                f"(use method.step(trainer)); got tasks {graph.tasks} with weights {graph.weights}"
            )
        self.backward(graph)

    @abstractmethod
    def backward(self, graph: StepGraph) -> None:
        """Decide the coefficients of this step and hand them to ``self.sink``."""


class ScalarizingMethod(JointMethod):
    """A method that minimises a scalar function of the task losses.

    The coefficient of task k is the derivative of that function with respect to L_k, so the
    model receives exactly the gradient of the scalarised loss while the sink may still keep
    the tasks apart.
    """

    @abstractmethod
    def combine(self, losses: Tensor) -> Tensor:
        """The scalarised loss of the detached ``[K]`` task losses; may involve the method's own parameters."""

    def after_combine(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Update the method's own parameters, whose gradients ``combine`` has just produced."""

    def backward(self, graph: StepGraph) -> None:
        losses = torch.stack([loss.detach() for loss in graph.losses]).requires_grad_()
        self.combine(losses).backward()
        self.after_combine()
        coefficients = losses.grad.detach()
        self.weights = coefficients.tolist()
        self.sink.from_coefficients(graph, coefficients)


class GradientMethod(JointMethod):
    """A method whose coefficients depend on the per-task gradients of the shared parameters."""

    @abstractmethod
    def coefficients(self, graph: StepGraph, jacobian: Tensor) -> tuple[Tensor, Tensor]:
        """Coefficients of the task gradients on the shared parameters and on the heads."""

    def backward(self, graph: StepGraph) -> None:
        gradients = TaskGradients.compute(graph, self._attached().model)
        shared, heads = self.coefficients(graph, gradients.jacobian(graph.shared_parameters))
        self.weights = shared.tolist()
        self.sink.from_gradients(graph, gradients, shared, heads)


def steps_per_epoch(trainer: Trainer) -> int:
    """Joint steps until every task has seen its whole training split at least once."""
    return math.ceil(max(len(task.train) for task in trainer.suite) / trainer.config.batch_size)


class EpochClock:
    """Counts joint steps; ``tick`` is True at the end of each epoch of ``epoch_steps`` steps
    (``steps_per_epoch(trainer)`` when None)."""

    def __init__(self, trainer: Trainer, epoch_steps: int | None):
        self.epoch_steps = epoch_steps or steps_per_epoch(trainer)
        self.steps = 0

    def tick(self) -> bool:
        self.steps += 1
        return self.steps % self.epoch_steps == 0


def learned_weights_optimizer(
    parameters: list[torch.nn.Parameter], lr: float | None, trainer: Trainer
) -> torch.optim.Adam:
    """Adam for a method's own weights, at the trainer's learning rate unless ``lr`` is given."""
    return torch.optim.Adam(parameters, lr=trainer.config.lr if lr is None else lr)
