"""Evaluation during training: deploy the live agent as it will be deployed, keep the best.

Every ``every`` decisions (env steps over all envs of a vector env),
:class:`DeployedEvalCallback` trains fresh MTL models for ``budget`` task-minibatches under
:class:`QLSScheduler` (the deployed policy, softmax by default) on fixed seeds, and saves the agent
as ``best_agent.zip`` when its mean dev score (under the env's objective) is the best so far;
``train_agent`` then deploys that one as ``agent.zip``. Training reward alone does
not say which agent schedules best: it is earned under exploration, and the deployed policy is not
the one that earned it. Results go to SB3's logger (``eval/``) and to
``evaluations.csv``. The global random states are restored after each evaluation, so training
proceeds as it would without it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from mtl_gym.env import run_schedule
from mtl_gym.io import atomic_path
from mtl_gym.training import RunResult
from mtl_gym.training.runs import RunRecorder

from ..common.callbacks import interval_reached, preserved_global_rng
from ..common.serialization import save_agent
from .scheduler import QLSScheduler

BEST_AGENT = "best_agent.zip"
"""Where the agent of the best evaluation so far is saved."""


class DeployedEvalCallback(BaseCallback):
    """``run(scheduler, seed)`` trains one model under ``scheduler`` and returns its result."""

    def __init__(
        self,
        run: Callable[[QLSScheduler, int], RunResult],
        out: Path,
        every: int,
        seeds: Sequence[int],
        deploy: dict | None = None,
        objective: str = "mean",
    ):
        super().__init__()
        if every < 1:
            raise ValueError(f"eval_every must be at least 1, got {every}")
        if not seeds:
            raise ValueError("evaluation needs at least one seed")
        self.run, self.out, self.every, self.seeds = run, Path(out), every, list(seeds)
        self.deploy = dict(deploy or {})
        self.objective = objective
        """What ``mean_dev_acc`` scores: the env's objective (``mtl_gym.objective``) of dev accuracy."""
        QLSScheduler(**self.deploy)  # bad deployment settings fail now, not at the first evaluation
        self.best = -np.inf
        self.rows: list[dict] = []

    def _on_step(self) -> bool:
        if interval_reached(self, self.every):
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if not self.rows or self.rows[-1]["timestep"] != self.num_timesteps:
            self.evaluate()

    def evaluate(self) -> None:
        with preserved_global_rng():
            scheduler = QLSScheduler(self.model, **self.deploy)
            results = [self.run(scheduler, seed) for seed in self.seeds]
        dev = float(np.mean([r.objective_score(self.objective, "dev") for r in results]))
        improved = dev > self.best
        if improved:
            self.best = dev
            save_agent(self.model, self.out / BEST_AGENT)
        self.rows.append(
            {
                "timestep": self.num_timesteps,
                "mean_dev_acc": dev,
                "best_dev_acc": self.best,
                "saved": int(improved),
            }
        )
        self.write_csv()
        for key in ("mean_dev_acc", "best_dev_acc"):
            self.logger.record(f"eval/{key}", self.rows[-1][key])
        self.logger.dump(self.num_timesteps)

    def write_csv(self) -> None:
        with (
            atomic_path(self.out / "evaluations.csv") as temporary,
            temporary.open("w", newline="") as handle,
        ):
            writer = csv.DictWriter(handle, fieldnames=list(self.rows[0]))
            writer.writeheader()
            writer.writerows(self.rows)


def schedule_runner(suite, budget: int, **options) -> Callable[[QLSScheduler, int], RunResult]:
    """``run`` for :class:`DeployedEvalCallback`: one run of :func:`run_schedule` (``options``: model,
    env_config, trainer), evaluated once, at the end."""

    def run(scheduler: QLSScheduler, seed: int) -> RunResult:
        recorder = RunRecorder(suite, budget, every_steps=budget + 1)  # no evaluations along the way
        return run_schedule(scheduler, suite, budget, seed, method="qls-eval", recorder=recorder, **options)

    return run
