"""Greedy: the task with the highest dev loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import EVAL_EVERY, DevMetrics, Scheduler, allowed_tasks, check_eval_every


@dataclass(frozen=True)
class GreedyHyperparameters:
    eval_every: int = EVAL_EVERY
    """Budget units between the dev evaluations whose losses pick the task."""

    def __post_init__(self) -> None:
        check_eval_every(self.eval_every)


class Greedy(Scheduler):
    """The allowed task with the highest dev loss at the latest evaluation (ties: the lowest index).

    The QLS paper's Greedy baseline (§5.1, Table 2: "the task with the highest loss is selected").
    Dev losses are the whole dev split's, from ``env.trainer.evaluate`` every ``eval_every`` budget
    units (default 100, see ``EVAL_EVERY``), so one task runs for up to ``eval_every`` steps in a row;
    evaluating every step would cost a full dev pass per minibatch.
    """

    name = "greedy"
    paper = "the QLS paper's Greedy baseline (§5.1, Table 2)"

    Hyperparameters = GreedyHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.dev = DevMetrics(env, self.eval_every)

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        self.dev.refresh(info)
        allowed = allowed_tasks(info)
        return int(allowed[np.argmax(self.dev.loss[allowed])])
