"""Task schedulers: choose the next task; run through the env by ``mtl_gym.env.run_schedule``.

A spec names one: ``"name"`` or ``"name:arguments"``, the arguments being ``key=value`` hyperparameters
(``"proportional:temperature=2"``, ``"exponential:main=beta,rate=3"``), a task for ``single:<task>``,
and weights for ``fixed-weights:books=2,dvd=1`` or ``fixed-weights:2,1,1``.
"""

from __future__ import annotations

from .adaptive import Adaptive
from .aioli import Aioli
from .base import (
    EVAL_EVERY,
    DevMetrics,
    SamplingScheduler,
    Scheduler,
    allowed_tasks,
    masked_distribution,
)
from .doremi import DoReMi
from .dtp import DTP
from .exp3s import Exp3S
from .exponential import Exponential
from .fixed_weights import FixedWeights
from .greedy import Greedy
from .lookahead import Lookahead
from .main_task import MainTaskSchedule
from .odm import ODM
from .prioritize import Prioritize
from .prioritize_easy import PrioritizeEasy
from .prioritize_hard import PrioritizeHard
from .proportional import Proportional
from .sigmoid import Sigmoid
from .simple import Random, Single, Uniform

SCHEDULERS: dict[str, type[Scheduler]] = {
    cls.name: cls
    for cls in (
        Uniform,
        Random,
        Single,
        Proportional,
        FixedWeights,
        Greedy,
        Exponential,
        Sigmoid,
        PrioritizeEasy,
        PrioritizeHard,
        Adaptive,
        DTP,
        Exp3S,
        Lookahead,
        ODM,
        DoReMi,
        Aioli,
    )
}


def make_scheduler(spec: str) -> Scheduler:
    """The scheduler of a spec (see the module docstring)."""
    name, _, argument = spec.partition(":")
    if name not in SCHEDULERS:
        raise KeyError(f"unknown scheduler {name!r}; known: {', '.join(SCHEDULERS)}")
    return SCHEDULERS[name].from_argument(argument)


__all__ = [
    "DTP",
    "EVAL_EVERY",
    "SCHEDULERS",
    "Adaptive",
    "DevMetrics",
    "Exp3S",
    "Exponential",
    "FixedWeights",
    "Greedy",
    "Lookahead",
    "MainTaskSchedule",
    "ODM",
    "DoReMi",
    "Aioli",
    "Prioritize",
    "PrioritizeEasy",
    "PrioritizeHard",
    "Proportional",
    "Random",
    "SamplingScheduler",
    "Scheduler",
    "Sigmoid",
    "Single",
    "Uniform",
    "allowed_tasks",
    "make_scheduler",
    "masked_distribution",
]
