"""A reward relative to uniform's: the fast env's reward minus the mean reward that round-robin
scheduling gets at the same decision of an episode.

Issue 21's diagnosis: at gamma 0.99 the Q-values of the loss reward sit near r / (1 - gamma) and
follow the loss's fall over the episode, so one decision's advantage is a tiny part of what the
network must fit. Subtracting a function of the decision index alone leaves every advantage
Q(s, a) - Q(s, b) as it was (both actions are taken at the same index), so the optimal policy does
not change; what changes is that Q no longer has to carry the episode's loss curve.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

from mtl_gym.env.batched import BatchedMTLEnv

UNIFORM_RUNS = 16
"""Round-robin runs whose mean reward at each decision is the baseline."""
UNIFORM_SEED = 1 << 20
"""Seed of the first of them: away from the agent's episodes and its evaluation runs."""


def uniform_reward_curve(decisions: int, runs: int = UNIFORM_RUNS, **env_kwargs: Any) -> np.ndarray:
    """The mean reward of ``runs`` round-robin runs at each of an episode's ``decisions``, on a
    :class:`BatchedMTLEnv` built from ``env_kwargs`` (run i starts at task i mod K)."""
    env = BatchedMTLEnv(runs, autoreset_mode=AutoresetMode.SAME_STEP, **env_kwargs)
    env.reset(seed=[UNIFORM_SEED + i for i in range(runs)])
    curve = np.empty(decisions)
    for decision in range(decisions):
        _, rewards, *_ = env.step((np.arange(runs) + decision) % env.num_tasks)
        curve[decision] = float(np.mean(rewards))
    env.close()
    return curve


class RelativeReward(VecEnvWrapper):
    """Each run's reward minus ``curve[d]``, d the run's decisions since its episode began (the
    curve's last value past its end)."""

    def __init__(self, venv: VecEnv, curve: np.ndarray):
        super().__init__(venv)
        self.curve = np.asarray(curve, dtype=np.float32)
        self.decisions = np.zeros(venv.num_envs, dtype=np.int64)

    def reset(self):
        self.decisions[:] = 0
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        observations, rewards, dones, infos = self.venv.step_wait()
        rewards = rewards - self.curve[np.minimum(self.decisions, len(self.curve) - 1)]
        self.decisions += 1
        self.decisions[dones] = 0
        return observations, rewards, dones, infos
