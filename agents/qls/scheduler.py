"""A trained QLS agent as a scheduler for the schedule runner.

By default it samples each task from a softmax over the allowed tasks' Q-values, standardised per
state: p(a) ∝ exp((Q(s, a) − max Q) / (temperature · std Q)), max and std over the allowed actions.
A short QLS run leaves Q-values that differ between actions by about 1e-5 of their size, and the
paper's greedy choice (QLS §4.4: "during run-time, the scheduler greedily selects the action which
yields the highest expected reward") then locks onto that noise and trains one or two tasks only:
on the synthetic suite one trained agent scored 70.1 ± 6.2 greedily and 88.8 ± 2.1 sampling (issue
11). ``policy="greedy"`` keeps the paper's argmax. A setting the spec leaves unset comes from the
agent's ``config.json`` (``deploy``, e.g. a temperature chosen by ``tune-agent``), else the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.spec import Configurable

from ..common.contract import check_env, recorded_deployment, recorded_settings
from ..common.deploy import check_fits
from ..common.masking import masked_argmax, sample_rows, standardized_softmax
from ..common.serialization import load_agent
from .qls import QLS

POLICIES = ("softmax", "greedy")

TEMPERATURE = 0.75
"""Default temperature of the deployed softmax, in units of the per-state std of Q. Chosen on the
headroom suites (``benchmarks/headroom_capture.py``, docs/results/learned-schedulers.md, "Capturing
the headroom") with fast-env agents at the agent defaults, deployed as by default (a probe pass every
16 decisions): the paired difference from uniform at greedy / 0.75 / 1 was -1.0 / +1.95 / +1.4 points
on fsmtl-noisy-aux, +4.4 / +3.7 / +3.2 on synthetic-target-noise, -3.9 / -1.8 / -1.85 on
synthetic-noisy-aux and -24.9 / -6.0 / -2.7 on synthetic-imbalanced (a probe every step: 0.5 / 2 / 8
were +2.0 / +1.3 / +1.3, +3.9 / - / -1.1, -3.0 / -0.8 / -1.0 and -10.8 / -0.4 / -0.3). 0.75 is the
best of them on three suites, and the one setting whose interval excludes 0 on both
fsmtl-noisy-aux and synthetic-target-noise. On two tasks the standardised softmax gives the less
preferred task 1 / (1 + e^(2 / T)) at every decision, whatever the gap: 0.065 at 0.75, under the
noise check's 0.10 (0.12 at 1; 0.44 at 8, uniform by construction). It costs 3.3 points against 1 on synthetic-imbalanced, where the fast-env agent
learns the wrong preference and every sharper deployment loses more: softer deployments hide a wrong
agent, sharper ones follow a right one."""


@dataclass(frozen=True)
class QLSSchedulerHyperparameters:
    agent: Any = None
    """The trained agent: a path to its ``agent.zip`` (``--agent``) or a :class:`QLS`."""
    policy: str | None = None
    """``softmax``: sample from softmax((Q − max Q) / (temperature · std Q)) over the allowed tasks;
    ``greedy``: the allowed task of highest Q (the paper's). Unset: the agent's recorded ``deploy``
    setting, else softmax."""
    temperature: float | None = None
    """Of the softmax, in units of the per-state std of Q over the allowed tasks: 0 → greedy, ∞ → uniform.
    Unset: the agent's recorded ``deploy`` setting, else :data:`TEMPERATURE`."""

    def __post_init__(self):
        if self.policy is not None and self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {POLICIES}, got {self.policy!r}")
        if self.temperature is not None and not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")

    def resolved(self, recorded: dict[str, Any]) -> QLSSchedulerHyperparameters:
        """Unset settings from ``recorded`` (an agent's ``deploy``), else the defaults; checked."""
        return QLSSchedulerHyperparameters(
            agent=self.agent,
            policy=self.policy or recorded.get("policy", "softmax"),
            temperature=self.temperature or recorded.get("temperature", TEMPERATURE),
        )


class QLSScheduler(Configurable):
    """Deploys a trained agent; it is loaded at the first reset, so a spec can be checked before the
    agent file exists (the bench trains it first). The softmax draws from a generator seeded by the
    run's seed at each reset, so a run reproduces. An agent given by path brings the observation
    settings of its ``config.json``: :meth:`env_config` builds the deployment env with them and
    :meth:`reset` refuses an env that differs."""

    name = "qls"
    family = "agent"
    paper = "QLS: Q-learning scheduler for multi-task learning (mtl_gym.agents.QLS), with --agent"
    Hyperparameters = QLSSchedulerHyperparameters

    def __init__(
        self,
        agent: QLS | str | Path | None = None,
        policy: str | None = None,
        temperature: float | None = None,
    ):
        super().__init__(agent=agent, policy=policy, temperature=temperature)
        self.agent = agent if isinstance(agent, QLS) else None
        self.deployment = self.hyperparameters.resolved({})
        """The settings in force: the spec's, then the agent's recorded ones (at reset), then the defaults."""
        self.rng = np.random.default_rng(0)

    def _path(self) -> Path | None:
        agent = self.hyperparameters.agent
        return None if agent is None or isinstance(agent, QLS) else Path(agent)

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        path = self._path()
        if self.agent is None:
            if path is None:
                raise ValueError("method qls needs a trained agent (--agent DIR/agent.zip or qls:agent=PATH)")
            self.agent = load_agent(QLS, path)  # never unpickles: a legacy SB3 zip needs trust
        if path is not None:
            check_env(recorded_settings(path), env.config, str(path))
            self.deployment = self.hyperparameters.resolved(recorded_deployment(path))
        check_fits(self.agent, env)
        self.rng = np.random.default_rng(seed)

    def probabilities(self, observation: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The policy's distribution over tasks (one-hot under ``greedy``)."""
        q_values, _ = self.agent.q_values(np.asarray(observation)[None])
        masks = np.asarray(mask, dtype=bool).reshape(1, -1)
        if self.deployment.policy == "greedy":
            return np.eye(q_values.shape[1])[masked_argmax(q_values, masks)][0]
        return standardized_softmax(q_values, masks, self.deployment.temperature)[0]

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        mask = info["action_mask"]
        if self.deployment.policy == "greedy":
            action, _ = self.agent.predict(observation, deterministic=True, action_masks=mask)
            return int(action)
        return int(sample_rows(self.probabilities(observation, mask)[None], self.rng)[0])
