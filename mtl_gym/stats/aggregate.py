"""Per-method aggregates of a benchmark: mean, median and IQM of the per-task scores, probability of
improvement over reference methods, and performance profiles, each with a stratified bootstrap
confidence interval over seeds (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical
Precipice"; the estimators of its rliable library, reimplemented in ``estimators`` and ``bootstrap``).

Input: per method, a (seeds, tasks) matrix of scores (rliable's (runs, tasks) convention), the same
tasks in the same column order for every method. Every (method, statistic) pair draws from its own
random stream, derived from the seed and the two names, so a method's intervals do not change when
other methods are added to or removed from the comparison.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import comb
from typing import Any

import numpy as np

from . import estimators
from .bootstrap import Estimate, Method, bootstrap_distribution, bootstrap_estimate, confidence_interval

REFERENCES: tuple[str, ...] = ("uniform", "equal")
"""Default methods every method is compared to by probability of improvement."""

PROFILE_POINTS = 101
"""Thresholds in the default performance-profile grid."""


@dataclass(frozen=True)
class BootstrapConfig:
    """How the confidence intervals are computed."""

    reps: int = 10_000
    """Bootstrap resamples per aggregate and probability of improvement. rliable defaults to 50,000;
    10,000 puts the Monte Carlo error of a 95% interval's ends near 3% of the bootstrap standard
    deviation, below the printed precision, at a fifth of the time (about 0.1 s per method)."""
    profile_reps: int = 2_000
    """Bootstrap resamples for the performance profiles (rliable's default for profiles)."""
    level: float = 0.95
    """Coverage of the two-sided intervals."""
    method: Method = "percentile"
    """How the interval is read off the bootstrap distribution (rliable's default: percentile)."""
    task_bootstrap: bool = False
    """Resample tasks as well as runs (rliable's default: runs only, the tasks being fixed)."""
    seed: int = 0
    """Root of every random stream; non-negative."""

    def rng(self, *names: str) -> np.random.Generator:
        """The random stream of one (method, statistic) pair, independent of which others exist."""
        return np.random.default_rng([self.seed, *(zlib.crc32(name.encode()) for name in names)])

    def to_json(self) -> dict[str, Any]:
        return {
            "reps": self.reps,
            "profile_reps": self.profile_reps,
            "level": self.level,
            "method": self.method,
            "task_bootstrap": self.task_bootstrap,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class MethodAggregate:
    """One method's aggregates."""

    method: str
    """The method's name."""
    runs: int
    """Seeds (rows of its score matrix)."""
    mean: Estimate
    """Mean of the per-task mean scores."""
    median: Estimate
    """Median of the per-task mean scores."""
    iqm: Estimate
    """Interquartile mean of all seeds' scores on all tasks."""
    improvement: dict[str, Estimate] = field(default_factory=dict)
    """Reference method → P(this method > reference); a reference is absent for itself."""

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "runs": self.runs,
            "mean": self.mean.to_json(),
            "median": self.median.to_json(),
            "iqm": self.iqm.to_json(),
            "probability_of_improvement": {ref: est.to_json() for ref, est in self.improvement.items()},
        }


@dataclass(frozen=True)
class Profile:
    """Performance profiles (run-score distributions) of all methods on one threshold grid."""

    taus: np.ndarray
    """Thresholds, ascending."""
    fraction: dict[str, np.ndarray]
    """Method → fraction of its runs on all tasks scoring above each threshold."""
    low: dict[str, np.ndarray]
    """Method → lower ends of the pointwise confidence intervals."""
    high: dict[str, np.ndarray]
    """Method → upper ends of the pointwise confidence intervals."""

    def to_json(self) -> dict[str, Any]:
        return {
            "taus": self.taus.tolist(),
            "methods": {
                name: {
                    "fraction": _rounded(self.fraction[name]),
                    "low": _rounded(self.low[name]),
                    "high": _rounded(self.high[name]),
                }
                for name in self.fraction
            },
        }


@dataclass(frozen=True)
class Aggregate:
    """Everything ``aggregate.md|json|png`` shows."""

    methods: tuple[MethodAggregate, ...]
    """Per method, in the input's order."""
    tasks: tuple[str, ...]
    """Task names, in column order."""
    references: tuple[str, ...]
    """Reference methods that were present, in the order asked for."""
    profile: Profile
    """Performance profiles."""
    config: BootstrapConfig
    """How the intervals were computed."""
    notes: tuple[str, ...] = ()
    """Caveats to print with the results (missing references, seeds too few to resample)."""

    def by_name(self) -> dict[str, MethodAggregate]:
        return {m.method: m for m in self.methods}

    def to_json(self) -> dict[str, Any]:
        return {
            "estimators": "rliable's (Agarwal et al. 2021): stratified bootstrap over "
            + ("runs within tasks and over tasks" if self.config.task_bootstrap else "runs within tasks"),
            "config": self.config.to_json(),
            "tasks": list(self.tasks),
            "references": list(self.references),
            "methods": [m.to_json() for m in self.methods],
            "performance_profile": self.profile.to_json(),
            "notes": list(self.notes),
        }


def aggregate_scores(
    scores: Mapping[str, Any],
    references: Sequence[str] = REFERENCES,
    config: BootstrapConfig = BootstrapConfig(),
    tasks: Sequence[str] | None = None,
    taus: Sequence[float] | np.ndarray | None = None,
) -> Aggregate:
    """Aggregates of per-method (seeds, tasks) score matrices.

    ``references`` missing from ``scores`` are skipped with a note. ``tasks`` names the columns
    (default ``task0``, ``task1``, ...). ``taus`` is the performance-profile grid; by default
    ``PROFILE_POINTS`` evenly spaced thresholds from the lowest to the highest score of any method.
    """
    if not scores:
        raise ValueError("no methods to aggregate")
    matrices = {name: _matrix(name, value) for name, value in scores.items()}
    widths = {m.shape[1] for m in matrices.values()}
    if len(widths) != 1:
        raise ValueError(f"methods differ in their number of tasks: {sorted(widths)}")
    width = widths.pop()
    task_names = tuple(tasks) if tasks is not None else tuple(f"task{i}" for i in range(width))
    if len(task_names) != width:
        raise ValueError(f"{len(task_names)} task names for {width} score columns")

    notes = [
        f"reference method {ref!r} was not run: no P(X > {ref})" for ref in references if ref not in matrices
    ]
    present = tuple(ref for ref in references if ref in matrices)
    notes += _few_runs_notes(matrices, config.task_bootstrap)

    methods = tuple(_method_aggregate(name, matrices, present, config) for name in matrices)
    grid = _grid(matrices) if taus is None else np.sort(np.asarray(taus, dtype=float))
    return Aggregate(
        methods, task_names, present, performance_profile(matrices, grid, config), config, tuple(notes)
    )


def performance_profile(
    matrices: Mapping[str, np.ndarray], taus: np.ndarray, config: BootstrapConfig = BootstrapConfig()
) -> Profile:
    """Run-score distributions with pointwise stratified bootstrap intervals (``config.profile_reps``)."""
    fraction, low, high = {}, {}, {}
    for name, scores in matrices.items():

        def statistic(resampled: np.ndarray) -> np.ndarray:
            return estimators.score_distribution(resampled, taus)

        point = estimators.score_distribution(scores, taus)
        distribution = bootstrap_distribution(
            statistic,
            [scores],
            config.profile_reps,
            config.rng(name, "profile"),
            config.task_bootstrap,
            cost_per_rep=scores.size * len(taus),
        )
        fraction[name] = point
        low[name], high[name] = confidence_interval(distribution, point, config.level, config.method)
    return Profile(taus, fraction, low, high)


def _method_aggregate(
    name: str, matrices: Mapping[str, np.ndarray], references: Sequence[str], config: BootstrapConfig
) -> MethodAggregate:
    scores = matrices[name]

    def estimate(statistic_name: str) -> Estimate:
        statistic = getattr(estimators, statistic_name)
        return bootstrap_estimate(
            statistic,
            [scores],
            config.reps,
            config.rng(name, statistic_name),
            config.level,
            config.method,
            config.task_bootstrap,
        )

    improvement = {}
    for ref in references:
        if ref == name:
            continue
        other = matrices[ref]
        improvement[ref] = bootstrap_estimate(
            estimators.probability_of_improvement,
            [scores, other],
            config.reps,
            config.rng(name, "probability_of_improvement", ref),
            config.level,
            config.method,
            config.task_bootstrap,
            cost_per_rep=scores.shape[0] * other.shape[0] * scores.shape[1],
        )
    return MethodAggregate(
        name, scores.shape[0], estimate("mean"), estimate("median"), estimate("iqm"), improvement
    )


def _matrix(name: str, value: Any) -> np.ndarray:
    matrix = np.asarray(value, dtype=float)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise ValueError(
            f"{name}: scores must be a non-empty (seeds, tasks) matrix, not shape {matrix.shape}"
        )
    if not np.isfinite(matrix).all():
        raise ValueError(f"{name}: scores must be finite")
    return matrix


def _few_runs_notes(matrices: Mapping[str, np.ndarray], task_bootstrap: bool) -> list[str]:
    """Say where resampling seeds cannot show much: one seed gives a zero-width interval, and n seeds
    give each task only C(2n-1, n) distinct resamples."""
    counts = sorted({m.shape[0] for m in matrices.values()})
    notes = []
    single = [name for name, m in matrices.items() if m.shape[0] == 1]
    if single and not task_bootstrap:
        notes.append(
            f"one seed only ({', '.join(single)}): resampling seeds cannot vary, the CI is the point"
        )
    small = [n for n in counts if 1 < n < 5]
    if small:
        per_task = ", ".join(f"{n} seeds: {comb(2 * n - 1, n)}" for n in small)
        notes.append(
            f"few seeds ({per_task} distinct resamples per task): bootstrap CIs from so few seeds tend "
            "to be too narrow; read overlaps, not small differences"
        )
    return notes


def _rounded(values: np.ndarray, digits: int = 6) -> list[float]:
    """Fractions to six decimals: a profile has hundreds of them, and more digits are noise."""
    return np.round(values, digits).tolist()


def _grid(matrices: Mapping[str, np.ndarray]) -> np.ndarray:
    lowest = min(float(m.min()) for m in matrices.values())
    highest = max(float(m.max()) for m in matrices.values())
    return np.linspace(lowest, highest, PROFILE_POINTS)
