"""Scheduler agents that learn which task to train next (QLS: a DQN on Stable-Baselines3).

Empty until the QLS issue lands; it sits above ``mtl_gym`` and below ``benchmarks``.
"""
