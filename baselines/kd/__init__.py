"""Asynchronous convergence via knowledge distillation (the Async-KD paper): a method built on the
env's :class:`~mtl_gym.env.Rule` interface. Converged tasks are rewound to their best checkpoint,
distilled from it and masked."""

from .methods import KD_METHODS, JointKD, KDMethod, SequentialKD
from .rule import (
    KD_SETTINGS,
    AsyncConvergence,
    AsyncKDRule,
    DistillationLoss,
    KDConfig,
    dev_metric,
    teacher_probabilities,
)
from .sequential import KD_ORDERS, FirstAllowed, convergence_order, make_kd_rules

__all__ = [
    "KD_METHODS",
    "KD_ORDERS",
    "KD_SETTINGS",
    "AsyncConvergence",
    "AsyncKDRule",
    "DistillationLoss",
    "FirstAllowed",
    "JointKD",
    "KDConfig",
    "KDMethod",
    "SequentialKD",
    "convergence_order",
    "dev_metric",
    "make_kd_rules",
    "teacher_probabilities",
]
