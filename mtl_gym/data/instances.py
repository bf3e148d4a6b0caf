"""Instance sets: many synthetic suites drawn from stated distributions, split into fixed, disjoint
train and test sets, the way DACBench trains a configuration policy on some instances and tests it on
others.

An agent trained on one suite can only show that it learned that suite. Trained over the train
instances and evaluated on the test instances, it shows that it learned to schedule. Instance
``i`` of a split is a :class:`~mtl_gym.data.synthetic.SyntheticConfig` drawn from its own seed
stream (``[seed, split, i]``), so it is the same on every machine and independent of how many
instances a set has; the two splits draw from different streams and are checked to share no suite.

``load_suite("synthetic-instances", split="train", instance=3)`` reads one; the other options of
:class:`InstanceSetConfig` change the distributions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from .synthetic import DomainSpec, SyntheticConfig, synthetic_raw_tasks
from .task import RawTask

INSTANCE_SPLITS = ("train", "test")


@dataclass(frozen=True)
class InstanceSetConfig:
    """The distributions an instance set draws its suites from, and which instance to read."""

    split: str = "train"
    """``train`` or ``test``: the two disjoint sets."""
    instance: int = 0
    """Which instance of the split (0 .. size - 1)."""
    size: int = 64
    """Instances per split."""
    num_tasks: int = 4
    """Tasks per instance, fixed within a set so that every instance has the same observation and
    action spaces."""
    train_size: tuple[int, int] = (40, 4000)
    """Train examples per task, log-uniform in [low, high]: a draw of 4 tasks is routinely 30:1
    imbalanced, the setting where schedules differ."""
    difficulty: tuple[float, float] = (0.0, 0.9)
    """Per task, uniform in [low, high]."""
    noisy_task_rate: float = 0.25
    """Probability that a task is a noisy one, with label noise uniform in ``noisy_label_noise``;
    the others get label noise uniform in ``clean_label_noise``."""
    noisy_label_noise: tuple[float, float] = (0.2, 0.5)
    """Label noise range of a noisy task (0.5: pure noise for binary labels)."""
    clean_label_noise: tuple[float, float] = (0.0, 0.05)
    """Label noise range of the other tasks."""
    shared_vocab: tuple[float, float] = (0.2, 0.8)
    """Per instance, the fraction of sentiment words shared by all its tasks, uniform in [low, high]."""
    dev_size: int = 100
    """Dev examples per task."""
    test_size: int = 200
    """Test examples per task."""
    seed: int = 0
    """Seed of the whole set; instance i of a split is drawn from the stream [seed, split, i]."""

    def __post_init__(self) -> None:
        for name in ("train_size", "difficulty", "noisy_label_noise", "clean_label_noise", "shared_vocab"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(
                    f"instance set: {name} must be a range [low, high], got {getattr(self, name)}"
                )
            object.__setattr__(self, name, (low, high))
        if self.split not in INSTANCE_SPLITS:
            raise ValueError(f"instance set: split must be one of {INSTANCE_SPLITS}, got {self.split!r}")
        if self.size < 1 or not 0 <= self.instance < self.size:
            raise ValueError(f"instance set: instance must lie in 0 .. {self.size - 1}, got {self.instance}")
        if self.num_tasks < 2:
            raise ValueError(f"instance set: num_tasks must be at least 2, got {self.num_tasks}")
        if not 0 <= self.noisy_task_rate <= 1:
            raise ValueError(f"instance set: noisy_task_rate must lie in [0, 1], got {self.noisy_task_rate}")

    def synthetic(self) -> SyntheticConfig:
        """The suite of instance ``instance`` of ``split``."""
        rng = np.random.default_rng([self.seed, INSTANCE_SPLITS.index(self.split), self.instance])
        low, high = np.log(self.train_size[0]), np.log(self.train_size[1])
        domains = []
        for t in range(self.num_tasks):
            noisy = rng.random() < self.noisy_task_rate
            noise = rng.uniform(*(self.noisy_label_noise if noisy else self.clean_label_noise))
            domains.append(
                DomainSpec(
                    name=f"task{t}",
                    train_size=int(round(np.exp(rng.uniform(low, high)))),
                    difficulty=float(rng.uniform(*self.difficulty)),
                    label_noise=float(noise),
                )
            )
        return SyntheticConfig(
            domains=tuple(domains),
            dev_size=self.dev_size,
            test_size=self.test_size,
            shared_vocab=float(rng.uniform(*self.shared_vocab)),
            seed=int(rng.integers(2**31)),
        )

    def instances(self, split: str) -> list[SyntheticConfig]:
        """Every instance of ``split``, in order."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return [
            InstanceSetConfig(**{**values, "split": split, "instance": i}).synthetic()
            for i in range(self.size)
        ]


def instance_raw_tasks(config: InstanceSetConfig) -> list[RawTask]:
    return synthetic_raw_tasks(config.synthetic())
