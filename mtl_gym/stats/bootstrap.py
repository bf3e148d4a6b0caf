"""Stratified bootstrap confidence intervals, as rliable computes them (Agarwal et al. 2021, §4 and
its ``StratifiedBootstrap`` / ``StratifiedIndependentBootstrap``), on a seeded numpy ``Generator``.

Stratified: the tasks are fixed strata and only the runs are resampled, independently within each
task, so every resample still covers every task once and the interval describes "what if the seeds
had been different", the uncertainty a few seeds leave. With ``task_bootstrap`` the tasks are
resampled too (with replacement, the same task draw for every run), which also asks "what if the
benchmark had other tasks like these". Several score matrices (e.g. X and Y for a probability of
improvement) are resampled independently of one another, each within its own tasks, which is
rliable's independent-samples scheme; with ``task_bootstrap`` they share the task draw, since their
tasks are paired (rliable has no task bootstrap for several matrices).

The interval is read off the bootstrap distribution by the percentile method (rliable's default) or
the basic (reverse percentile) method, quantiles being numpy's linearly interpolated ones, as in the
``arch`` package that rliable calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Method = Literal["percentile", "basic"]

BLOCK_ELEMENTS = 1 << 22
"""Resamples are evaluated in blocks of about this many compared elements, to bound memory."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval."""

    point: float
    """The statistic on the observed scores."""
    low: float
    """Lower end of the confidence interval."""
    high: float
    """Upper end of the confidence interval."""

    def overlaps(self, other: Estimate) -> bool:
        """Whether the two intervals share a point (touching ends count as overlapping)."""
        return self.low <= other.high and other.low <= self.high

    def to_json(self) -> dict[str, float]:
        return {"point": self.point, "low": self.low, "high": self.high}


def stratified_resample(
    scores: np.ndarray,
    reps: int,
    rng: np.random.Generator,
    task_indices: np.ndarray | None = None,
) -> np.ndarray:
    """``reps`` resamples of a (runs, tasks) matrix, shape (reps, runs, tasks): each cell draws a run,
    with replacement, from its own task's column. ``task_indices`` (shape (reps, 1, tasks)) replaces
    column ``t`` of a resample by task ``task_indices[..., t]`` (the task bootstrap)."""
    runs, tasks = scores.shape
    run_indices = rng.integers(0, runs, size=(reps, runs, tasks))
    columns = np.arange(tasks) if task_indices is None else task_indices
    return scores[run_indices, columns]


def bootstrap_distribution(
    statistic: Callable[..., np.ndarray],
    samples: Sequence[np.ndarray],
    reps: int,
    rng: np.random.Generator,
    task_bootstrap: bool = False,
    cost_per_rep: int | None = None,
) -> np.ndarray:
    """``statistic(*resamples)`` for ``reps`` stratified resamples of ``samples``; shape (reps, ...).

    ``statistic`` must take arrays of shape (block, runs, tasks) and return (block, ...).
    ``cost_per_rep`` (elements one resample makes the statistic touch; default: the cells of all
    samples) sets the block size.
    """
    samples = [np.asarray(sample, dtype=float) for sample in samples]
    tasks = _common_tasks(samples)
    cost = cost_per_rep if cost_per_rep is not None else sum(sample.size for sample in samples)
    block = max(1, BLOCK_ELEMENTS // max(1, cost))
    parts = []
    for start in range(0, reps, block):
        size = min(block, reps - start)
        task_indices = rng.integers(0, tasks, size=(size, 1, tasks)) if task_bootstrap else None
        resamples = [stratified_resample(sample, size, rng, task_indices) for sample in samples]
        parts.append(np.asarray(statistic(*resamples), dtype=float))
    return np.concatenate(parts, axis=0)


def confidence_interval(
    distribution: np.ndarray, point: np.ndarray | float, level: float = 0.95, method: Method = "percentile"
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided ``level`` interval (low, high) from a bootstrap ``distribution`` (reps first)."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie in (0, 1), not {level}")
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(distribution, [tail, 100.0 - tail], axis=0)
    if method == "percentile":
        return low, high
    if method == "basic":
        point = np.asarray(point, dtype=float)
        return 2.0 * point - high, 2.0 * point - low
    raise ValueError(f"unknown bootstrap interval method {method!r}; use 'percentile' or 'basic'")


def bootstrap_estimate(
    statistic: Callable[..., np.ndarray],
    samples: Sequence[np.ndarray],
    reps: int,
    rng: np.random.Generator,
    level: float = 0.95,
    method: Method = "percentile",
    task_bootstrap: bool = False,
    cost_per_rep: int | None = None,
) -> Estimate:
    """A scalar ``statistic`` of ``samples`` with its stratified bootstrap confidence interval."""
    point = float(statistic(*[np.asarray(sample, dtype=float) for sample in samples]))
    distribution = bootstrap_distribution(statistic, samples, reps, rng, task_bootstrap, cost_per_rep)
    low, high = confidence_interval(distribution, point, level, method)
    return Estimate(point, float(low), float(high))


def _common_tasks(samples: Sequence[np.ndarray]) -> int:
    """The shared number of tasks (columns); raises on anything but non-empty 2-D matrices."""
    if not samples:
        raise ValueError("no score matrix to resample")
    for sample in samples:
        if sample.ndim != 2 or 0 in sample.shape:
            raise ValueError(f"scores must be a non-empty (runs, tasks) matrix, not shape {sample.shape}")
    tasks = {sample.shape[1] for sample in samples}
    if len(tasks) != 1:
        raise ValueError(f"score matrices differ in their number of tasks: {sorted(tasks)}")
    return tasks.pop()


def paired_difference(
    scores: Sequence[float],
    reference: Sequence[float],
    reps: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> Estimate:
    """The mean of ``scores - reference`` over runs paired by seed (run i of both trained with seed i),
    with a percentile bootstrap interval over the runs. Pairing removes what a seed does to both
    methods (initialisation, minibatch order), so a difference smaller than either method's spread
    across seeds can still be resolved, which overlapping marginal intervals cannot show."""
    scores, reference = np.asarray(scores, dtype=float), np.asarray(reference, dtype=float)
    if scores.shape != reference.shape or scores.ndim != 1 or len(scores) == 0:
        raise ValueError(
            f"paired scores need one value per seed on both sides, got {scores.shape} and {reference.shape}"
        )
    differences = (scores - reference)[:, None]
    return bootstrap_estimate(
        lambda d: d.mean(axis=(-2, -1)), [differences], reps, np.random.default_rng(seed), level
    )
