"""Suite variants: the same real data, read the usual way, then reshaped so that the schedule matters.

A scheduler can only win where the tasks pull against each other. Two shapes do that on real text
(the headroom issue's measurements): very unequal train sizes, where uniform sampling over-trains
the small tasks and starves the large ones (temperature sampling's setting, Arivazhagan et al.
2019), and an auxiliary task with noisy labels next to a target, where every minibatch of the
auxiliary is wasted or harmful. :class:`VariantConfig` applies either to any suite's raw tasks,
seeded, without copying the data; each change is counted in the task's ``counts`` (and so shows in
``mtl-gym info``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .errors import DataError
from .task import RawSplit, RawTask, TaskKind

NOISY_SPLITS = ("train", "dev")
"""Label noise reaches the splits a scheduler learns and selects on; test labels stay clean, as in
the synthetic suite's ``label_noise``."""


@dataclass(frozen=True)
class VariantConfig:
    """How to reshape a suite's tasks after reading them (``--option variant={...}``)."""

    tasks: tuple[str, ...] | None = None
    """Keep only these tasks, in this order (None: all)."""
    imbalance: float = 0.0
    """Power-law train sizes: the i-th task (0-based, in suite order) keeps
    ``round(n_max x (i + 1) ** -imbalance)`` train examples, n_max being the smallest train size
    of the suite's tasks (so every task can be cut to its size). 0: sizes unchanged."""
    min_train: int = 32
    """No task is cut below this many train examples."""
    train_sizes: Mapping[str, int] | None = None
    """Explicit train sizes per task (after ``imbalance``, which it overrides for the tasks named)."""
    label_noise: Mapping[str, float] | None = None
    """Per task, the probability that a train or dev label is replaced by another label drawn
    uniformly (test labels stay clean). For tagging tasks each token's tag is flipped alone."""
    seed: int = 0
    """Seed of the subsampling and of the flips; output is identical per seed."""

    def __post_init__(self) -> None:
        if self.tasks is not None:
            object.__setattr__(self, "tasks", tuple(self.tasks))
        if not self.imbalance >= 0:
            raise ValueError(f"variant: imbalance must be >= 0, got {self.imbalance!r}")
        if self.min_train < 1:
            raise ValueError(f"variant: min_train must be at least 1, got {self.min_train!r}")
        for task, size in (self.train_sizes or {}).items():
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"variant: train_sizes[{task!r}] must be a positive integer, got {size!r}")
        for task, rate in (self.label_noise or {}).items():
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"variant: label_noise[{task!r}] must be a rate in [0, 1], got {rate!r}")

    @classmethod
    def of(cls, value: VariantConfig | Mapping | None) -> VariantConfig:
        if value is None or isinstance(value, VariantConfig):
            return value or cls()
        known = {f.name for f in dataclasses.fields(cls)}
        if unknown := sorted(set(value) - known):
            raise ValueError(f"variant: unknown option(s) {unknown}; known: {sorted(known)}")
        return cls(**value)

    @property
    def changes_anything(self) -> bool:
        return self != VariantConfig(seed=self.seed)


def apply_variant(raw_tasks: list[RawTask], variant: VariantConfig) -> list[RawTask]:
    """``raw_tasks`` reshaped by ``variant``; names it gives that the suite lacks are an error."""
    if not variant.changes_anything:
        return raw_tasks
    by_name = {task.name: task for task in raw_tasks}
    named = [*(variant.tasks or ()), *(variant.train_sizes or {}), *(variant.label_noise or {})]
    if unknown := sorted({name for name in named if name not in by_name}):
        raise DataError(f"variant names unknown task(s) {unknown}; the suite has {sorted(by_name)}")
    tasks = [by_name[name] for name in variant.tasks] if variant.tasks else list(raw_tasks)
    sizes = dict(target_sizes(tasks, variant.imbalance, variant.min_train))
    sizes.update(variant.train_sizes or {})
    reshaped = []
    for index, task in enumerate(tasks):
        # One stream per task, so that the flips of one task do not depend on the others' options.
        task_rng = np.random.default_rng([variant.seed, index])
        task = _subsample(task, sizes.get(task.name), task_rng)
        rate = (variant.label_noise or {}).get(task.name, 0.0)
        reshaped.append(_with_noise(task, rate, task_rng) if rate > 0 else task)
    return reshaped


def target_sizes(tasks: list[RawTask], imbalance: float, min_train: int) -> dict[str, int]:
    """The power-law train sizes of ``imbalance`` (empty when it is 0)."""
    if imbalance == 0:
        return {}
    largest = min(len(task.splits["train"]) for task in tasks)
    return {task.name: max(min_train, round(largest * (i + 1) ** -imbalance)) for i, task in enumerate(tasks)}


def _subsample(task: RawTask, size: int | None, rng: np.random.Generator) -> RawTask:
    train = task.splits["train"]
    if size is None or size >= len(train):
        return task
    keep = np.sort(rng.choice(len(train), size=size, replace=False))
    split = RawSplit([train.examples[i] for i in keep], [train.labels[i] for i in keep], train.source)
    counts = task.counts.copy()
    counts["variant_train_kept"] = size
    counts["variant_train_dropped"] = len(train) - size
    return dataclasses.replace(task, splits={**task.splits, "train": split}, counts=counts)


def _with_noise(task: RawTask, rate: float, rng: np.random.Generator) -> RawTask:
    classes = len(task.label_names)
    if classes < 2:
        raise DataError(f"variant: task {task.name!r} has one label, so label noise cannot flip it")
    counts = task.counts.copy()
    splits = dict(task.splits)

    def flip(label: int) -> int:
        counts["variant_labels_flipped"] += 1
        return int((label + rng.integers(1, classes)) % classes)  # any other label, uniformly

    for name in NOISY_SPLITS:
        split = splits[name]
        if task.kind is TaskKind.TAGGING:
            labels = [[flip(tag) if rng.random() < rate else tag for tag in row] for row in split.labels]
        else:
            labels = [flip(label) if rng.random() < rate else label for label in split.labels]
        splits[name] = RawSplit(split.examples, labels, split.source)
    counts["variant_label_noise_percent"] = round(100 * rate)
    return dataclasses.replace(task, splits=splits, counts=counts)
