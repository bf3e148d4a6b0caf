"""Task orders of the sequential KD setting (Async-KD paper §3, Appendix B) and the rules the CLI
builds for ``--kd joint|sequential [--kd-order small|large|easy|a,b,c]``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mtl_gym.data import TaskSuite
from mtl_gym.env import Rule, run_schedule

from .rule import KD_SETTINGS, AsyncKDRule, KDConfig

KD_ORDERS = ("small", "large", "easy")
"""Sequential (Small): smallest training split first; (Large): largest first; (Easy): in the order
the tasks converge in a joint run, the paper's proxy for task difficulty."""


class FirstAllowed:
    """Picks the first allowed task. In the joint setting every unconverged task trains each step,
    so the pick only orders the minibatches and any scheduler gives the same run."""

    uses_observation = False

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        return int(np.flatnonzero(info["action_mask"])[0])


def size_order(suite: TaskSuite, largest_first: bool = False) -> list[str]:
    """Task names by training-split size (suite order on ties)."""
    return [
        task.name for task in sorted(suite, key=lambda t: -len(t.train) if largest_first else len(t.train))
    ]


def convergence_order(converged: Mapping[str, int | None]) -> list[str]:
    """Task names in the order they converged (``RunResult.extra["converged"]`` of a KD run); ties
    keep the suite order and tasks that never converged come last, as the hardest."""
    names = list(converged)
    return sorted(names, key=lambda n: (converged[n] is None, converged[n] or 0, names.index(n)))


def make_kd_rules(
    setting: str,
    order: str | Sequence[str] | None,
    suite: TaskSuite,
    *,
    seed: int = 0,
    budget: int = 10_000,
    config: KDConfig | None = None,
    **run_options: Any,
) -> list[Rule]:
    """The rules of one Async-KD run (§3) for ``run_schedule(..., rules=...)``.

    ``setting`` is ``joint``, ``sequential`` or ``scheduled`` (see :class:`AsyncKDRule`). ``order``
    is for ``sequential`` only: ``small``, ``large``, ``easy``, a comma-separated list of task
    names or a sequence of them. ``easy`` first runs a joint KD run with the same ``seed``,
    ``budget`` and ``run_options`` (``model``, ``trainer``, ``env_config``, ``optimizer``,
    ``backward`` of :func:`run_schedule`) and takes its order of convergence. ``config`` defaults
    to :class:`KDConfig`'s (Appendix A).
    """
    if setting not in KD_SETTINGS:
        raise ValueError(f"KD setting must be one of {KD_SETTINGS}, got {setting!r}")
    config = config or KDConfig()
    if setting != "sequential":
        if order is not None:
            raise ValueError(f"a task order is for the sequential setting only, not {setting!r}")
        return [AsyncKDRule(setting, config=config)]
    if order is None:
        raise ValueError(f"the sequential setting needs an order: one of {KD_ORDERS} or a list of tasks")
    if order in ("small", "large"):
        names = size_order(suite, largest_first=order == "large")
    elif order == "easy":
        joint = make_kd_rules("joint", None, suite, config=config)
        result = run_schedule(FirstAllowed(), suite, budget, seed, rules=joint, evaluations=1, **run_options)
        names = convergence_order(result.extra["converged"])
    else:
        names = order.split(",") if isinstance(order, str) else list(order)
    return [AsyncKDRule("sequential", names, config)]
