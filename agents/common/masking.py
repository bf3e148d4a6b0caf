"""Action masks, by the sb3-contrib convention: a bool array per env, True = allowed.

A masked action must never be played, so every choice (greedy, exploratory, warm-up random)
goes through these helpers.
"""

from __future__ import annotations

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

MASK_KEY = "action_mask"
"""The info key under which an env reports the mask of the state it just reached."""


def env_action_masks(env: VecEnv) -> np.ndarray:
    """``[n_envs, n_actions]`` masks of the envs' current states (via each env's ``action_masks()``)."""
    return np.stack([np.asarray(mask, dtype=bool) for mask in env.env_method("action_masks")])


def masked_argmax(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Row-wise argmax over the allowed entries only."""
    check_masks(masks)
    return np.where(masks, values, -np.inf).argmax(axis=-1)


def random_allowed(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One uniformly random allowed action per row."""
    check_masks(masks)
    return np.array([rng.choice(np.flatnonzero(row)) for row in masks])


def check_masks(masks: np.ndarray) -> None:
    if not masks.any(axis=-1).all():
        raise ValueError("an action mask allows no action at all; the episode should have ended")


def standardized_softmax(q_values: np.ndarray, masks: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax((Q - max Q) / (temperature * std Q)) over the allowed actions, max and std
    taken over the allowed actions of the row; 0 on masked actions. Dividing by the spread makes the
    policy independent of the scale and offset of Q (QLS's Q-values differ between actions by a
    tiny fraction of their size). A row whose allowed Q-values are all equal is uniform over them."""
    check_masks(masks)
    if temperature <= 0:
        raise ValueError(f"softmax temperature must be positive, got {temperature}")
    q_values = np.asarray(q_values, dtype=np.float64)
    allowed_q = np.where(masks, q_values, np.nan)
    spread = np.nanstd(allowed_q, axis=-1, keepdims=True)
    shifted = np.where(masks, q_values - np.nanmax(allowed_q, axis=-1, keepdims=True), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = np.where(spread > 0, shifted / (temperature * spread), 0.0)
    weights = np.where(masks, np.exp(logits), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


def sample_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row of ``probabilities`` (rows sum to 1); a zero-probability action is never drawn."""
    cumulative = np.cumsum(probabilities, axis=-1)
    draws = rng.random((len(probabilities), 1)) * cumulative[:, -1:]
    # The first index whose cumulative sum exceeds the draw: a 0 entry never adds, so never wins.
    return (cumulative > draws).argmax(axis=-1)
