"""The trainer: the only place in mtl-gym where gradient steps happen.

The env, the KD rule and every baseline train through :meth:`Trainer.step`, evaluate through
:meth:`Trainer.evaluate` and are charged in one budget unit, task-minibatches seen, so that
their comparisons are fair. A joint step over K tasks costs K.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import Batch, TaskSuite
from ..models import check_model, shared_parameters
from ..spec import Settings
from .device import check_device, resolve_device
from .evaluation import TaskMetrics, evaluate
from .losses import task_loss
from .optim import OptimizerFactory, adam, build_optimizer
from .sampling import EpochSampler


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (model init, dropout) in one call."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass(frozen=True)
class TrainerConfig(Settings):
    """How minibatches are drawn and parameters updated."""

    batch_size: int = 16
    """Examples per minibatch, all from one task (QLS §4.4)."""
    lr: float = 1e-3
    """Learning rate of the default Adam and of the sparse embedding optimizer."""
    embedding_update: str = "sparse"
    """``sparse`` (SparseAdam on the embedding rows in the batch), ``dense`` or ``frozen``; see training.optim."""
    eval_batch_size: int = 64
    """Examples per forward pass during evaluation (64 was the fastest for the LSTM on 2 CPU cores)."""
    seed: int = 0
    """Seeds minibatch sampling (model init is seeded by whoever builds the model)."""
    device: str = "auto"
    """Where the model trains: ``auto`` (CUDA when torch sees a GPU, else the CPU), ``cpu``, ``cuda``
    or ``cuda:N``. The trainer moves the model there; the model is still built (and seeded) on the
    CPU, so a run starts from the same weights on every device. Not part of the disk caches' keys."""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "device", check_device(self.device))
        except ValueError as err:
            raise ValueError(f"TrainerConfig.device: {err}") from None


@dataclass
class Budget:
    """Task-minibatches seen, per task; the common currency of every method."""

    per_task: list[int]
    samples: list[int]
    """Training examples seen, per task."""

    @property
    def total(self) -> int:
        return sum(self.per_task)


@dataclass
class StepResult:
    tasks: list[int]
    losses: list[float]
    """The training loss of each entry of ``tasks``, before the update."""


@dataclass
class Snapshot:
    """Model and optimizer state at one moment, held in memory."""

    model: dict[str, torch.Tensor]
    optimizer: Any


class NonFiniteLossError(FloatingPointError):
    """A task's loss was NaN or infinite; the step was abandoned before any parameter changed."""

    def __init__(self, task_name: str, value: float):
        self.task_name = task_name
        self.value = value
        super().__init__(
            f"task {task_name!r} produced a non-finite training loss ({value}); no update was made"
        )

    def __reduce__(self):
        # Rebuilt from its own arguments, so that it crosses a process pool with them.
        return type(self), (self.task_name, self.value)


@dataclass
class StepGraph:
    """What one step computed, handed to the gradient-aggregation hook."""

    tasks: list[int]
    losses: list[torch.Tensor]
    """One scalar loss per entry of ``tasks``, still attached to the graph."""
    weights: list[float]
    features: list[Any]
    """The shared features each loss came from (what ``model.encode`` returned for its batch)."""
    shared_parameters: list[nn.Parameter]


Backward = Callable[[StepGraph], None]
"""The gradient-aggregation hook: leave gradients in ``.grad`` of every parameter. Gradient
methods (PCGrad, MGDA, ...) and per-task optimizers (AdaTask) replace the default here."""


def weighted_sum_backward(graph: StepGraph) -> None:
    """Eq. (3) of the QLS paper: backpropagate sum_k alpha_k L_k."""
    total = sum(w * loss for w, loss in zip(graph.weights, graph.losses, strict=True))
    total.backward()


LossFunction = Callable[[torch.Tensor, Batch], torch.Tensor]
"""Training loss of one task from its logits and batch; rules may swap a task's (KD does)."""


def supervised_loss(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    return task_loss(logits, batch.labels.to(logits.device))


class Trainer:
    """Trains ``model`` on ``suite`` one step at a time, on ``config.device`` (the model is moved there)."""

    def __init__(
        self,
        model: nn.Module,
        suite: TaskSuite,
        config: TrainerConfig = TrainerConfig(),
        optimizer: OptimizerFactory | None = None,
        backward: Backward = weighted_sum_backward,
    ):
        check_model(model, len(suite))
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)  # before the optimizer, whose state follows the parameters
        self.suite = suite
        self.config = config
        self.backward = backward
        self.optimizer = build_optimizer(
            model, optimizer or adam(config.lr), config.embedding_update, config.lr
        )
        self.samplers = [
            EpochSampler(len(task.train), config.batch_size, seed=[config.seed, index])
            for index, task in enumerate(suite)
        ]
        self.budget = Budget([0] * len(suite), [0] * len(suite))
        self.loss_functions: list[LossFunction] = [supervised_loss] * len(suite)
        self.last_step: StepResult | None = None
        """The latest step's tasks and losses (for :class:`~mtl_gym.training.runs.RunRecorder`)."""

    def next_batch(self, task_index: int) -> Batch:
        self._check_task(task_index)
        return self.suite[task_index].train.batch(self.samplers[task_index].next_index())

    def step(self, tasks: Sequence[int], weights: Sequence[float] | None = None) -> StepResult:
        """One update on a fresh minibatch of each task in ``tasks`` (a task may repeat).

        Costs ``len(tasks)`` budget units. Raises :class:`NonFiniteLossError` before touching
        any parameter when a loss is NaN or infinite.
        """
        if not tasks:
            raise ValueError("a step needs at least one task")
        weights = [1.0] * len(tasks) if weights is None else list(weights)
        if len(weights) != len(tasks):
            raise ValueError(f"got {len(weights)} weights for {len(tasks)} tasks")
        batches = [self.next_batch(t) for t in tasks]
        self.model.train()
        self.optimizer.zero_grad(set_to_none=True)
        losses, features = [], []
        for task_index, batch in zip(tasks, batches, strict=True):
            encoded = self.model.encode(batch.tokens.to(self.device), batch.lengths.to(self.device))
            loss = self.loss_functions[task_index](self.model.head(task_index, encoded), batch)
            losses.append(loss)
            features.append(encoded)
        values = [float(loss.detach()) for loss in losses]
        for task_index, value in zip(tasks, values, strict=True):
            if not np.isfinite(value):
                raise NonFiniteLossError(self.suite[task_index].name, value)
        self.backward(StepGraph(list(tasks), losses, weights, features, shared_parameters(self.model)))
        self.optimizer.step()
        for task_index, batch in zip(tasks, batches, strict=True):
            self.budget.per_task[task_index] += 1
            self.budget.samples[task_index] += len(batch)
        self.last_step = StepResult(list(tasks), values)
        return self.last_step

    def evaluate(self, split: str = "dev", tasks: list[int] | None = None) -> dict[str, TaskMetrics]:
        return evaluate(self.model, self.suite, split, tasks, self.config.eval_batch_size)

    def snapshot(self) -> Snapshot:
        """A deep copy of model and optimizer state (sampling position and budget are not rewound)."""
        model_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        return Snapshot(model_state, copy.deepcopy(self.optimizer.state_dict()))

    def restore(self, snapshot: Snapshot) -> None:
        self.model.load_state_dict(snapshot.model)
        self.optimizer.load_state_dict(copy.deepcopy(snapshot.optimizer))

    @contextmanager
    def rewound(self) -> Iterator[Trainer]:
        """Steps taken inside are undone on exit, all of them: model and optimizer (as
        :meth:`restore`), the minibatch samplers' positions, the budget, ``last_step`` and torch's
        random state. For trial steps that must cost nothing (a lookahead), unlike :meth:`restore`,
        which keeps the budget spent and the samplers where they are."""
        saved = (self.snapshot(), copy.deepcopy(self.samplers), copy.deepcopy(self.budget))
        last_step, rng_state = self.last_step, torch.get_rng_state()
        # On a GPU, dropout draws from the GPU's generator: it is rewound too.
        cuda_state = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        try:
            yield self
        finally:
            self.restore(saved[0])
            self.samplers, self.budget = saved[1], saved[2]
            self.last_step = last_step
            torch.set_rng_state(rng_state)
            if cuda_state is not None:
                torch.cuda.set_rng_state(cuda_state, self.device)

    def _check_task(self, task_index: int) -> None:
        if not isinstance(task_index, int | np.integer) or not 0 <= task_index < len(self.suite):
            raise IndexError(f"task index {task_index!r} is out of range for {len(self.suite)} tasks")
