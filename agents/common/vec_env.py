"""Vectorised copies of the scheduling env for SB3. Subprocess workers run torch on cores / workers
threads (at least one), so that N workers do not each start one thread per core and fight over them."""

from __future__ import annotations

import dataclasses
import os

from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from mtl_gym.env import EnvConfig, MTLSchedulingEnv


def make_vec_env(n_envs: int, subprocess: bool = True, seed: int = 0, **env_kwargs) -> VecEnv:
    """``n_envs`` copies of :class:`MTLSchedulingEnv` built from ``env_kwargs`` (``config`` an
    ``EnvConfig`` or its dict; a suite given by name is loaded in each worker), in subprocesses or
    in this process."""
    config = EnvConfig.of(env_kwargs.pop("config", None))
    if subprocess and config.torch_threads is None:
        config = dataclasses.replace(config, torch_threads=max(1, (os.cpu_count() or 1) // n_envs))
    return sb3_make_vec_env(
        MTLSchedulingEnv,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={**env_kwargs, "config": config},
        vec_env_cls=SubprocVecEnv if subprocess else DummyVecEnv,
    )
