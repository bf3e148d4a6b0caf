"""Known-answer checks that every scheduler agent must pass before its results on real suites mean
anything: environments whose optimal policy is known, and how close an agent's greedy policy is.

:class:`MaskedContextualBandit` is the first: 4 one-hot states, 4 actions, action 0 masked in every
state, reward 1 for action ``(state + 1) mod 4`` and 0 otherwise, with the next state drawn at random.
Episodes continue (truncated every ``horizon`` steps, never terminated), so that at gamma 0.99 the
Q-values sit near ``r / (1 - gamma)`` and one decision's advantage is a small part of them, as in the
scheduling env. State 3's best action, 0, is masked: it has no right answer and is not scored, so
an agent is optimal in states 0-2.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium import spaces

BANDIT_MASK = np.array([False, True, True, True])
SCORED_STATES = (0, 1, 2)


class MaskedContextualBandit(gym.Env):
    def __init__(self, horizon: int = 100):
        self.observation_space = spaces.Box(0.0, 1.0, (4,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.horizon = horizon

    def _observation(self) -> np.ndarray:
        observation = np.zeros(4, dtype=np.float32)
        observation[self.state] = 1.0
        return observation

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state, self.steps = int(self.np_random.integers(4)), 0
        return self._observation(), {"action_mask": BANDIT_MASK.copy()}

    def step(self, action):
        if not BANDIT_MASK[action]:
            raise ValueError(f"action {action} is masked")
        reward = float(action == (self.state + 1) % 4)
        self.state, self.steps = int(self.np_random.integers(4)), self.steps + 1
        return (
            self._observation(),
            reward,
            False,
            self.steps >= self.horizon,
            {"action_mask": BANDIT_MASK.copy()},
        )

    def action_masks(self) -> np.ndarray:
        return BANDIT_MASK.copy()


def optimal_states(agent) -> int:
    """In how many of the scored states the agent's greedy, masked action is the rewarded one."""
    states = np.eye(4, dtype=np.float32)[list(SCORED_STATES)]
    actions, _ = agent.predict(
        states, deterministic=True, action_masks=np.tile(BANDIT_MASK, (len(SCORED_STATES), 1))
    )
    return int(sum(int(a) == (s + 1) % 4 for s, a in zip(SCORED_STATES, actions, strict=True)))
