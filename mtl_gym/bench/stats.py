"""Summary statistics for results over seeds: mean and the half-width of a 95% confidence interval."""

from __future__ import annotations

import math
import statistics

# Two-sided 95% quantiles of Student's t by degrees of freedom; the normal 1.96 beyond 30.
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    25: 2.060,
    30: 2.042,
}


def t95(degrees_of_freedom: int) -> float:
    """The t quantile for ``degrees_of_freedom``, rounded down to the nearest tabled value (conservative)."""
    if degrees_of_freedom < 1:
        raise ValueError("a confidence interval needs at least two values")
    if degrees_of_freedom > 30:
        return 1.96
    return _T95[max(d for d in _T95 if d <= degrees_of_freedom)]


def mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and 95% CI half-width (t-distribution over seeds); the half-width is NaN for one value."""
    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, math.nan
    return mean, t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))


def format_ci(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    mean, half = mean_ci(values)
    if math.isnan(half):
        return f"{mean * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} ± {half * scale:.{digits}f}"
