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
