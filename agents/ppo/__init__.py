"""PPO: sb3-contrib's MaskablePPO on the scheduling env, the policy-gradient agent (method ``ppo``)."""

from .ppo import PPO_DEFAULTS, make_ppo
from .scheduler import PPOScheduler, action_probabilities

__all__ = ["PPO_DEFAULTS", "PPOScheduler", "action_probabilities", "make_ppo"]
