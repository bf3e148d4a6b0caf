"""The Exp3.S bandit teacher of Graves et al. 2017 (Automated Curriculum Learning)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv

from .base import Scheduler, exp_weights, probe_loss


@dataclass(frozen=True)
class Exp3SHyperparameters:
    eta: float = 1e-3
    """η, the step size of the weights."""
    epsilon: float = 0.05
    """ε, the share of uniform exploration."""
    beta: float = 0.0
    """β, the bias added to every rescaled reward."""
    alpha: float | None = None
    """α, the weight sharing; None: 1/T for a run of T budget units."""
    probe_size: int = 32
    """Dev examples per task whose loss change is the learning progress."""
    reservoir_size: int = 1000
    """Rewards kept (a reservoir sample) for the quantiles that rescale them."""
    quantiles: tuple[float, float] = (0.2, 0.8)
    """q_lo and q_hi of the reward rescaling."""

    def __post_init__(self) -> None:
        if not 0 <= self.epsilon <= 1 or self.eta <= 0 or self.probe_size < 1 or self.reservoir_size < 1:
            raise ValueError("need 0 <= epsilon <= 1, eta > 0, probe_size >= 1 and reservoir_size >= 1")
        if not 0 <= self.quantiles[0] < self.quantiles[1] <= 1:
            raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {self.quantiles}")


class Exp3S(Scheduler):
    """A non-stationary adversarial bandit over tasks, rewarded by learning progress.

    Policy π(i) = (1 - ε) softmax(w)_i + ε / N over the N allowed tasks. After training on task a
    the progress ν is the fall of a's mean loss on a fixed probe of ``probe_size`` of its dev examples
    (drawn at reset), from just before the step to just after: Graves et al.'s self prediction gain,
    measured on held-out examples. ν is rescaled into r ∈ [-1, 1] by the 20th and 80th percentiles
    q_lo, q_hi of the rewards so far (-1 below q_lo, 1 above q_hi, linear between), kept in a
    reservoir sample of ``reservoir_size``; then, with r̃_i = (r·[i = a] + β) / π(i),

        w_i ← log[(1 - α) exp(w_i + η r̃_i) + α / (N - 1) Σ_{j≠i} exp(w_j + η r̃_j)].

    Defaults from Graves et al. 2017 (§3-4): η = 1e-3, β = 0, ε = 0.05, quantiles 0.2 / 0.8. α, the
    weight sharing that lets the bandit track a moving best task, defaults to 1/T for a run of T
    budget units (Auer et al. 2002's choice for Exp3.S with a known horizon); the reservoir size,
    1000, and the probe size, 32 (the env's reward subset, ``EnvConfig.reward_samples``), are ours.
    The probe costs two inference passes over ``probe_size`` examples per step, not charged to the
    budget. The QLS paper (§4.1) cites this teacher as its learning-progress precursor; it is a
    learned, non-deep baseline.
    """

    name = "exp3s"
    paper = "Graves et al. 2017, Automated Curriculum Learning for Neural Networks, ICML"

    Hyperparameters = Exp3SHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.log_weights = np.zeros(self.num_tasks)
        self.sharing = 1.0 / self.horizon if self.alpha is None else self.alpha
        self.reservoir: list[float] = []
        self.seen = 0
        self.probes = [
            torch.from_numpy(np.sort(self.rng.choice(len(t.dev), min(self.probe_size, len(t.dev)), False)))
            for t in env.suite
        ]
        self.pending: tuple[int, float, np.ndarray] | None = None
        """The last choice: its task, its probe loss before the step, and the policy it was drawn from."""

    def probabilities(self, info: dict) -> np.ndarray:
        mask = info["action_mask"]
        softmax = exp_weights(self.log_weights, mask)
        return (1 - self.epsilon) * softmax / softmax.sum() + self.epsilon * mask / mask.sum()

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        if self.pending is not None:
            task, before, policy = self.pending
            self.learn(task, before - self._probe(task), policy)
        policy = self.probabilities(info)
        task = int(self.rng.choice(self.num_tasks, p=policy))
        self.pending = (task, self._probe(task), policy)
        return task

    def _probe(self, task: int) -> float:
        return probe_loss(self.env.trainer, task, self.probes[task])

    def learn(self, task: int, progress: float, policy: np.ndarray) -> None:
        """Update the weights after ``task``, drawn from ``policy``, made ``progress``."""
        reward = self.rescale(progress)
        drawn = policy > 0
        gain = np.zeros(self.num_tasks)
        gain[drawn] = self.beta / policy[drawn]
        gain[task] += reward / policy[task]
        raised = self.log_weights + self.eta * gain
        mass = np.exp(raised - raised.max())
        if self.num_tasks > 1:
            mass = (1 - self.sharing) * mass + self.sharing / (self.num_tasks - 1) * (mass.sum() - mass)
        # Only differences between weights matter; keeping the largest at 0 keeps exp() in range.
        self.log_weights = np.log(mass) - np.log(mass).max()

    def rescale(self, progress: float) -> float:
        """``progress`` into [-1, 1] by the quantiles of the rewards seen so far (this one included)."""
        self._remember(progress)
        low, high = np.quantile(self.reservoir, self.quantiles)
        if progress < low:
            return -1.0
        if progress > high:
            return 1.0
        return 0.0 if high == low else float(2 * (progress - low) / (high - low) - 1)

    def _remember(self, progress: float) -> None:
        # Reservoir sampling (Vitter's algorithm R): a uniform sample of every reward seen.
        self.seen += 1
        if len(self.reservoir) < self.reservoir_size:
            self.reservoir.append(progress)
        else:
            slot = int(self.rng.integers(self.seen))
            if slot < self.reservoir_size:
                self.reservoir[slot] = progress
