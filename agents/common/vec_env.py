"""Vectorised copies of the scheduling env for SB3: in this process (``dummy``), in subprocesses
(``subprocess``) or in Ray actors, locally or on a cluster (``ray``). Subprocess workers run torch on
cores / workers threads (at least one), so that N workers do not each start one thread per core and
fight over them; Ray actors run one thread per CPU Ray reserves for them (one by default)."""

from __future__ import annotations

import dataclasses
import os

from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv

from mtl_gym.env import EnvConfig, MTLSchedulingEnv

BACKENDS = ("dummy", "subprocess", "ray")


def make_vec_env(
    n_envs: int,
    subprocess: bool = True,
    seed: int = 0,
    backend: str | None = None,
    ray_address: str | None = None,
    n_actors: int | None = None,
    **env_kwargs,
) -> VecEnv:
    """``n_envs`` copies of :class:`MTLSchedulingEnv` built from ``env_kwargs`` (``config`` an
    ``EnvConfig`` or its dict; a suite given by name is loaded in each worker).

    ``backend`` is ``dummy``, ``subprocess`` or ``ray`` (default: ``subprocess``, or ``dummy`` when
    ``subprocess=False``). ``ray`` spreads the envs over ``n_actors`` Ray actors (default one per env)
    of a local Ray (``ray_address=None``, started unless one is running) or of the cluster at
    ``ray_address`` (``"auto"``, ``"ray://host:10001"``); see :class:`RayVecEnv`.
    """
    backend = backend or ("subprocess" if subprocess else "dummy")
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    if backend != "ray" and (ray_address is not None or n_actors is not None):
        raise ValueError("ray_address and n_actors apply to backend='ray' only")
    config = EnvConfig.of(env_kwargs.pop("config", None))
    if backend == "subprocess" and config.torch_threads is None:
        config = dataclasses.replace(config, torch_threads=max(1, (os.cpu_count() or 1) // n_envs))
    vec_env_cls, vec_env_kwargs = {"dummy": DummyVecEnv, "subprocess": SubprocVecEnv}.get(backend), {}
    if backend == "ray":
        from .ray_vec_env import RayVecEnv

        vec_env_cls, vec_env_kwargs = RayVecEnv, {"address": ray_address, "n_actors": n_actors}
    return sb3_make_vec_env(
        MTLSchedulingEnv,
        n_envs=n_envs,
        seed=seed,
        env_kwargs={**env_kwargs, "config": config},
        vec_env_cls=vec_env_cls,
        vec_env_kwargs=vec_env_kwargs,
    )
