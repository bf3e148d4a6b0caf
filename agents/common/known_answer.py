"""Known-answer checks that every scheduler agent must pass before its results on real suites mean
anything: environments whose optimal policy is known, and how close an agent's greedy policy is.

:class:`MaskedContextualBandit` is the first: 4 one-hot states, 4 actions, action 0 masked in every
state, reward 1 for action ``(state + 1) mod 4`` and 0 otherwise, with the next state drawn at random.
Episodes continue (truncated every ``horizon`` steps, never terminated), so that at gamma 0.99 the
Q-values sit near ``r / (1 - gamma)`` and one decision's advantage is a small part of them, as in the
scheduling env. State 3's best action, 0, is masked: it has no right answer and is not scored, so
an agent is optimal in states 0-2.

The second is a scheduling env with a known optimal policy: :data:`NOISY_SUITE` under a target
objective, where the deployed agent should give the pure-noise task none of the budget
(:func:`noise_share`).

The third is an imbalanced suite whose best static mixture is known from ``headroom``:
:data:`IMBALANCED_SUITE`, where the deployed agent's task shares should lie nearer that mixture than
uniform's do (:func:`imbalanced_shares`, :func:`share_distance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import run_schedule

from ..qls.scheduler import QLSScheduler
from ..qls.train import TrainAgentConfig
from .contract import agent_env_config

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


NOISY_SUITE = "synthetic-target-noise"
"""The second check's suite: a target and a pure-noise auxiliary (coin-flip train and dev labels).
Under its objective, ``target:target``, every minibatch of the noise task is wasted, so the optimal
policy never picks it."""
NOISY_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 32}
NOISY_ENV = {"objective": "target:target"}
NOISE_BUDGET = 200
"""Task-minibatches of each training episode and of each deployment run."""


def noise_training(seed: int, timesteps: int = 20_000, **settings: Any) -> TrainAgentConfig:
    """The agent of the noise check: trained on the suite's fast env at the agent defaults;
    ``settings`` are TrainAgentConfig fields over them (an ``env`` is merged into the check's)."""
    return TrainAgentConfig.over(
        {
            "suite": NOISY_SUITE,
            "model": NOISY_MODEL,
            "env": {**NOISY_ENV, "episode_steps": NOISE_BUDGET},
            "timesteps": timesteps,
            "fast": True,
            "seed": seed,
        },
        settings,
    )


def deployed_shares(
    agent_path: str | Path,
    suite: TaskSuite,
    budget: int,
    seeds: Sequence[int],
    deployment: dict | None = None,
    **run_options: Any,
) -> dict[str, float]:
    """Each task's share of the budget when the agent is deployed as ``mtl-gym run --method qls``
    deploys it (full env; ``deployment``: QLSScheduler settings such as ``{"policy": "greedy"}``),
    over runs of ``budget`` on ``seeds``; ``run_options`` (model, trainer, and env settings as
    ``env``) go to :func:`run_schedule`."""
    env = run_options.pop("env", {})
    counts = [
        run_schedule(
            QLSScheduler(agent=str(agent_path), **(deployment or {})),
            suite,
            budget,
            seed,
            env_config=agent_env_config(str(agent_path), env),
            **run_options,
        ).action_counts
        for seed in seeds
    ]
    total = sum(sum(c.values()) for c in counts)
    return {task: sum(c[task] for c in counts) / total for task in suite.names}


def noise_share(
    agent_path: str | Path, deployment: dict | None = None, seeds: Sequence[int] = (100, 101, 102)
) -> float:
    """The noise task's share of the budget, deployed by :func:`deployed_shares` for :data:`NOISE_BUDGET`."""
    suite = load_suite(NOISY_SUITE)
    shares = deployed_shares(
        agent_path, suite, NOISE_BUDGET, seeds, deployment, model=NOISY_MODEL, env=NOISY_ENV
    )
    return shares["noise"]


IMBALANCED_SUITE = "synthetic-imbalanced"
"""The third check's suite: the synthetic suite with train sizes 2,000 / 800 / 1,000 / 24 under
the mean objective, at the settings of the shipped headroom table (docs/results/headroom.md)."""
IMBALANCED_MODEL = {"name": "cnn", "embedding_dim": 64, "hidden_dim": 64}
IMBALANCED_OPTIONS = {"max_len": 64}
IMBALANCED_LR = 3e-3
IMBALANCED_BUDGET = 600
IMBALANCED_ANSWER = {"books": 0.57, "electronics": 0.25, "kitchen": 0.14, "toys": 0.04}
"""Its best static mixture, +2.0 [+1.3, +2.9] test points over uniform on 5 seeds, from
``python -m benchmarks.headroom --full`` (docs/results/data/headroom.json; a rerun of its
``mtl-gym headroom`` found the same weights to two decimals): books, the largest task, gets most of
the budget and toys, 24 examples, the least."""


def imbalanced_training(seed: int, timesteps: int = 50_000, **settings: Any) -> TrainAgentConfig:
    """The agent of the imbalanced check: trained on the suite's fast env at the agent defaults, as
    ``benchmarks.headroom_capture`` trains it; ``settings`` as for :func:`noise_training`."""
    return TrainAgentConfig.over(
        {
            "suite": IMBALANCED_SUITE,
            "suite_options": IMBALANCED_OPTIONS,
            "model": IMBALANCED_MODEL,
            "trainer": {"lr": IMBALANCED_LR},
            "env": {"episode_steps": IMBALANCED_BUDGET},
            "timesteps": timesteps,
            "fast": True,
            "seed": seed,
        },
        settings,
    )


def imbalanced_shares(
    agent_path: str | Path, deployment: dict | None = None, seeds: Sequence[int] = (100, 101, 102)
) -> dict[str, float]:
    """Each task's share of the budget on :data:`IMBALANCED_SUITE`, deployed by :func:`deployed_shares`
    for :data:`IMBALANCED_BUDGET`."""
    suite = load_suite(IMBALANCED_SUITE, **IMBALANCED_OPTIONS)
    return deployed_shares(
        agent_path,
        suite,
        IMBALANCED_BUDGET,
        seeds,
        deployment,
        model=IMBALANCED_MODEL,
        trainer={"lr": IMBALANCED_LR},
    )


def share_distance(shares: dict[str, float], answer: dict[str, float] = IMBALANCED_ANSWER) -> float:
    """L1 distance between two mixtures over the same tasks (0: equal, 2: disjoint)."""
    if set(shares) != set(answer):
        raise ValueError(f"mixtures over different tasks: {sorted(shares)} and {sorted(answer)}")
    return sum(abs(shares[task] - answer[task]) for task in answer)
