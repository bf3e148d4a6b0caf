"""Greedy: the task with the highest dev loss."""

from __future__ import annotations

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import EVAL_EVERY, DevMetrics, Scheduler, allowed_tasks


class Greedy(Scheduler):
    """The allowed task with the highest dev loss at the latest evaluation (ties: the lowest index).

    The QLS paper's Greedy baseline (§5.1, Table 2: "the task with the highest loss is selected").
    Dev losses are the whole dev split's, from ``env.trainer.evaluate`` every ``eval_every`` budget
    units (default 100, see ``EVAL_EVERY``), so one task runs for up to ``eval_every`` steps in a row;
    evaluating every step would cost a full dev pass per minibatch.
    """

    name = "greedy"
    paper = "the QLS paper's Greedy baseline (§5.1, Table 2)"

    def __init__(self, eval_every: int = EVAL_EVERY):
        self.dev = DevMetrics(eval_every)

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.dev.reset(env)

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        self.dev.refresh(info)
        allowed = allowed_tasks(info)
        return int(allowed[np.argmax(self.dev.loss[allowed])])
