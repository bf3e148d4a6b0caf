"""A trained MaskablePPO agent as a scheduler for the schedule runner (method ``ppo``).

Deployment reads the policy's action distribution over the *allowed* tasks (the mask comes from
the step's info, as for ``qls``) and either takes its most probable task (``deterministic``, the
default, comparable with QLS's greedy choice) or samples one from it (``deterministic=false``: the
stochastic policy PPO was trained as, drawn from a generator seeded by the run's seed, so a run
is reproducible and the MTL model's own random streams are left alone).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sb3_contrib import MaskablePPO

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.spec import Configurable

from ..common.deploy import check_fits
from ..common.masking import check_masks, masked_argmax
from ..common.serialization import load_agent


@dataclass(frozen=True)
class PPOSchedulerHyperparameters:
    agent: Any = None
    """The trained agent: a path to its ``agent.zip`` (``--agent``) or a :class:`MaskablePPO`."""
    deterministic: bool = True
    """Take the most probable allowed task (true) or sample from the masked policy (false)."""


def action_probabilities(agent: MaskablePPO, observation: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The policy's probabilities of each task in the state ``observation``, masked tasks at 0."""
    mask = np.asarray(mask, dtype=bool).reshape(1, -1)
    check_masks(mask)
    tensor, _ = agent.policy.obs_to_tensor(observation)
    with torch.no_grad():
        distribution = agent.policy.get_distribution(tensor, action_masks=mask)
    probabilities = distribution.distribution.probs.cpu().numpy()[0].astype(np.float64)
    probabilities = np.where(mask[0], probabilities, 0.0)
    return probabilities / probabilities.sum()


class PPOScheduler(Configurable):
    """Deploys a trained MaskablePPO; it is loaded at the first reset, so a spec can be checked before
    the agent file exists (the bench trains it first)."""

    name = "ppo"
    family = "agent"
    paper = "MaskablePPO (sb3-contrib) trained on the scheduling env (mtl_gym.agents.ppo), with --agent"
    Hyperparameters = PPOSchedulerHyperparameters

    def __init__(self, agent: MaskablePPO | str | Path | None = None, deterministic: bool = True):
        super().__init__(agent=agent, deterministic=deterministic)
        self.agent = agent if isinstance(agent, MaskablePPO) else None
        self.rng = np.random.default_rng(0)

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        if self.agent is None:
            path = self.hyperparameters.agent
            if path is None:
                raise ValueError("method ppo needs a trained agent (--agent DIR/agent.zip or ppo:agent=PATH)")
            self.agent = load_agent(MaskablePPO, path)
        check_fits(self.agent, env)
        self.agent.policy.set_training_mode(False)
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        mask = np.asarray(info["action_mask"], dtype=bool)
        probabilities = action_probabilities(self.agent, observation, mask)
        if self.hyperparameters.deterministic:
            return int(masked_argmax(probabilities, mask))
        return int(self.rng.choice(len(probabilities), p=probabilities))
