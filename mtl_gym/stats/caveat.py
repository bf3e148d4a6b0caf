"""The caveat printed with a ranking's win rates.

A win rate ("random wins 99.1% of task weightings") is computed from per-task means, so it hides how
many seeds those means rest on: two methods whose confidence intervals overlap can still split the
wins 99:1. Agarwal et al. (2021) ask that comparisons from few runs carry their uncertainty; this
module says how many seeds the ranking used and warns when the leaders are not separated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .bootstrap import Estimate


@dataclass(frozen=True)
class RankingCaveat:
    """What the ranking's reader should know about its evidence."""

    seeds_min: int
    """Fewest seeds behind any ranked method."""
    seeds_max: int
    """Most seeds behind any ranked method."""
    overlapping: tuple[str, ...]
    """Leaders whose intervals overlap the top method's, the top method first; empty if separated."""
    text: str
    """One Markdown paragraph to print under the ranking."""


def ranking_caveat(
    order: Sequence[str],
    seeds: Mapping[str, int],
    intervals: Mapping[str, Estimate],
    leaders: int = 2,
    level: float = 0.95,
    statistic: str = "IQM",
) -> RankingCaveat:
    """The caveat for a ranking whose methods, best first, are ``order``.

    ``seeds``: per method, its seed count. ``intervals``: per method, the estimate whose CI decides
    whether the leaders differ (e.g. ``MethodAggregate.iqm``); methods without one are left out of the
    check. The ``leaders`` first methods of ``order`` are checked against the top one: any whose
    interval overlaps the top method's is named in the warning.
    """
    if not order:
        raise ValueError("an empty ranking has no caveat")
    missing = [name for name in order if name not in seeds]
    if missing:
        raise ValueError(f"no seed count for {', '.join(missing)}")
    counts = [seeds[name] for name in order]
    low, high = min(counts), max(counts)
    seed_text = f"{low} seed{'s' if low != 1 else ''}" if low == high else f"{low}–{high} seeds"
    text = f"Win rates are computed from per-task means over {seed_text} per method."

    top = order[0]
    overlapping: tuple[str, ...] = ()
    if top in intervals:
        rivals = [
            name
            for name in order[1:leaders]
            if name in intervals and intervals[name].overlaps(intervals[top])
        ]
        if rivals:
            overlapping = (top, *rivals)
    if overlapping:
        shown = "; ".join(
            f"{name} [{intervals[name].low:.3g}, {intervals[name].high:.3g}]" for name in overlapping
        )
        text += (
            f" **Caveat:** the leaders' {100 * level:g}% CIs of the {statistic} overlap ({shown}): "
            f"win rates from {seed_text} are not evidence of a difference between them."
        )
    return RankingCaveat(low, high, overlapping, text)
