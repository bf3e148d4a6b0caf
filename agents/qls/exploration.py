"""Exploration over allowed actions: Boltzmann-Gumbel (the paper's), annealed Boltzmann, epsilon-greedy.

Each strategy sees Q-values ``[n_envs, n_actions]`` and masks, and never picks a masked action.
``record`` is called with the actions actually played, which is what Boltzmann-Gumbel counts.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from ..common.masking import check_masks, masked_argmax, random_allowed


class Exploration(ABC):
    def __init__(self, n_actions: int, rng: np.random.Generator):
        self.n_actions = n_actions
        self.rng = rng

    @abstractmethod
    def choose(self, q_values: np.ndarray, masks: np.ndarray, progress_remaining: float) -> np.ndarray: ...

    def record(self, actions: np.ndarray) -> None:
        """Called with the actions actually played."""

    def stats(self) -> dict[str, float]:
        """Figures for SB3's logger, under ``exploration/``."""
        return {}


class BoltzmannGumbel(Exploration):
    """Boltzmann-Gumbel exploration (Cesa-Bianchi et al. 2017, "Boltzmann Exploration Done Right"),
    as QLS §4.3 uses it: a = argmax_a Q(s, a) + beta_a Z_a with Z_a ~ Gumbel(0, 1) drawn
    independently and beta_a = C / sqrt(N_a), N_a the times a was played. An allowed action not yet
    played is played first, since its beta is unbounded."""

    def __init__(self, n_actions: int, rng: np.random.Generator, c: float = 1.0):
        super().__init__(n_actions, rng)
        if c <= 0:
            raise ValueError(f"Boltzmann-Gumbel C must be positive, got {c}")
        self.c = c
        self.counts = np.zeros(n_actions, dtype=np.int64)

    def betas(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.c / np.sqrt(self.counts)

    def choose(self, q_values: np.ndarray, masks: np.ndarray, progress_remaining: float) -> np.ndarray:
        check_masks(masks)
        unplayed = masks & (self.counts == 0)
        noise = self.rng.gumbel(size=q_values.shape)
        scores = q_values + np.where(unplayed, 0.0, self.betas() * noise)
        scores = np.where(unplayed, np.inf, scores)
        return masked_argmax(scores, masks)

    def record(self, actions: np.ndarray) -> None:
        np.add.at(self.counts, np.asarray(actions).reshape(-1), 1)

    def stats(self) -> dict[str, float]:
        played = self.counts > 0
        return {
            "beta_mean": float(self.betas()[played].mean()) if played.any() else float("inf"),
            "min_action_count": float(self.counts.min()),
            "max_action_count": float(self.counts.max()),
        }


def linear(start: float, end: float, fraction: float, progress_remaining: float) -> float:
    """``start`` → ``end`` over the first ``fraction`` of training, then ``end``."""
    elapsed = 1.0 - progress_remaining
    if fraction <= 0 or elapsed >= fraction:
        return end
    return start + (end - start) * elapsed / fraction


class AnnealedBoltzmann(Exploration):
    """Softmax over allowed Q-values with a temperature annealed over training, as the QLS text
    describes it: near-uniform at the start, nearly greedy at the end."""

    def __init__(self, n_actions, rng, initial: float = 10.0, final: float = 0.1, fraction: float = 0.5):
        super().__init__(n_actions, rng)
        self.initial, self.final, self.fraction = initial, final, fraction
        self.temperature = initial

    def choose(self, q_values: np.ndarray, masks: np.ndarray, progress_remaining: float) -> np.ndarray:
        check_masks(masks)
        self.temperature = linear(self.initial, self.final, self.fraction, progress_remaining)
        logits = np.where(masks, q_values / self.temperature, -np.inf)
        logits -= logits.max(axis=-1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=-1, keepdims=True)
        return np.array([self.rng.choice(self.n_actions, p=row) for row in probabilities])

    def stats(self) -> dict[str, float]:
        return {"temperature": self.temperature}


class EpsilonGreedy(Exploration):
    """A random allowed action with probability epsilon (annealed linearly), else the greedy one."""

    def __init__(self, n_actions, rng, initial: float = 1.0, final: float = 0.05, fraction: float = 0.1):
        super().__init__(n_actions, rng)
        self.initial, self.final, self.fraction = initial, final, fraction
        self.epsilon = initial

    def choose(self, q_values: np.ndarray, masks: np.ndarray, progress_remaining: float) -> np.ndarray:
        self.epsilon = linear(self.initial, self.final, self.fraction, progress_remaining)
        greedy = masked_argmax(q_values, masks)
        explore = self.rng.random(len(greedy)) < self.epsilon
        return np.where(explore, random_allowed(masks, self.rng), greedy)

    def stats(self) -> dict[str, float]:
        return {"epsilon": self.epsilon}


EXPLORATIONS = {
    "boltzmann-gumbel": BoltzmannGumbel,
    "boltzmann": AnnealedBoltzmann,
    "epsilon-greedy": EpsilonGreedy,
}
