"""Replay buffers that keep, with each transition, the action mask of its next state.

The TD target's max over next-state Q-values must range over the actions allowed there. Under
VecEnv autoreset the env has already moved on to a new episode when the transition is stored, so
the mask is read from the step's info (the terminal state's mask), never from the env. The n-step
variant returns the mask of the state its n-step return bootstraps from.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

from .masking import MASK_KEY


class MaskableReplayBufferSamples(NamedTuple):
    observations: torch.Tensor
    actions: torch.Tensor
    next_observations: torch.Tensor
    dones: torch.Tensor
    rewards: torch.Tensor
    next_action_masks: torch.Tensor
    discounts: torch.Tensor | None = None


class _NextMasks:
    """``next_action_masks`` ``[buffer, n_envs, n_actions]`` beside a ReplayBuffer's arrays."""

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        *args,
        **kwargs,
    ):
        if not isinstance(action_space, spaces.Discrete):
            raise TypeError(f"action masks need a Discrete action space, got {action_space}")
        super().__init__(buffer_size, observation_space, action_space, *args, **kwargs)
        self.next_action_masks = np.ones((self.buffer_size, self.n_envs, int(action_space.n)), dtype=bool)

    def add(self, obs, next_obs, action, reward, done, infos: list[dict[str, Any]]) -> None:
        position = self.pos
        for env_index, info in enumerate(infos):
            if MASK_KEY not in info:
                raise KeyError(
                    f"transition info of env {env_index} lacks {MASK_KEY!r}: the agent must store the next "
                    "state's mask with every transition"
                )
            self.next_action_masks[position, env_index] = info[MASK_KEY]
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> MaskableReplayBufferSamples:
        # The parent picks each transition's env with np.random.randint; drawing the same numbers
        # from the same saved state tells which mask rows go with the transitions it returns.
        state = np.random.get_state()
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))
        np.random.set_state(state)
        last = self._bootstrap_indices(batch_inds, env_indices)
        samples = super()._get_samples(batch_inds, env)
        masks = torch.as_tensor(self.next_action_masks[last, env_indices], device=self.device)
        return MaskableReplayBufferSamples(*samples[:5], next_action_masks=masks, discounts=samples.discounts)

    def _bootstrap_indices(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> np.ndarray:
        """The transitions whose next state the sampled ones bootstrap from: themselves."""
        return batch_inds


class MaskableReplayBuffer(_NextMasks, ReplayBuffer):
    """SB3's ReplayBuffer plus ``next_action_masks`` ``[buffer, n_envs, n_actions]``."""


class MaskableNStepReplayBuffer(_NextMasks, NStepReplayBuffer):
    """SB3's NStepReplayBuffer (``n_steps``, ``gamma``) plus ``next_action_masks``: each sample's mask
    is that of the state its n-step return bootstraps from."""

    def _bootstrap_indices(self, batch_inds: np.ndarray, env_indices: np.ndarray) -> np.ndarray:
        # NStepReplayBuffer's rule: the window ends at its first done or timeout, and the newest
        # transition counts as a timeout unless done (the slot after it belongs to another time).
        indices = (batch_inds[:, None] + np.arange(self.n_steps)) % self.buffer_size
        dones = self.dones[indices, env_indices[:, None]].astype(bool)
        ends = dones | self.timeouts[indices, env_indices[:, None]].astype(bool)
        ends |= (indices == (self.pos - 1) % self.buffer_size) & ~dones
        steps = np.where(ends.any(axis=1), ends.argmax(axis=1), self.n_steps - 1)
        return (batch_inds + steps) % self.buffer_size
