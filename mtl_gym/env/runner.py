"""The schedule runner: train one MTL model to a budget under any scheduler, through the env.

Baselines, QLS at run time and the benchmarks all use :func:`run_schedule`, so every scheduler
is charged the same budget (task-minibatches) and evaluated by the same code.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data import TaskSuite
from ..training import TrainerConfig
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
    """Per task: final ``dev_acc`` and ``test_acc``, and ``best_dev_acc`` over the periodic evaluations."""
    avg_test_acc: float
    avg_dev_acc: float
    action_counts: dict[str, int]
    wall_s: float
    actions: list[int] = field(default_factory=list)
    """The action trace, one entry per env step."""
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
    evaluations: int = 10,
) -> RunResult:
    """Train a fresh model (seeded by ``seed``) until ``budget`` task-minibatches are spent or a
    rule ends the episode, evaluating the full dev split ``evaluations`` times along the way."""
    start = time.perf_counter()
    config = env_config if isinstance(env_config, EnvConfig) else EnvConfig.from_dict(env_config or {})
    observe = config.observe and getattr(scheduler, "uses_observation", True)
    config = dataclasses.replace(config, episode_steps=budget, observe=observe)
    env = MTLSchedulingEnv(suite, model, config, trainer, rules)
    observation, info = env.reset(seed=seed)
    if hasattr(scheduler, "reset"):
        scheduler.reset(env, seed)
    names = suite.names
    every = max(1, budget // evaluations)
    next_evaluation = every
    best = dict.fromkeys(names, 0.0)
    actions, curves = [], []
    while env.trainer.budget.total < budget:
        action = scheduler(observation, info)
        observation, _, terminated, truncated, info = env.step(action)
        actions.append(int(action))
        if env.trainer.budget.total >= next_evaluation:
            next_evaluation += every
            curves.append(_evaluate(env, best))
        if "nan_loss" in info:
            raise FloatingPointError(f"run stopped: non-finite loss in {info['nan_loss']}")
        if terminated or truncated:
            break
    dev, test = env.trainer.evaluate("dev"), env.trainer.evaluate("test")
    for name in names:
        best[name] = max(best[name], dev[name].accuracy)
    counts = Counter(actions)
    return RunResult(
        suite=suite.name,
        method=method,
        seed=seed,
        budget=env.trainer.budget.total,
        tasks={
            n: {"dev_acc": dev[n].accuracy, "test_acc": test[n].accuracy, "best_dev_acc": best[n]}
            for n in names
        },
        avg_test_acc=float(np.mean([test[n].accuracy for n in names])),
        avg_dev_acc=float(np.mean([dev[n].accuracy for n in names])),
        action_counts={n: counts.get(i, 0) for i, n in enumerate(names)},
        wall_s=time.perf_counter() - start,
        actions=actions,
        curves=curves,
        extra={k: v for rule in env.rules for k, v in rule.info().items()},
    )


def _evaluate(env: MTLSchedulingEnv, best: dict[str, float]) -> dict:
    dev = env.trainer.evaluate("dev")
    for name, metrics in dev.items():
        best[name] = max(best[name], metrics.accuracy)
    return {"budget": env.trainer.budget.total, "dev_acc": {n: m.accuracy for n, m in dev.items()}}
