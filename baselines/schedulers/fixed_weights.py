"""Hand-crafted fixed sampling weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.spec import SpecError, parse_arguments

from .base import SamplingScheduler, as_array


@dataclass(frozen=True)
class FixedWeightsHyperparameters:
    task_weights: Sequence[float] | Mapping[str, float]
    """One weight per task in suite order, or {task: weight} where unnamed tasks weigh 1."""


class FixedWeights(SamplingScheduler):
    """Task k with probability ∝ its given weight, renormalised over the allowed tasks.

    The QLS paper's "Hand Crafted" baseline (§5.1, Tables 2, 5, 6): a fixed importance per task for
    the whole run, found by grid search. ``weights`` is one weight per task in suite order, or
    ``{task name: weight}`` where unnamed tasks weigh 1 (so ``books=2`` means "books twice as often
    as any other"). Spec: ``fixed-weights:books=2,dvd=0.5`` or ``fixed-weights:2,1,1``.
    """

    name = "fixed-weights"
    paper = "the QLS paper's Hand Crafted baseline (§5.1, Tables 2, 5, 6)"

    Hyperparameters = FixedWeightsHyperparameters

    @classmethod
    def from_argument(cls, argument: str) -> FixedWeights:
        positional, keywords = parse_arguments(argument)
        if "task_weights" in keywords and len(keywords) == 1 and not positional:
            return cls(**keywords)
        if bool(positional) == bool(keywords):
            raise SpecError(
                "fixed-weights needs one weight per task (fixed-weights:2,1,1) "
                f"or task=weight pairs (fixed-weights:books=2,dvd=1), got {argument!r}"
            )
        return cls(task_weights=positional or keywords)

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        if isinstance(self.task_weights, Mapping):
            fixed = np.ones(env.num_tasks)
            for task, weight in self.task_weights.items():
                fixed[env.suite.index(task)] = weight
        else:
            fixed = as_array(self.task_weights, env.num_tasks, "fixed-weights")
        if np.any(fixed < 0) or not np.all(np.isfinite(fixed)) or fixed.sum() == 0:
            raise ValueError(f"fixed weights must be finite, non-negative and not all zero, got {fixed}")
        self.fixed = fixed

    def weights(self, info: dict) -> np.ndarray:
        return self.fixed
