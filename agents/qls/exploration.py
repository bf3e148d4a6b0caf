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
    played is played first, since its beta is unbounded.

    ``scale="q-spread"`` (the default) reads C in units of the running spread of Q across actions:
    an exponential moving average (weight ``1 - spread_decay`` on the newest) of the per-state std
    of Q over the allowed actions. ``scale="absolute"`` reads C in units of Q, as the paper does;
    then the same C is near-greedy or near-random depending on the reward's scale (the paper's
    reward puts Q in the hundreds, loss-decrease near zero)."""

    SCALES = ("q-spread", "absolute")

    def __init__(
        self,
        n_actions: int,
        rng: np.random.Generator,
        c: float = 1.0,
        scale: str = "q-spread",
        spread_decay: float = 0.99,
    ):
        super().__init__(n_actions, rng)
        if c <= 0:
            raise ValueError(f"Boltzmann-Gumbel C must be positive, got {c}")
        if scale not in self.SCALES:
            raise ValueError(f"Boltzmann-Gumbel scale must be one of {self.SCALES}, got {scale!r}")
        if not 0 <= spread_decay < 1:
            raise ValueError(f"Boltzmann-Gumbel spread_decay must be in [0, 1), got {spread_decay}")
        self.c = c
        self.scale = scale
        self.spread_decay = spread_decay
        self.spread = 0.0
        """Running spread of Q across allowed actions (0 until a state with two allowed actions)."""
        self.counts = np.zeros(n_actions, dtype=np.int64)

    def unit(self) -> float:
        """What C multiplies: 1 (absolute), else the running Q spread (1 while it is still 0)."""
        return self.spread if self.scale == "q-spread" and self.spread > 0 else 1.0

    def betas(self) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.c * self.unit() / np.sqrt(self.counts)

    def observe_spread(self, q_values: np.ndarray, masks: np.ndarray) -> None:
        rows = masks.sum(axis=-1) >= 2
        if not rows.any():
            return
        spread = float(np.nanstd(np.where(masks[rows], q_values[rows], np.nan), axis=-1).mean())
        decay = self.spread_decay if self.spread > 0 else 0.0
        self.spread = decay * self.spread + (1 - decay) * spread

    def choose(self, q_values: np.ndarray, masks: np.ndarray, progress_remaining: float) -> np.ndarray:
        check_masks(masks)
        self.observe_spread(q_values, masks)
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
            "q_spread": self.spread,
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
