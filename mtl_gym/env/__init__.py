"""The scheduling environment, its rules (asynchronous-convergence KD among them), and the runner that
trains one model under a scheduler."""

from .batched import BatchedMTLEnv
from .config import REWARD_MODES, REWARD_SETS, EnvConfig
from .env import InvalidActionError, ModelFactory, MTLSchedulingEnv, build_trainer, first_model_seed
from .features import FeatureConfig, FeatureHeadsMTL, FeatureModelConfig, feature_suite, frozen_features
from .kd import KD_SETTINGS, AsyncConvergence, AsyncKDRule, DistillationLoss, KDConfig, teacher_probabilities
from .reference import reference_accuracies
from .rules import Rule
from .runner import RunRecorder, RunResult, Scheduler, run_schedule
from .sequential import KD_ORDERS, convergence_order, make_kd_rules
from .uncertainty import UNCERTAINTY_MEASURES, histogram, uncertainty
from .vector import make_vec_env

__all__ = [
    "KD_ORDERS",
    "KD_SETTINGS",
    "REWARD_MODES",
    "REWARD_SETS",
    "UNCERTAINTY_MEASURES",
    "AsyncConvergence",
    "AsyncKDRule",
    "BatchedMTLEnv",
    "DistillationLoss",
    "EnvConfig",
    "FeatureConfig",
    "FeatureHeadsMTL",
    "FeatureModelConfig",
    "InvalidActionError",
    "KDConfig",
    "MTLSchedulingEnv",
    "ModelFactory",
    "RunRecorder",
    "Rule",
    "RunResult",
    "Scheduler",
    "build_trainer",
    "convergence_order",
    "feature_suite",
    "first_model_seed",
    "frozen_features",
    "histogram",
    "make_kd_rules",
    "make_vec_env",
    "reference_accuracies",
    "run_schedule",
    "teacher_probabilities",
    "uncertainty",
]
