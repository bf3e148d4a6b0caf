"""An SB3 ``VecEnv`` whose sub-envs live in Ray actors, for experience collection across processes
and machines (issue 12 item 3).

``RayVecEnv(env_fns, n_actors=2)`` spreads the env constructors over ``n_actors`` actors (one per
env by default); each actor builds its envs where it runs, so a suite given by name is loaded on
that worker. Stepping follows SB3's ``DummyVecEnv`` to the letter (autoreset, ``terminal_observation``
and ``TimeLimit.truncated`` in the infos, seeds and options used at the next reset only), so a run
seeded the same way collects the same transitions in-process and on Ray. The learner is unchanged:
``QLS("MlpPolicy", env=RayVecEnv(...))``.

Ray is optional (the ``dist`` extra) and imported only when a ``RayVecEnv`` is built. ``address``
None starts a local Ray (or reuses one already initialised); ``"auto"`` or ``"ray://host:10001"``
joins a cluster, whose workers need mtl-gym installed (or ``ray_init_kwargs={"runtime_env": ...}``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn
from stable_baselines3.common.vec_env.patch_gym import _patch_env
from stable_baselines3.common.vec_env.subproc_vec_env import _stack_obs


class EnvGroup:
    """The envs of one actor (a plain class; ``RayVecEnv`` wraps it with ``ray.remote``)."""

    def __init__(self, env_fns: Sequence[Callable[[], gym.Env]], torch_threads: int | None):
        if torch_threads:
            import torch

            torch.set_num_threads(torch_threads)
        self.envs = [_patch_env(fn()) for fn in env_fns]

    def spaces(self) -> tuple[gym.Space, gym.Space, dict]:
        env = self.envs[0]
        return env.observation_space, env.action_space, env.metadata

    def step(self, actions: Sequence[Any]) -> list[tuple]:
        """SB3's VecEnv step per env: on an episode's end keep its last observation and reset."""
        results = []
        for env, action in zip(self.envs, actions, strict=True):
            observation, reward, terminated, truncated, info = env.step(action)
            done = terminated or truncated
            info["TimeLimit.truncated"] = truncated and not terminated
            reset_info: dict = {}
            if done:
                info["terminal_observation"] = observation
                observation, reset_info = env.reset()
            results.append((observation, reward, done, info, reset_info))
        return results

    def reset(self, seeds: Sequence[int | None], options: Sequence[dict]) -> list[tuple]:
        results = []
        for env, seed, option in zip(self.envs, seeds, options, strict=True):
            maybe_options = {"options": option} if option else {}
            results.append(env.reset(seed=seed, **maybe_options))
        return results

    def get_attr(self, name: str, local: Sequence[int]) -> list[Any]:
        return [self.envs[i].get_wrapper_attr(name) for i in local]

    def set_attr(self, name: str, value: Any, local: Sequence[int]) -> None:
        for i in local:
            setattr(self.envs[i], name, value)

    def env_method(self, name: str, args: tuple, kwargs: dict, local: Sequence[int]) -> list[Any]:
        return [self.envs[i].get_wrapper_attr(name)(*args, **kwargs) for i in local]

    def is_wrapped(self, wrapper_class: type[gym.Wrapper], local: Sequence[int]) -> list[bool]:
        from stable_baselines3.common.env_util import is_wrapped

        return [is_wrapped(self.envs[i], wrapper_class) for i in local]

    def render(self, local: Sequence[int]) -> list[Any]:
        return [self.envs[i].render() for i in local]

    def close(self) -> None:
        for env in self.envs:
            env.close()


class RayVecEnv(VecEnv):
    """SB3 ``VecEnv`` over Ray actors, each holding a contiguous group of the sub-envs.

    :param env_fns: one constructor per sub-env, as for ``DummyVecEnv``; shipped to the actors
        (cloudpickled), so they should capture names and settings rather than built suites.
    :param n_actors: actors to spread the envs over (default: one per env).
    :param address: None for a local Ray (started with ``num_cpus`` = the actors' CPUs, or the one
        already initialised); ``"auto"`` or ``"ray://host:port"`` for a cluster.
    :param num_cpus_per_actor: CPUs Ray reserves per actor; the actor's torch threads follow it
        (at least 1) unless ``torch_threads`` says otherwise.
    :param ray_init_kwargs: passed on to ``ray.init`` when this env starts Ray (e.g. ``runtime_env``).
    If this env started Ray, ``close`` shuts it down; a Ray started by the caller is left running.
    """

    def __init__(
        self,
        env_fns: Sequence[Callable[[], gym.Env]],
        n_actors: int | None = None,
        address: str | None = None,
        num_cpus_per_actor: float = 1,
        torch_threads: int | None = None,
        ray_init_kwargs: dict | None = None,
    ):
        import ray  # optional: the dist extra

        self._ray = ray
        n_envs = len(env_fns)
        n_actors = n_envs if n_actors is None else n_actors
        if not 1 <= n_actors <= n_envs:
            raise ValueError(f"n_actors must be between 1 and the {n_envs} envs, got {n_actors}")
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            init = {"include_dashboard": False, "log_to_driver": False, **(ray_init_kwargs or {})}
            if address is None:
                init.setdefault("num_cpus", max(1, int(np.ceil(n_actors * num_cpus_per_actor))))
            ray.init(address=address, **init)
        self.groups = [list(map(int, g)) for g in np.array_split(np.arange(n_envs), n_actors)]
        self.slot = [(a, i) for a, group in enumerate(self.groups) for i in range(len(group))]
        threads = torch_threads if torch_threads is not None else max(1, int(num_cpus_per_actor))
        actor = ray.remote(EnvGroup).options(num_cpus=num_cpus_per_actor)
        self.actors = [actor.remote([env_fns[i] for i in group], threads) for group in self.groups]
        observation_space, action_space, self.metadata = ray.get(self.actors[0].spaces.remote())
        super().__init__(n_envs, observation_space, action_space)
        self.waiting: list = []
        self.closed = False

    # -- stepping -------------------------------------------------------------------------------

    def step_async(self, actions: np.ndarray) -> None:
        self.waiting = [
            actor.step.remote([actions[i] for i in group])
            for actor, group in zip(self.actors, self.groups, strict=True)
        ]

    def step_wait(self) -> VecEnvStepReturn:
        results = [r for group in self._ray.get(self.waiting) for r in group]
        self.waiting = []
        observations, rewards, dones, infos, self.reset_infos = map(list, zip(*results, strict=True))
        return (
            _stack_obs(observations, self.observation_space),
            np.array(rewards, dtype=np.float32),
            np.array(dones, dtype=bool),
            infos,
        )

    def reset(self) -> VecEnvObs:
        refs = [
            actor.reset.remote([self._seeds[i] for i in group], [self._options[i] for i in group])
            for actor, group in zip(self.actors, self.groups, strict=True)
        ]
        results = [r for group in self._ray.get(refs) for r in group]
        observations, self.reset_infos = map(list, zip(*results, strict=True))
        self._reset_seeds()
        self._reset_options()
        return _stack_obs(observations, self.observation_space)

    def close(self) -> None:
        if self.closed:
            return
        if self.waiting:
            self._ray.get(self.waiting)
        self._ray.get([actor.close.remote() for actor in self.actors])
        for actor in self.actors:
            self._ray.kill(actor)
        if self.owns_ray:
            self._ray.shutdown()
        self.closed = True

    # -- reaching into the envs -----------------------------------------------------------------

    def _call(self, method: str, indices: VecEnvIndices, *args: Any) -> list[Any]:
        """Call ``method(*args, local)`` once per actor holding one of ``indices``; results in the
        order of ``indices``."""
        wanted = list(self._get_indices(indices))
        by_actor: dict[int, list[int]] = {}
        for index in wanted:
            actor, local = self.slot[index]
            by_actor.setdefault(actor, []).append(local)
        refs = {a: getattr(self.actors[a], method).remote(*args, local) for a, local in by_actor.items()}
        answers = dict(zip(refs, self._ray.get(list(refs.values())), strict=True))
        position = {a: 0 for a in by_actor}
        results = []
        for index in wanted:
            actor = self.slot[index][0]
            results.append(None if answers[actor] is None else answers[actor][position[actor]])
            position[actor] += 1
        return results

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return self._call("get_attr", indices, attr_name)

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._call("set_attr", indices, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        return self._call("env_method", indices, method_name, method_args, method_kwargs)

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        return self._call("is_wrapped", indices, wrapper_class)

    def get_images(self) -> Sequence[np.ndarray | None]:
        return self._call("render", None)
