"""QLS: DQN with Boltzmann-Gumbel exploration and action masking."""

from .exploration import EXPLORATIONS, AnnealedBoltzmann, BoltzmannGumbel, EpsilonGreedy, Exploration
from .qls import QLS
from .scheduler import QLSScheduler
from .train import TrainAgentConfig, train_agent

__all__ = [
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
