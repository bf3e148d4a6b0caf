"""Run bookkeeping shared by every way of training one model to a budget: the scheduled runs of
``mtl_gym.env.run_schedule`` and the joint runs of ``mtl_gym.baselines.joint.run_joint``.

Both build their model and trainer with :func:`build_trainer` from the seed :func:`first_model_seed`
draws (the one the env's ``reset(seed=...)`` draws first), and record through :class:`RunRecorder`,
so every method starts from the same model for a seed, is charged the same budget (task-minibatches)
and is evaluated by the same code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from gymnasium.utils import seeding
from torch import nn

from ..data import TaskSuite
from ..objective import Objective, bind_objective
from .evaluation import TaskMetrics
from .optim import OptimizerFactory
from .trainer import Backward, Trainer, TrainerConfig, seed_everything, weighted_sum_backward

ModelFactory = Callable[[TaskSuite], nn.Module]
"""Builds a fresh model for a suite (a ``ModelConfig``, a model class, any callable)."""


def first_model_seed(seed: int) -> int:
    """The model seed that ``reset(seed=seed)`` draws first: runs outside the env (joint methods)
    start from the same initial model as scheduler runs with the same seed."""
    rng, _ = seeding.np_random(seed)
    return draw_model_seed(rng)


def draw_model_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


def build_trainer(
    suite: TaskSuite,
    model_factory: ModelFactory,
    config: TrainerConfig,
    model_seed: int,
    optimizer: OptimizerFactory | None = None,
    backward: Backward = weighted_sum_backward,
) -> Trainer:
    """A fresh model and trainer, both seeded by ``model_seed``."""
    seed_everything(model_seed)
    config = TrainerConfig(**{**config.to_dict(), "seed": model_seed})
    return Trainer(model_factory(suite), suite, config, optimizer, backward)


@dataclass
class RunResult:
    suite: str
    method: str
    seed: int
    budget: int
    tasks: dict[str, dict[str, float]]
    """Per task: final ``dev_acc`` and ``test_acc``, ``best_dev_acc`` over the periodic evaluations,
    and for IOB tagging tasks final ``dev_f1`` and ``test_f1`` (chunk F1)."""
    avg_test_acc: float
    avg_dev_acc: float
    action_counts: dict[str, int]
    wall_s: float
    actions: list[int] = field(default_factory=list)
    """The action trace, one entry per env step (empty for joint methods)."""
    curves: list[dict] = field(default_factory=list)
    """Periodic full-dev evaluations: budget spent and per-task dev accuracy."""
    extra: dict = field(default_factory=dict)
    """What rules report at the end (e.g. convergence steps); ``non_finite`` = {task, value, budget}
    when a non-finite training loss stopped the run early (the metrics are of the model at that point)."""
    diverged: bool = False
    """Some task's training loss ended above where it started (its last ``LOSS_WINDOW`` minibatch
    losses average over ``DIVERGENCE_MARGIN`` above its first), or a loss went non-finite: the
    learning rate is likely too high, and the results are near chance."""
    training_loss: dict = field(default_factory=dict)
    """Per task trained: ``initial`` (its first minibatch loss) and ``final`` (mean of its last
    ``LOSS_WINDOW``)."""

    def objective_score(self, objective: str | Objective | None, split: str = "test") -> float:
        """The ``objective``'s score (``mtl_gym.objective``) of the final ``split`` accuracies; ``mean``
        is ``avg_test_acc`` / ``avg_dev_acc``."""
        bound = bind_objective(objective, list(self.tasks))
        return float(bound.score({name: entry[f"{split}_acc"] for name, entry in self.tasks.items()}))

    def summary(self) -> dict:
        """The JSON of ``mtl-gym run --json``: everything but the trace and curves."""
        record = dataclasses.asdict(self)
        for key in ("actions", "curves", "extra"):
            record.pop(key)
        return {**record, **self.extra}

    def to_json(self, full: bool = False) -> str:
        return json.dumps(dataclasses.asdict(self) if full else self.summary(), indent=2)


LOSS_WINDOW = 10
"""Minibatch losses per task averaged for the final training loss of a run."""
DIVERGENCE_MARGIN = 0.1
"""How far (relative) above its first loss a task's final loss must end for the run to count as diverged."""


def diverging(loss: dict[str, float]) -> bool:
    """Whether a task's ``final`` training loss ended over ``DIVERGENCE_MARGIN`` above its ``initial``."""
    return not loss["final"] <= loss["initial"] * (1 + DIVERGENCE_MARGIN)


class RunRecorder:
    """Evaluates the full dev split ``evaluations`` times over the budget, then everything at the end.

    ``every_steps`` evaluates every that many steps instead (env steps of a scheduled run, joint
    steps of a joint run), as the Async-KD paper's "we validate every 200 training steps";
    ``test_curves`` adds the test split to each point (the best-checkpoint rows of its Table 3)."""

    def __init__(
        self,
        suite: TaskSuite,
        budget: int,
        evaluations: int = 10,
        *,
        every_steps: int | None = None,
        test_curves: bool = False,
    ):
        self.suite = suite
        self.every_steps = every_steps
        self.every = max(1, budget // evaluations)
        self.next_evaluation = self.every
        self.test_curves = test_curves
        self.steps = 0
        self.best = dict.fromkeys(suite.names, 0.0)
        self.curves: list[dict] = []
        self.first_losses: dict[int, float] = {}
        self.last_losses: dict[int, deque] = {}
        self._seen_step = None
        self.start = time.perf_counter()

    def after_step(self, trainer: Trainer) -> None:
        self.steps += 1
        self._track_losses(trainer)
        if self.every_steps is not None:
            due = self.steps % self.every_steps == 0
        else:
            due = trainer.budget.total >= self.next_evaluation
            if due:
                self.next_evaluation += self.every
        if not due:
            return
        dev = trainer.evaluate("dev")
        self._track(dev)
        point = {"budget": trainer.budget.total, "dev_acc": {n: m.accuracy for n, m in dev.items()}}
        if self.every_steps is not None:
            point["step"] = self.steps
        if self.test_curves:
            point["test_acc"] = {n: m.accuracy for n, m in trainer.evaluate("test").items()}
        self.curves.append(point)

    def _track_losses(self, trainer: Trainer) -> None:
        step = getattr(trainer, "last_step", None)
        if step is None or step is self._seen_step:
            return
        self._seen_step = step
        for task, loss in zip(step.tasks, step.losses, strict=True):
            self.first_losses.setdefault(task, loss)
            self.last_losses.setdefault(task, deque(maxlen=LOSS_WINDOW)).append(loss)

    def training_loss(self) -> dict[str, dict[str, float]]:
        """Per task trained, ``initial``: its first minibatch loss (the one step where a too-high
        learning rate has not yet blown the model up), and ``final``: the mean of its last ``LOSS_WINDOW``."""
        return {
            self.suite.names[t]: {"initial": first, "final": float(np.mean(self.last_losses[t]))}
            for t, first in sorted(self.first_losses.items())
        }

    def _track(self, dev: dict) -> None:
        for name, metrics in dev.items():
            self.best[name] = max(self.best[name], metrics.accuracy)

    def _task_entry(self, name: str, dev: TaskMetrics, test: TaskMetrics) -> dict[str, float]:
        entry = {"dev_acc": dev.accuracy, "test_acc": test.accuracy, "best_dev_acc": self.best[name]}
        if test.chunk_f1 is not None:
            entry |= {"dev_f1": dev.chunk_f1, "test_f1": test.chunk_f1}
        return entry

    def result(self, trainer: Trainer, method: str, seed: int, actions: list[int], extra: dict) -> RunResult:
        dev, test = trainer.evaluate("dev"), trainer.evaluate("test")
        self._track(dev)
        names = self.suite.names
        counts = Counter(actions) if actions else dict(enumerate(trainer.budget.per_task))
        self._track_losses(trainer)
        loss = self.training_loss()
        diverged = "non_finite" in extra or any(diverging(task) for task in loss.values())
        return RunResult(
            suite=self.suite.name,
            method=method,
            seed=seed,
            budget=trainer.budget.total,
            tasks={n: self._task_entry(n, dev[n], test[n]) for n in names},
            avg_test_acc=float(np.mean([test[n].accuracy for n in names])),
            avg_dev_acc=float(np.mean([dev[n].accuracy for n in names])),
            action_counts={n: counts.get(i, 0) for i, n in enumerate(names)},
            wall_s=time.perf_counter() - self.start,
            actions=actions,
            curves=self.curves,
            extra=extra,
            diverged=diverged,
            training_loss=loss,
        )
