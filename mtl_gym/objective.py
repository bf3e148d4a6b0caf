"""What a run is trying to achieve: which tasks' scores count, and how they combine.

An objective is written as text, the way ``EnvConfig.objective`` and ``--env objective=...`` take it:

- ``mean``: every task counts the same (the default, and everything before objectives existed);
- ``target:TASK``: auxiliary learning: only TASK counts, the other tasks are helpers that a
  schedule may use or starve;
- ``worst``: the lowest-scoring task;
- ``weighted:{"books": 2, "dvd": 1}``: a weighted mean, unnamed tasks weighing 0.

The same objective reduces per-task *scores* (accuracy or F1: higher is better; the bench's selection
and headline column, headroom) and per-task *losses* (the env's reward: lower is better). Losses
reduce to a weighted *sum* whose weights add up to K, so that ``mean`` gives exactly the paper's
reward, -(sum over tasks of dev loss), and the other objectives keep its scale. ``worst`` reduces
losses to K x the largest loss for the same reason.

It imports nothing from the rest of the package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

OBJECTIVE_KINDS = ("mean", "target", "worst", "weighted")


class ObjectiveError(ValueError):
    """An objective that does not parse, or does not fit the suite's tasks."""


@dataclass(frozen=True)
class Objective:
    """A parsed objective, not yet tied to a suite's task order (see :meth:`bind`)."""

    kind: str = "mean"
    weights: tuple[tuple[str, float], ...] = ()
    """(task, weight) pairs: the target with weight 1 for ``target``, the map for ``weighted``."""

    @classmethod
    def parse(cls, text: str | Objective | None) -> Objective:
        """``mean``, ``target:TASK``, ``worst`` or ``weighted:{JSON map}``; errors name the option."""
        if text is None:
            return cls()
        if isinstance(text, Objective):
            return text
        kind, _, argument = str(text).strip().partition(":")
        kind, argument = kind.strip(), argument.strip()
        if kind in ("mean", "worst"):
            if argument:
                raise ObjectiveError(f"objective {kind!r} takes no argument, got {text!r}")
            return cls(kind)
        if kind == "target":
            if not argument:
                raise ObjectiveError(f"objective 'target' needs a task: target:TASK, got {text!r}")
            return cls("target", ((argument, 1.0),))
        if kind == "weighted":
            return cls("weighted", _weight_map(argument, text))
        raise ObjectiveError(
            f"unknown objective {text!r}; expected mean, target:TASK, worst or weighted:{{TASK: WEIGHT, ...}}"
        )

    @property
    def text(self) -> str:
        """The objective as it is written (``parse(o.text) == o``)."""
        if self.kind == "target":
            return f"target:{self.weights[0][0]}"
        if self.kind == "weighted":
            return "weighted:" + json.dumps(dict(self.weights), separators=(",", ":"))
        return self.kind

    def __str__(self) -> str:
        return self.text

    def bind(self, names: Sequence[str]) -> BoundObjective:
        """The objective over tasks ``names`` (in suite order); an unknown task name fails here,
        before any training."""
        names = list(names)
        unknown = [task for task, _ in self.weights if task not in names]
        if unknown:
            raise ObjectiveError(
                f"objective {self.text!r} names unknown task(s) {unknown}; the suite has {names}"
            )
        if self.kind in ("mean", "worst"):
            return BoundObjective(self, names, np.full(len(names), 1.0 / len(names)))
        weights = np.zeros(len(names))
        for task, weight in self.weights:
            weights[names.index(task)] = weight
        return BoundObjective(self, names, weights / weights.sum())


def _weight_map(argument: str, text: str) -> tuple[tuple[str, float], ...]:
    try:
        values = json.loads(argument) if argument else None
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, Mapping) or not values:
        raise ObjectiveError(
            f'objective weighted needs a JSON map weighted:{{"TASK": WEIGHT, ...}}, got {text!r}'
        )
    weights = []
    for task, weight in values.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not np.isfinite(weight):
            raise ObjectiveError(f"objective {text!r}: task {task!r} has weight {weight!r}, not a number")
        if weight < 0:
            raise ObjectiveError(f"objective {text!r}: task {task!r} has negative weight {weight}")
        weights.append((str(task), float(weight)))
    if sum(w for _, w in weights) == 0:
        raise ObjectiveError(f"objective {text!r}: every weight is 0")
    return tuple(weights)


@dataclass(frozen=True)
class BoundObjective:
    """An objective over one suite's tasks, reducing arrays whose last axis is the tasks."""

    objective: Objective
    names: list[str]
    weights: np.ndarray
    """Non-negative task weights summing to 1 (uniform for ``worst``, which does not use them)."""

    @property
    def kind(self) -> str:
        return self.objective.kind

    def score(self, scores: np.ndarray | Sequence[float] | Mapping[str, float]) -> np.ndarray | float:
        """Higher-is-better per-task scores reduced to the objective's score (one per leading row)."""
        values = self._array(scores)
        if self.kind == "worst":
            return values.min(axis=-1)
        if self.kind == "mean":  # exactly the plain mean that every table reported before objectives
            return values.mean(axis=-1)
        return values @ self.weights

    def loss(self, losses: np.ndarray | Sequence[float] | Mapping[str, float]) -> np.ndarray | float:
        """Lower-is-better per-task losses reduced on the scale of their sum (see the module docstring)."""
        values = self._array(losses)
        k = len(self.names)
        if self.kind == "worst":
            return k * values.max(axis=-1)
        if self.kind == "mean":  # exactly the paper's sum
            return values.sum(axis=-1)
        return k * (values @ self.weights)

    def counts(self) -> list[str]:
        """The tasks whose scores enter the objective."""
        if self.kind in ("mean", "worst"):
            return list(self.names)
        return [n for n, w in zip(self.names, self.weights, strict=True) if w > 0]

    def _array(self, values) -> np.ndarray:
        if isinstance(values, Mapping):
            values = [values[name] for name in self.names]
        array = np.asarray(values, dtype=np.float64)
        if array.shape[-1] != len(self.names):
            raise ObjectiveError(
                f"expected {len(self.names)} per-task values ({self.names}), got shape {array.shape}"
            )
        return array


def bind_objective(text: str | Objective | None, names: Sequence[str]) -> BoundObjective:
    """``Objective.parse(text).bind(names)``."""
    return Objective.parse(text).bind(names)
