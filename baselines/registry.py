"""Every baseline method by name: task schedulers, joint methods and optimizers, for
``mtl-gym methods`` and ``mtl-gym run --method NAME``."""

from __future__ import annotations

import dataclasses
from typing import Any

from .adatask import AdaTaskConfig
from .joint import JOINT_METHODS
from .schedulers import SCHEDULERS

OPTIMIZERS = {
    "adam": "Kingma & Ba 2015 (the trainer's default)",
    "adatask": "Yang et al. 2023, AdaTask (AAAI)",
    "adam-rau": "Adam, with each update split per task to measure its rAU (AdaTask paper, Figs. 2 and 6); "
    "costs one backward pass per task",
}


def _dataclass_defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls)}


def list_methods() -> list[dict[str, Any]]:
    """``[{"name", "kind", "paper", "hyperparameters"}]`` for every registered method."""
    methods = [cls.describe() for cls in SCHEDULERS.values()]
    methods += [
        {
            "name": name,
            "kind": "joint",
            "paper": cls.paper,
            "hyperparameters": _dataclass_defaults(cls.Hyperparameters),
        }
        for name, cls in JOINT_METHODS.items()
    ]
    methods += [
        {
            "name": name,
            "kind": "optimizer",
            "paper": paper,
            "hyperparameters": _dataclass_defaults(AdaTaskConfig) if name == "adatask" else {"lr": 1e-3},
        }
        for name, paper in OPTIMIZERS.items()
    ]
    return methods
