"""What the schedulers that deploy a trained agent share."""

from __future__ import annotations

from typing import Any


def check_fits(agent: Any, env: Any) -> None:
    """Fail, naming both shapes, when ``agent`` was trained for other observations or tasks than ``env``'s."""
    expected, got = agent.observation_space.shape, env.observation_space.shape
    if expected != got or agent.action_space.n != env.action_space.n:
        raise ValueError(
            f"the agent was trained for observations {expected} and {agent.action_space.n} tasks; "
            f"this env has {got} and {env.action_space.n}"
        )
