"""Lookahead: an expensive dynamic oracle that tries every task before committing to one."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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
    and the random state, try each candidate plan for the next ``k`` steps (the allowed tasks in
    turn, as uniform does, and each allowed task alone), score the full dev split by the env's
    objective, restore the snapshot, then follow the best plan.

    The trials are not charged to the budget: this is an upper reference for what a dynamic schedule
    can win (``mtl-gym headroom``'s dynamic oracle), not a method to deploy. It costs about
    (K + 1) x (k steps + one full dev pass) per ``k`` budget units. Plans are compared by the
    objective's dev score (accuracy; chunk F1 for IOB tagging tasks), ties broken by its dev loss. The loss alone misleads early in a run: next
    to a task of noisy labels, training on the noise pulls every prediction towards 1/C, which can
    lower the target's cross-entropy more than training the target itself while its accuracy is
    near chance (seen on the tests' target with a pure-noise auxiliary). Accuracy on a small dev
    split is noisy too, so on tiny models and budgets the greedy choice can be no better than
    uniform. And a greedy one-step lookahead is myopic (it cannot plan a task whose payoff comes
    later), so the headroom it finds is a lower bound on the dynamic headroom. Uniform's turn is a
    candidate, and wins ties, so that the oracle departs from uniform only where the dev split says
    a single task does better over the next ``k`` steps.
    """

    name = "lookahead"
    paper = "a greedy lookahead oracle (mtl-gym's dynamic headroom reference; no paper)"

    Hyperparameters = LookaheadHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.plan: list[int] = []
        self.trials = 0
        self.turns = 0
        """Minibatches spent on uniform's turn so far, so that its plan goes on where it stopped."""

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        if not self.plan or not info["action_mask"][self.plan[0]]:
            candidates = self.plans(allowed_tasks(info))
            best = self.best_plan(candidates)
            self.plan, self.in_turn = list(candidates[best]), best == 0
        if self.in_turn:
            self.turns += 1
        return self.plan.pop(0)

    def plans(self, allowed: np.ndarray) -> list[list[int]]:
        """The candidates for the next ``k`` steps: the allowed tasks in turn (uniform's schedule,
        first, so that a tie keeps it), then each allowed task alone."""
        tasks = [int(t) for t in allowed]
        turn = [tasks[(self.turns + i) % len(tasks)] for i in range(self.k)]
        return [turn] + [[t] * self.k for t in tasks]

    def best_plan(self, candidates: list[list[int]]) -> int:
        """The index of the candidate of best dev objective, each tried from the same state."""
        if len(candidates) == 2:  # one allowed task: its plan and uniform's turn are the same
            return 0
        outcomes = []
        for plan in candidates:
            with self.env.trainer.rewound() as trainer:
                try:
                    for task in plan:
                        trainer.step([task])
                    metrics = trainer.evaluate("dev")
                    # IOB tagging tasks by chunk F1, as the bench's F1 table and headroom score them.
                    scores = {n: m.accuracy if m.chunk_f1 is None else m.chunk_f1 for n, m in metrics.items()}
                    score = self.env.objective.score(scores)
                    loss = self.env.objective.loss({n: m.loss for n, m in metrics.items()})
                    outcomes.append((float(score), -float(loss)))
                except NonFiniteLossError:  # a plan that blows the model up is the worst choice, not an error
                    outcomes.append((-np.inf, -np.inf))
            self.trials += 1
        # max keeps the first of equal outcomes: a tie goes to uniform's turn, then the lower task.
        return max(range(len(candidates)), key=outcomes.__getitem__)
