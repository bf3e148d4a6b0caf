"""mtl-gym: learn how to schedule multi-task training.

Layers, each importing only those before it: ``mtl_gym.data`` (tasks, vocabulary, tensors) →
``mtl_gym.models`` (shared encoder + task heads) → ``mtl_gym.training`` (the only place gradient
steps happen). The env, agents, baselines and benchmarks build on these.
"""

__version__ = "0.1.0"
