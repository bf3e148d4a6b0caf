"""The schedule runner: train one MTL model to a budget under any scheduler, through the env.

Baselines, QLS at run time and the benchmarks all use :func:`run_schedule` (joint methods use
``baselines.joint.run_joint``); both record through :class:`RunRecorder`, so every method is
charged the same budget (task-minibatches) and evaluated by the same code.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import TaskSuite
from ..training import OptimizerFactory, TaskMetrics, Trainer, TrainerConfig
from ..training.trainer import Backward, weighted_sum_backward
from .config import EnvConfig
from .env import ModelFactory, MTLSchedulingEnv
from .rules import Rule

Scheduler = Callable[[np.ndarray, dict], int]
"""Maps an observation and info dict to the next task. An object with a ``reset(env, seed)``
method is reset at the start of each run; one whose ``uses_observation`` is False runs with the
env's observation (and reward) switched off, which changes nothing it trains."""


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
    """What rules report at the end (e.g. convergence steps)."""

    def summary(self) -> dict:
        """The JSON of ``mtl-gym run --json``: everything but the trace and curves."""
        record = dataclasses.asdict(self)
        for key in ("actions", "curves", "extra"):
            record.pop(key)
        return {**record, **self.extra}

    def to_json(self, full: bool = False) -> str:
        return json.dumps(dataclasses.asdict(self) if full else self.summary(), indent=2)


class RunRecorder:
    """Evaluates the full dev split ``evaluations`` times over the budget, then everything at the end."""

    def __init__(self, suite: TaskSuite, budget: int, evaluations: int = 10):
        self.suite = suite
        self.every = max(1, budget // evaluations)
        self.next_evaluation = self.every
        self.best = dict.fromkeys(suite.names, 0.0)
        self.curves: list[dict] = []
        self.start = time.perf_counter()

    def after_step(self, trainer: Trainer) -> None:
        if trainer.budget.total >= self.next_evaluation:
            self.next_evaluation += self.every
            dev = trainer.evaluate("dev")
            self._track(dev)
            self.curves.append(
                {"budget": trainer.budget.total, "dev_acc": {n: m.accuracy for n, m in dev.items()}}
            )

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
        )


def run_schedule(
    scheduler: Scheduler,
    suite: TaskSuite,
    budget: int,
    seed: int = 0,
    *,
    method: str = "custom",
    model: ModelFactory | dict | None = None,
    env_config: EnvConfig | dict | None = None,
    trainer: TrainerConfig | dict | None = None,
    rules: Sequence[Rule] = (),
    optimizer: OptimizerFactory | None = None,
    backward: Backward = weighted_sum_backward,
    evaluations: int = 10,
    after_training: Callable[[Trainer], None] | None = None,
) -> RunResult:
    """Train a fresh model (seeded by ``seed``) until ``budget`` task-minibatches are spent or a
    rule ends the episode, evaluating the full dev split ``evaluations`` times along the way.
    ``after_training`` gets the trainer with the final model, e.g. to keep or probe its encoder."""
    recorder = RunRecorder(suite, budget, evaluations)
    config = env_config if isinstance(env_config, EnvConfig) else EnvConfig.from_dict(env_config or {})
    observe = config.observe and getattr(scheduler, "uses_observation", True)
    # One episode is the whole run: budget units at steps_per_action units per env step.
    episode_steps = math.ceil(budget / config.steps_per_action)
    config = dataclasses.replace(config, episode_steps=episode_steps, observe=observe)
    env = MTLSchedulingEnv(suite, model, config, trainer, rules, optimizer=optimizer, backward=backward)
    observation, info = env.reset(seed=seed)
    if hasattr(scheduler, "reset"):
        scheduler.reset(env, seed)
    actions = []
    while env.trainer.budget.total < budget:
        action = scheduler(observation, info)
        observation, _, terminated, truncated, info = env.step(action)
        actions.append(int(action))
        recorder.after_step(env.trainer)
        if "nan_loss" in info:
            raise FloatingPointError(f"run stopped: non-finite loss in {info['nan_loss']}")
        if terminated or truncated:
            break
    extra = {k: v for rule in env.rules for k, v in rule.info().items()}
    result = recorder.result(env.trainer, method, seed, actions, extra)
    if after_training is not None:
        after_training(env.trainer)
    return result
