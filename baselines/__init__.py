"""Baseline schedulers, loss and gradient balancing methods, and the AdaTask optimizer.

Empty until the baselines issue lands; every method will train through ``mtl_gym.training.Trainer``.
"""
