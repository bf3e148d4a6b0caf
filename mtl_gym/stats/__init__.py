"""Few-seed statistics for benchmark tables: interquartile mean, stratified bootstrap confidence
intervals, probability of improvement and performance profiles, after rliable (Agarwal et al. 2021,
"Deep Reinforcement Learning at the Edge of the Statistical Precipice"), on numpy and scipy only.

Typical use: ``write_aggregate(aggregate_scores({"uniform": u, "equal": e, "qls": q}), out)`` with
each value a (seeds, tasks) matrix of scores.
"""

from .aggregate import REFERENCES, Aggregate, BootstrapConfig, MethodAggregate, Profile, aggregate_scores
from .bootstrap import (
    Estimate,
    bootstrap_distribution,
    bootstrap_estimate,
    confidence_interval,
    paired_difference,
)
from .caveat import RankingCaveat, ranking_caveat
from .estimators import (
    average_score_distribution,
    iqm,
    mean,
    median,
    probability_of_improvement,
    score_distribution,
)
from .report import plot_aggregate, render_markdown, write_aggregate

__all__ = [
    "REFERENCES",
    "Aggregate",
    "BootstrapConfig",
    "Estimate",
    "MethodAggregate",
    "Profile",
    "RankingCaveat",
    "aggregate_scores",
    "average_score_distribution",
    "bootstrap_distribution",
    "bootstrap_estimate",
    "confidence_interval",
    "iqm",
    "mean",
    "median",
    "paired_difference",
    "plot_aggregate",
    "probability_of_improvement",
    "ranking_caveat",
    "render_markdown",
    "score_distribution",
    "write_aggregate",
]
