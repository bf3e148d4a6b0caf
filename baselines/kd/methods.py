"""The Async-KD rule as methods of the registry: ``kd-joint`` and ``kd-sequential:ORDER``.

The rule decides which tasks train (every unconverged one in the joint setting, the current one in
the sequential), so the run's scheduler only walks the allowed tasks in order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from mtl_gym.data import TaskSuite
from mtl_gym.env import Rule
from mtl_gym.spec import Configurable

from .rule import KDConfig
from .sequential import KD_ORDERS, make_kd_rules

PAPER = "Async-KD paper §3: asynchronous convergence via knowledge distillation"


@dataclass(frozen=True)
class SequentialKDHyperparameters(KDConfig):
    order: str | list[str] | None = None
    """Task order: small, large, easy (the order of convergence of a joint KD run), or task names;
    spec: ``kd-sequential:small`` or ``kd-sequential:books,dvd,toys``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.order is None:
            raise ValueError(f"the sequential setting needs an order: one of {KD_ORDERS} or a list of tasks")


class KDMethod(Configurable):
    """One Async-KD setting with its convergence and distillation settings."""

    setting: ClassVar[str]
    Hyperparameters = KDConfig

    @property
    def config(self) -> KDConfig:
        kd_fields = {f.name for f in fields(KDConfig)}
        return KDConfig(**{k: v for k, v in asdict(self.hyperparameters).items() if k in kd_fields})

    def rules(self, suite: TaskSuite, seed: int, budget: int, **run_options: Any) -> list[Rule]:
        """The rules of one run (see :func:`make_kd_rules`)."""
        order = getattr(self.hyperparameters, "order", None)
        return make_kd_rules(
            self.setting, order, suite, seed=seed, budget=budget, config=self.config, **run_options
        )


class JointKD(KDMethod):
    name = "kd-joint"
    paper = PAPER + ", joint setting"
    setting = "joint"


class SequentialKD(KDMethod):
    name = "kd-sequential"
    paper = PAPER + ", sequential setting"
    setting = "sequential"
    Hyperparameters = SequentialKDHyperparameters
    positional = "order"


KD_METHODS = (JointKD, SequentialKD)
