"""Point estimators of aggregate performance over a (runs, tasks) score matrix.

The definitions are those of rliable (Agarwal et al. 2021, "Deep Reinforcement Learning at the Edge of
the Statistical Precipice", NeurIPS), reimplemented here on numpy and scipy: with 2-5 seeds a mean
over seeds is dominated by one lucky or unlucky run, and the paper's remedy is to pool all runs of all
tasks and report robust aggregates with bootstrap confidence intervals.

Every estimator takes arrays whose last two axes are (runs, tasks) and reduces those two, so that a
stack of bootstrap resamples of shape (reps, runs, tasks) is evaluated in one vectorised call.
"""

from __future__ import annotations

import numpy as np
import scipy.stats

IQM_TRIM = 0.25
"""Fraction cut from each end of the pooled scores: the interquartile mean keeps the middle 50%."""


def mean(scores: np.ndarray) -> np.ndarray:
    """Mean over tasks of the per-task mean over runs (equal to the mean of all cells, runs being
    equal in number per task); rliable's ``aggregate_mean``."""
    return np.asarray(scores, dtype=float).mean(axis=(-2, -1))


def median(scores: np.ndarray) -> np.ndarray:
    """Median over tasks of the per-task mean over runs; rliable's ``aggregate_median``."""
    return np.median(np.asarray(scores, dtype=float).mean(axis=-2), axis=-1)


def iqm(scores: np.ndarray) -> np.ndarray:
    """Interquartile mean of all runs of all tasks pooled; rliable's ``aggregate_iqm``.

    scipy's ``trim_mean`` cuts ``int(0.25 * n)`` scores from each end of the ``n`` pooled scores (it
    rounds the cut down, so with fewer than 4 scores nothing is cut and the IQM is the mean). Unlike
    the median it uses half the data, and unlike the mean one outlying seed cannot move it far.
    """
    scores = np.asarray(scores, dtype=float)
    pooled = scores.reshape(*scores.shape[:-2], -1)
    return np.asarray(scipy.stats.trim_mean(pooled, IQM_TRIM, axis=-1))


def probability_of_improvement(scores_x: np.ndarray, scores_y: np.ndarray) -> np.ndarray:
    """P(X > Y): per task, the chance that a random run of X scores above a random run of Y, ties
    counting one half (the Mann-Whitney U statistic over ``runs_x * runs_y``), averaged over tasks.

    rliable's ``probability_of_improvement``. It answers "how likely is X to beat Y on a new run of a
    task" rather than "by how much", so one task with a huge margin cannot carry the comparison.
    ``scores_x`` and ``scores_y`` may differ in runs but not in tasks (nor in leading axes).
    """
    x = np.asarray(scores_x, dtype=float)[..., :, None, :]
    y = np.asarray(scores_y, dtype=float)[..., None, :, :]
    per_task = (x > y).mean(axis=(-3, -2)) + 0.5 * (x == y).mean(axis=(-3, -2))
    return per_task.mean(axis=-1)


def score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Performance profile: for each threshold in ``taus``, the fraction of all runs of all tasks
    that score strictly above it; rliable's run-score distribution (its ``score_distributions``).

    A whole curve rather than one number: two methods whose means tie can differ in how often they
    fail badly, and where one profile lies above another everywhere, it is better at every threshold.
    Returns an array of shape ``(..., len(taus))``.
    """
    scores = np.asarray(scores, dtype=float)
    taus = np.asarray(taus, dtype=float)
    return (scores[..., None] > taus).mean(axis=(-3, -2))


def average_score_distribution(scores: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """As ``score_distribution`` but over per-task means (runs averaged first); rliable's
    ``average_score_distributions``, which the paper finds has higher variance than the run-score
    distribution. Returns an array of shape ``(..., len(taus))``."""
    task_means = np.asarray(scores, dtype=float).mean(axis=-2)
    return (task_means[..., None] > np.asarray(taus, dtype=float)).mean(axis=-2)
