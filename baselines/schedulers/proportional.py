"""Sampling in proportion to dataset size, with a temperature."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import SamplingScheduler, exp_weights


@dataclass(frozen=True)
class ProportionalHyperparameters:
    temperature: float = 1.0
    """T of p_k ∝ n_k^(1/T): 1 is plain proportional sampling, larger values tend to uniform."""

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")


class Proportional(SamplingScheduler):
    """Task k with probability p_k ∝ n_k^(1/T), n_k its training examples.

    T = 1 (the default) is plain proportional sampling, the common multi-task convention that Jean
    et al. 2019 start from and the MTO reality-check paper uses as scalarization (§4.1: task i's share
    of each batch is w_i); T → ∞ tends to uniform. Temperatures above 1 are the usual way to keep small
    tasks from being starved (e.g. T = 5 in Arivazhagan et al. 2019, massively multilingual NMT); the
    async-convergence KD paper's "dataset sizes with manual adjustments for the smaller tasks" (App. A)
    is the same idea by hand.
    """

    name = "proportional"
    paper = (
        "Jean et al. 2019, Adaptive Scheduling for Multi-Task Learning (proportional sampling), arXiv:1909.06434; "
        "with temperature=T > 1 it is the temperature sampling of Arivazhagan et al. 2019 (multilingual NMT)"
    )

    Hyperparameters = ProportionalHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.log_weights = np.log([len(task.train) for task in env.suite]) / self.temperature

    def weights(self, info: dict) -> np.ndarray:
        return exp_weights(self.log_weights, info["action_mask"])
