"""Gymnasium ids. ``import mtl_gym`` registers them, so ``gymnasium.make`` finds them."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "mtl_gym/SyntheticText-v0": {"suite": "synthetic"},
    "mtl_gym/FSMTL-v0": {"suite": "fsmtl"},
    "mtl_gym/CoNLL2000-v0": {"suite": "conll2000"},
}


def register_envs() -> None:
    for env_id, kwargs in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="mtl_gym.env.env:MTLSchedulingEnv", kwargs=kwargs)
