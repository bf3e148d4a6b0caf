"""Gymnasium ids. ``import mtl_gym`` registers them, so ``gymnasium.make`` finds them."""

from __future__ import annotations

import gymnasium as gym

ENV_IDS = {
    "mtl_gym/SyntheticText-v0": {"suite": "synthetic"},
    "mtl_gym/FSMTL-v0": {"suite": "fsmtl"},
    "mtl_gym/CoNLL2000-v0": {"suite": "conll2000"},
}


INSTANCE_SET_ID = "mtl_gym/SyntheticInstances-v0"
"""A new generated suite at every reset (``split="train"`` or ``"test"``; ``instances={...}`` for the
distributions): :class:`mtl_gym.env.instances.InstanceSetEnv`."""


def register_envs() -> None:
    for env_id, kwargs in ENV_IDS.items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point="mtl_gym.env.env:MTLSchedulingEnv", kwargs=kwargs)
    if INSTANCE_SET_ID not in gym.registry:
        gym.register(
            INSTANCE_SET_ID, entry_point="mtl_gym.env.instances:InstanceSetEnv", kwargs={"split": "train"}
        )
