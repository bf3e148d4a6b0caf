"""QLS: DQN with Boltzmann-Gumbel exploration and action masking."""

from .exploration import EXPLORATIONS, AnnealedBoltzmann, BoltzmannGumbel, EpsilonGreedy, Exploration
from .qls import QLS
from .scheduler import QLSScheduler
from .train import AGENT_ENV_DEFAULTS, TrainAgentConfig, train_agent

__all__ = [
    "AGENT_ENV_DEFAULTS",
    "EXPLORATIONS",
    "QLS",
    "AnnealedBoltzmann",
    "BoltzmannGumbel",
    "EpsilonGreedy",
    "Exploration",
    "QLSScheduler",
    "TrainAgentConfig",
    "train_agent",
]
