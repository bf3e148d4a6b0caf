"""Hyperparameter tuning of the agents on Optuna (``mtl-gym tune-agent``); Optuna is the optional
``tune`` extra and is imported only when a study runs."""

from ..common.callbacks import preserved_global_rng
from .evaluation import PeriodicEvaluation, deployed_dev_accuracy
from .space import SPACES, PPOSpace, QLSSpace, rescale
from .study import TuneConfig, storage_url, tune_agent

__all__ = [
    "SPACES",
    "PPOSpace",
    "PeriodicEvaluation",
    "QLSSpace",
    "TuneConfig",
    "deployed_dev_accuracy",
    "preserved_global_rng",
    "rescale",
    "storage_url",
    "tune_agent",
]
