"""A trained QLS agent as a scheduler for the schedule runner: greedy over allowed tasks (QLS §4.4:
"during run-time, the scheduler greedily selects the action which yields the highest expected reward")."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .qls import QLS


class QLSScheduler:
    name = "qls"

    def __init__(self, agent: QLS | str | Path):
        self.agent = agent if isinstance(agent, QLS) else QLS.load(str(agent), device="cpu")

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        expected, got = self.agent.observation_space.shape, env.observation_space.shape
        if expected != got or self.agent.action_space.n != env.action_space.n:
            raise ValueError(
                f"the agent was trained for observations {expected} and {self.agent.action_space.n} tasks; "
                f"this env has {got} and {env.action_space.n}"
            )

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        action, _ = self.agent.predict(observation, deterministic=True, action_masks=info["action_mask"])
        return int(action)
