"""A trained QLS agent as a scheduler for the schedule runner: greedy over allowed tasks (QLS §4.4:
"during run-time, the scheduler greedily selects the action which yields the highest expected reward")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.spec import Configurable

from ..common.serialization import load_agent
from .qls import QLS


@dataclass(frozen=True)
class QLSSchedulerHyperparameters:
    agent: Any = None
    """The trained agent: a path to its ``agent.zip`` (``--agent``) or a :class:`QLS`."""


class QLSScheduler(Configurable):
    """Deploys a trained agent; it is loaded at the first reset, so a spec can be checked before the
    agent file exists (the bench trains it first)."""

    name = "qls"
    family = "agent"
    paper = "QLS: Q-learning scheduler for multi-task learning (mtl_gym.agents.QLS), with --agent"
    Hyperparameters = QLSSchedulerHyperparameters

    def __init__(self, agent: QLS | str | Path | None = None):
        super().__init__(agent=agent)
        self.agent = agent if isinstance(agent, QLS) else None

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        if self.agent is None:
            path = self.hyperparameters.agent
            if path is None:
                raise ValueError("method qls needs a trained agent (--agent DIR/agent.zip or qls:agent=PATH)")
            self.agent = load_agent(QLS, path)  # never unpickles: a legacy SB3 zip needs trust
        expected, got = self.agent.observation_space.shape, env.observation_space.shape
        if expected != got or self.agent.action_space.n != env.action_space.n:
            raise ValueError(
                f"the agent was trained for observations {expected} and {self.agent.action_space.n} tasks; "
                f"this env has {got} and {env.action_space.n}"
            )

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        action, _ = self.agent.predict(observation, deterministic=True, action_masks=info["action_mask"])
        return int(action)
