"""mtl-gym: learn how to schedule multi-task training.

Layers, each importing only those before it: ``mtl_gym.data`` (tasks, vocabulary, tensors) →
``mtl_gym.models`` (shared encoder + task heads) → ``mtl_gym.training`` (the only place gradient
steps happen) → ``mtl_gym.env`` (observation, reward, masks, rules). Agents, baselines and
benchmarks build on these. Importing the package registers the gymnasium ids.
"""

from .registration import ENV_IDS, register_envs

__version__ = "0.1.0"

register_envs()

__all__ = ["ENV_IDS", "register_envs"]
