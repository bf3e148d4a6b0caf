"""Lookahead: an expensive dynamic oracle that tries every task before committing to one."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.training import NonFiniteLossError

from .base import Scheduler, allowed_tasks


@dataclass(frozen=True)
class LookaheadHyperparameters:
    k: int = 20
    """Minibatches per commitment, and per trial of each task from the snapshot."""

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")


class Lookahead(Scheduler):
    """Every ``k`` minibatches: from a snapshot of the model, the optimizer, the minibatch samplers
    and the random state, train each allowed task alone for ``k`` steps, score the full dev split by
    the env's objective, restore the snapshot, then train the best task for the next ``k`` steps.

    The trials are not charged to the budget: this is an upper reference for what a dynamic schedule
    can win (``mtl-gym headroom``'s dynamic oracle), not a method to deploy. It costs about
    K x (k steps + one full dev pass) per ``k`` budget units. Tasks are compared by the objective's
    dev score (accuracy), ties broken by its dev loss. The loss alone misleads early in a run: next
    to a task of noisy labels, training on the noise pulls every prediction towards 1/C, which can
    lower the target's cross-entropy more than training the target itself while its accuracy is
    near chance (seen on the tests' target with a pure-noise auxiliary). Accuracy on a small dev
    split is noisy too, so on tiny models and budgets the greedy choice can be no better than
    uniform. And a greedy one-step lookahead is myopic (it cannot plan a task whose payoff comes later), so the headroom it finds
    is a lower bound on the dynamic headroom.
    """

    name = "lookahead"
    paper = "a greedy lookahead oracle (mtl-gym's dynamic headroom reference; no paper)"

    Hyperparameters = LookaheadHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.committed: int | None = None
        self.left = 0
        self.trials = 0

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        if self.left == 0 or not info["action_mask"][self.committed]:
            self.committed = self.best_task(allowed_tasks(info))
            self.left = self.k
        self.left -= 1
        return self.committed

    def best_task(self, allowed: np.ndarray) -> int:
        if len(allowed) == 1:
            return int(allowed[0])
        trainer = self.env.trainer
        saved = (trainer.snapshot(), copy.deepcopy(trainer.samplers), copy.deepcopy(trainer.budget))
        last_step, rng_state = trainer.last_step, torch.get_rng_state()
        outcomes = []
        for task in allowed:
            try:
                for _ in range(self.k):
                    trainer.step([int(task)])
                metrics = trainer.evaluate("dev")
                score = self.env.objective.score({n: m.accuracy for n, m in metrics.items()})
                loss = self.env.objective.loss({n: m.loss for n, m in metrics.items()})
                outcomes.append((float(score), -float(loss)))
            except NonFiniteLossError:  # a task that blows the model up is the worst choice, not an error
                outcomes.append((-np.inf, -np.inf))
            trainer.restore(saved[0])
            trainer.samplers, trainer.budget = copy.deepcopy(saved[1]), copy.deepcopy(saved[2])
            trainer.last_step = last_step
            torch.set_rng_state(rng_state)
            self.trials += 1
        # max keeps the first of equal outcomes: ties go to the lower task index.
        return int(allowed[max(range(len(allowed)), key=outcomes.__getitem__)])
