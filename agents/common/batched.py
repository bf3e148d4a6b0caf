"""The batched training env as an SB3 ``VecEnv``, so that QLS (or PPO) trains on it unchanged.

SB3 resets an ended env inside the step that ended it and hands over its last observation as
``info["terminal_observation"]``; the batched env does that in its ``SAME_STEP`` autoreset mode,
and this adapter only rewords the result: one info dict per run, worded as the single env words
it (the ended runs' infos are those of their final state, mask included, as DummyVecEnv's are),
``TimeLimit.truncated`` for truncated episodes, and the reset infos in ``reset_infos``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from mtl_gym.data import TaskSuite
from mtl_gym.env.batched import BatchedMTLEnv


class BatchedVecEnv(VecEnv):
    """SB3 view of a :class:`BatchedMTLEnv` (built here in ``SAME_STEP`` autoreset mode from the
    same arguments, or given). ``env_method("action_masks")`` gives one mask per run, which is
    how QLS and sb3-contrib's MaskablePPO read masks."""

    def __init__(self, env: BatchedMTLEnv | None = None, num_envs: int = 16, **env_kwargs: Any):
        if env is None:
            env = BatchedMTLEnv(num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **env_kwargs)
        elif env.autoreset_mode is not AutoresetMode.SAME_STEP:
            raise ValueError("BatchedVecEnv needs a BatchedMTLEnv in SAME_STEP autoreset mode")
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._actions: np.ndarray | None = None

    @property
    def suite(self) -> TaskSuite:
        return self.env.suite

    def reset(self) -> VecEnvObs:
        seeds = None if all(seed is None for seed in self._seeds) else self._seeds
        observations, _ = self.env.reset(seed=seeds)
        self.reset_infos = self.env.infos().rows()
        self._reset_seeds()
        self._reset_options()
        return observations

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        result = self.env.advance(self._actions)
        infos = result.infos.rows()
        if result.ended.any():
            final = result.final_infos.rows()
            for i in np.flatnonzero(result.ended):
                self.reset_infos[i] = infos[i]
                infos[i] = final[i]
                infos[i]["terminal_observation"] = result.final_observations[i]
                infos[i]["TimeLimit.truncated"] = bool(result.truncated[i] and not result.terminated[i])
        return result.observations, result.rewards.astype(np.float32), result.ended.copy(), infos

    def close(self) -> None:
        self.env.close()

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The batched env's attribute, once per run asked for (the runs share one object)."""
        value = getattr(self.env, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        """``action_masks`` per run; any other method of the batched env is called once and its
        result given to every run asked for."""
        rows = self._indices(indices)
        if method_name == "action_masks":
            masks = self.env.action_masks()
            return [masks[i] for i in rows]
        value = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [value for _ in rows]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
