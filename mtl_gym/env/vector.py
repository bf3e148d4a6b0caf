"""Vectorised envs for SB3. Subprocess workers each run torch on one thread, so that N workers on
an N-core machine do not each start N threads and fight over the cores."""

from __future__ import annotations

from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from .env import MTLSchedulingEnv


def make_vec_env(n_envs: int, subprocess: bool = True, seed: int = 0, **env_kwargs) -> VecEnv:
    """``n_envs`` copies of :class:`MTLSchedulingEnv` built from ``env_kwargs`` (a suite given by
    name is loaded in each worker), in subprocesses or in this process."""
    if subprocess:
        config = dict(env_kwargs.pop("config", None) or {})
        config.setdefault("torch_threads", 1)
        env_kwargs["config"] = config
    return sb3_make_vec_env(
        MTLSchedulingEnv,
        n_envs=n_envs,
        seed=seed,
        env_kwargs=env_kwargs,
        vec_env_cls=SubprocVecEnv if subprocess else DummyVecEnv,
    )
