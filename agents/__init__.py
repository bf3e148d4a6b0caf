"""Scheduler agents that learn which task to train next.

``agents.QLS`` is the Q-learning scheduler of the QLS paper: SB3's DQN with Boltzmann-Gumbel
exploration and action masking. It sits above ``mtl_gym`` (it trains on the env) and beside
``baselines``.
"""

from .qls import QLS, QLSScheduler

__all__ = ["QLS", "QLSScheduler"]
