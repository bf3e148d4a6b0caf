"""InstanceSetEnv: the scheduling env over a set of suites, one instance drawn at every reset.

An agent trained here sees a new suite (sizes, difficulty, noise, vocabulary) every episode, so what
it learns must be how to schedule, not one suite's answer. Every instance of a set has the same
number of tasks, so the observation and action spaces stay fixed; task ``i`` is simply "the i-th task"
of whichever instance is running.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ..data import TaskSuite, load_suite
from ..data.instances import InstanceSetConfig
from ..models import ModelConfig
from ..training import TrainerConfig
from .config import EnvConfig
from .env import MTLSchedulingEnv, scheduling_spaces


class InstanceSetEnv(gym.Env):
    """:class:`MTLSchedulingEnv` on instance ``i`` of ``split``, ``i`` drawn uniformly at each reset
    from the env's seeded generator (or given as ``reset(options={"instance": i})``).

    ``instances`` holds :class:`~mtl_gym.data.instances.InstanceSetConfig` options other than the
    split and instance (its ``size``, distributions and ``seed``). Suites are built on first use and
    kept, so an instance costs its generation once per process.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        split: str = "train",
        instances: dict | None = None,
        model: ModelConfig | dict | None = None,
        config: EnvConfig | dict | None = None,
        trainer: TrainerConfig | dict | None = None,
    ):
        options = dict(instances or {})
        if {"split", "instance"} & set(options):
            raise ValueError("InstanceSetEnv draws the instance itself: give split as its own argument")
        self.set_config = InstanceSetConfig(split=split, **options)
        self.split = split
        self.model = model
        self.config = EnvConfig.of(config)
        self.trainer_config = TrainerConfig.of(trainer)
        self.num_tasks = self.set_config.num_tasks
        self.action_space, self.observation_space = scheduling_spaces(self.num_tasks, self.config)
        self._suites: dict[int, TaskSuite] = {}
        self.instance: int | None = None
        self.current: MTLSchedulingEnv | None = None

    def suite_of(self, instance: int) -> TaskSuite:
        if instance not in self._suites:
            options = {k: v for k, v in vars(self.set_config).items() if k not in ("split", "instance")}
            self._suites[instance] = load_suite(
                "synthetic-instances", split=self.split, instance=instance, **options
            )
        return self._suites[instance]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        options = dict(options or {})
        instance = options.pop("instance", None)
        if instance is None:
            instance = int(self.np_random.integers(self.set_config.size))
        elif not 0 <= instance < self.set_config.size:
            raise ValueError(f"instance {instance} is out of range for a set of {self.set_config.size}")
        self.instance = instance
        self.current = MTLSchedulingEnv(self.suite_of(instance), self.model, self.config, self.trainer_config)
        observation, info = self.current.reset(seed=int(self.np_random.integers(2**31)), options=options)
        return observation, {**info, "instance": instance}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self.current is None:
            raise RuntimeError("reset the env before stepping it")
        observation, reward, terminated, truncated, info = self.current.step(action)
        return observation, reward, terminated, truncated, {**info, "instance": self.instance}

    def action_masks(self) -> np.ndarray:
        if self.current is None:
            return np.ones(self.num_tasks, dtype=bool)
        return self.current.action_masks()

    @property
    def suite(self) -> TaskSuite | None:
        return None if self.current is None else self.current.suite

    @property
    def trainer(self):
        return None if self.current is None else self.current.trainer
