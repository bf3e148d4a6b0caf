"""The scheduling environment, its rules, and the runner that trains one model under a scheduler."""

from .config import REWARD_MODES, REWARD_SETS, EnvConfig
from .env import InvalidActionError, MTLSchedulingEnv
from .reference import reference_accuracies
from .rules import Rule
from .runner import RunResult, Scheduler, run_schedule
from .uncertainty import UNCERTAINTY_MEASURES, histogram, uncertainty
from .vector import make_vec_env

__all__ = [
    "REWARD_MODES",
    "REWARD_SETS",
    "UNCERTAINTY_MEASURES",
    "EnvConfig",
    "InvalidActionError",
    "MTLSchedulingEnv",
    "Rule",
    "RunResult",
    "Scheduler",
    "histogram",
    "make_vec_env",
    "reference_accuracies",
    "run_schedule",
    "uncertainty",
]
