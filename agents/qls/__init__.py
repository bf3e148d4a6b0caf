"""QLS: DQN with Boltzmann-Gumbel exploration and action masking."""

from .exploration import EXPLORATIONS, AnnealedBoltzmann, BoltzmannGumbel, EpsilonGreedy, Exploration
from .qls import QLS
from .scheduler import QLSScheduler

__all__ = [
    "EXPLORATIONS",
    "QLS",
    "AnnealedBoltzmann",
    "BoltzmannGumbel",
    "EpsilonGreedy",
    "Exploration",
    "QLSScheduler",
]
