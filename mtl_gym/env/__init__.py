"""The scheduling environment, its batched counterpart over cached features, the interface of its
rules, and the runner that trains one model under a scheduler. Methods built on it (the Async-KD
rule, schedulers, agents) live in ``mtl_gym.baselines`` and ``mtl_gym.agents``."""

from .batched import BatchedMTLEnv
from .config import REWARD_MODES, REWARD_SETS, EnvConfig
from .env import InvalidActionError, MTLSchedulingEnv, reference_minibatches
from .features import FeatureConfig, FeatureHeadsMTL, FeatureModelConfig, feature_suite, frozen_features
from .reference import reference_accuracies
from .rules import Rule
from .runner import Scheduler, run_schedule
from .uncertainty import UNCERTAINTY_MEASURES, histogram, uncertainty

__all__ = [
    "REWARD_MODES",
    "REWARD_SETS",
    "UNCERTAINTY_MEASURES",
    "BatchedMTLEnv",
    "EnvConfig",
    "FeatureConfig",
    "FeatureHeadsMTL",
    "FeatureModelConfig",
    "InvalidActionError",
    "MTLSchedulingEnv",
    "Rule",
    "Scheduler",
    "feature_suite",
    "frozen_features",
    "histogram",
    "reference_accuracies",
    "reference_minibatches",
    "run_schedule",
    "uncertainty",
]
