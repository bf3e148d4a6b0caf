"""Dynamic Task Prioritization (Guo et al. 2018) as a sampling schedule."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import EVAL_EVERY, DevMetrics, SamplingScheduler, check_eval_every


@dataclass(frozen=True)
class DTPHyperparameters:
    gamma: float = 2.0
    """γ, the focusing exponent of the priority FL(κ̄; γ)."""
    smoothing: float = 0.9
    """α of the KPI's moving average κ̄ ← α κ + (1 - α) κ̄."""
    eval_every: int = EVAL_EVERY
    """Budget units between the dev evaluations that measure the KPIs."""

    def __post_init__(self) -> None:
        if self.gamma < 0 or not 0 < self.smoothing <= 1:
            raise ValueError(
                f"need gamma >= 0 and smoothing in (0, 1], got {self.gamma} and {self.smoothing}"
            )
        check_eval_every(self.eval_every)


class DTP(SamplingScheduler):
    """Task t with probability ∝ its priority FL(κ̄_t; γ) = -(1 - κ̄_t)^γ log κ̄_t, where the KPI κ_t is
    the task's dev accuracy and κ̄_t its moving average κ̄_t ← α κ_t + (1 - α) κ̄_t (started at the
    first KPI; α is ``smoothing``).

    Guo et al. 2018's task-level prioritization: the focal-loss form makes tasks with a low KPI (hard
    ones) weigh more, and γ sharpens that. They use the priorities as loss weights; a scheduler trains
    one task per step, so here they are sampling weights, as in the QLS paper's DTP baseline (§5.1,
    Tables 2, 5, 6). Their example-level focal loss is left out: it changes the loss, not the
    schedule (the joint ``focal`` method has it). Defaults: γ = 2, the focal loss's recommended
    focusing value (Lin et al. 2017) whose form DTP borrows (Guo et al. set γ per task); α = 0.9
    (chosen here: the KPI is measured every ``eval_every`` budget units, far more rarely than every
    iteration, so the average should follow the latest measurement closely). KPIs come from
    ``env.trainer.evaluate``; a KPI of 1 gives priority 0, and when every allowed task is there they
    are sampled uniformly.
    """

    name = "dtp"
    paper = "Guo et al. 2018, Dynamic Task Prioritization for Multitask Learning, ECCV"

    Hyperparameters = DTPHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.dev = DevMetrics(env, self.eval_every)
        self.kpi: np.ndarray | None = None

    def priorities(self, kpi: np.ndarray) -> np.ndarray:
        """FL(κ; γ) of every task's KPI κ in [0, 1]."""
        kpi = np.clip(kpi, 1e-6, 1.0)  # log 0: a task with nothing right gets a large but finite priority
        return -((1.0 - kpi) ** self.gamma) * np.log(kpi)

    def weights(self, info: dict) -> np.ndarray:
        if self.dev.refresh(info):
            latest = self.dev.accuracy
            self.kpi = (
                latest if self.kpi is None else self.smoothing * latest + (1 - self.smoothing) * self.kpi
            )
        return self.priorities(self.kpi)
