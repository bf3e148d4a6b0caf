"""Envs over several suites: one suite drawn at every reset, so that an agent learns to schedule, not
one suite's answer.

:class:`SuiteSetEnv` draws from a list of suites (``train-agent --suite a,b``); :class:`InstanceSetEnv`
from an instance set (``synthetic-instances``), a new generated suite (sizes, difficulty, noise,
vocabulary) every episode. Every suite of a set has the same number of tasks, so the observation and
action spaces stay fixed; task ``i`` is simply "the i-th task" of whichever suite is running.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from ..data import TaskSuite, load_suite
from ..data.instances import InstanceSetConfig
from ..models import ModelConfig
from ..training import TrainerConfig
from .config import EnvConfig
from .env import MTLSchedulingEnv, scheduling_spaces


class SuiteSetEnv(gym.Env):
    """:class:`MTLSchedulingEnv` on suite ``i`` of ``suites``, ``i`` drawn uniformly at each reset
    from the env's seeded generator (or given as ``reset(options={"instance": i})``).

    ``suites`` are loaders (called once each, on first use; the env built on each suite is kept, so
    its references and objective are resolved once) and ``num_tasks``
    the number of tasks every one of them has; a suite with another number is refused when loaded.
    ``info["instance"]`` says which suite is running.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        suites: Sequence[Callable[[], TaskSuite]],
        num_tasks: int,
        model: ModelConfig | dict | None = None,
        config: EnvConfig | dict | None = None,
        trainer: TrainerConfig | dict | None = None,
    ):
        if not suites:
            raise ValueError("a suite set needs at least one suite")
        self.loaders = list(suites)
        self.model = model
        self.config = EnvConfig.of(config)
        self.trainer_config = TrainerConfig.of(trainer)
        self.num_tasks = num_tasks
        self.action_space, self.observation_space = scheduling_spaces(num_tasks, self.config)
        self._envs: dict[int, MTLSchedulingEnv] = {}
        self.instance: int | None = None
        self.current: MTLSchedulingEnv | None = None

    def env_of(self, instance: int) -> MTLSchedulingEnv:
        if instance not in self._envs:
            suite = self.loaders[instance]()
            if len(suite) != self.num_tasks:
                raise ValueError(
                    f"suite {suite.name!r} has {len(suite)} tasks; every suite of the set needs {self.num_tasks}"
                )
            self._envs[instance] = MTLSchedulingEnv(suite, self.model, self.config, self.trainer_config)
        return self._envs[instance]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        options = dict(options or {})
        instance = options.pop("instance", None)
        if instance is None:
            instance = int(self.np_random.integers(len(self.loaders)))
        elif not 0 <= instance < len(self.loaders):
            raise ValueError(f"instance {instance} is out of range for a set of {len(self.loaders)}")
        self.instance = instance
        self.current = self.env_of(instance)
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


class InstanceSetEnv(SuiteSetEnv):
    """:class:`SuiteSetEnv` over the instances of one split of an instance set. ``instances`` holds
    :class:`~mtl_gym.data.instances.InstanceSetConfig` options other than the split and instance
    (its ``size``, distributions and ``seed``)."""

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

        def loader(instance: int) -> Callable[[], TaskSuite]:
            return lambda: load_suite("synthetic-instances", split=split, instance=instance, **options)

        loaders = [loader(i) for i in range(self.set_config.size)]
        super().__init__(loaders, self.set_config.num_tasks, model, config, trainer)
