"""The scheduling environment, its rules, and the runner that trains one model under a scheduler."""

from .config import REWARD_MODES, REWARD_SETS, EnvConfig
from .env import InvalidActionError, ModelFactory, MTLSchedulingEnv, build_trainer, first_model_seed
from .reference import reference_accuracies
from .rules import Rule
from .runner import RunRecorder, RunResult, Scheduler, run_schedule
from .uncertainty import UNCERTAINTY_MEASURES, histogram, uncertainty
from .vector import make_vec_env

__all__ = [
    "REWARD_MODES",
    "REWARD_SETS",
    "UNCERTAINTY_MEASURES",
    "EnvConfig",
    "InvalidActionError",
    "MTLSchedulingEnv",
    "ModelFactory",
    "RunRecorder",
    "Rule",
    "RunResult",
    "Scheduler",
    "build_trainer",
    "first_model_seed",
    "histogram",
    "make_vec_env",
    "reference_accuracies",
    "run_schedule",
    "uncertainty",
]
