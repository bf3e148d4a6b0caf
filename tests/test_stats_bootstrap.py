"""Stratified bootstrap intervals: the resampling scheme, seeding, and agreement with the exact
bootstrap distribution of a case small enough to enumerate."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mtl_gym.stats import estimators
from mtl_gym.stats.bootstrap import (
    Estimate,
    bootstrap_distribution,
    bootstrap_estimate,
    confidence_interval,
    stratified_resample,
)

# 3 seeds x 2 tasks: small enough that all 27 x 27 = 729 equally likely stratified resamples can be listed.
SCORES = np.array([[0.0, 10.0], [1.0, 20.0], [5.0, 30.0]])


def exact_bootstrap_means() -> np.ndarray:
    """The mean of every stratified resample: each task's column redrawn from its own 3 seeds."""
    column_draws = list(itertools.product(range(3), repeat=3))
    return (
        np.array(
            [SCORES[list(a), 0].sum() + SCORES[list(b), 1].sum() for a in column_draws for b in column_draws]
        )
        / SCORES.size
    )


def test_resample_draws_each_task_from_its_own_column():
    resamples = stratified_resample(SCORES, 500, np.random.default_rng(0))
    assert resamples.shape == (500, 3, 2)
    assert set(np.unique(resamples[:, :, 0])) == {0.0, 1.0, 5.0}
    assert set(np.unique(resamples[:, :, 1])) == {10.0, 20.0, 30.0}
    # Runs are drawn independently per task: the two columns do not always pick the same seed.
    picks0 = np.searchsorted([0.0, 1.0, 5.0], resamples[:, :, 0])
    picks1 = np.searchsorted([10.0, 20.0, 30.0], resamples[:, :, 1])
    assert (picks0 != picks1).any()


def test_task_bootstrap_redraws_tasks_too():
    distribution = bootstrap_distribution(
        lambda s: s[..., 0, :], [np.array([[0.0, 1.0]])], 200, np.random.default_rng(0), task_bootstrap=True
    )
    # One seed: without the task bootstrap every resample is [0, 1]; with it, [0, 0] and [1, 1] occur.
    rows = {tuple(row) for row in distribution}
    assert {(0.0, 0.0), (1.0, 1.0)} <= rows


def test_percentile_interval_matches_exact_bootstrap_distribution():
    exact = exact_bootstrap_means()
    estimate = bootstrap_estimate(estimators.mean, [SCORES], 20_000, np.random.default_rng(1))
    assert estimate.point == pytest.approx(SCORES.mean())
    assert estimate.low <= estimate.point <= estimate.high
    # Monte Carlo quantiles from 20,000 draws fall within the exact 1.5-3.5% and 96.5-98.5% quantiles.
    assert np.quantile(exact, 0.015) <= estimate.low <= np.quantile(exact, 0.035)
    assert np.quantile(exact, 0.965) <= estimate.high <= np.quantile(exact, 0.985)


def test_same_seed_same_interval_other_seed_close():
    first = bootstrap_estimate(estimators.iqm, [SCORES], 5_000, np.random.default_rng(7))
    again = bootstrap_estimate(estimators.iqm, [SCORES], 5_000, np.random.default_rng(7))
    other = bootstrap_estimate(estimators.iqm, [SCORES], 5_000, np.random.default_rng(8))
    assert first == again
    assert other.low == pytest.approx(first.low, abs=1.0)
    assert other.high == pytest.approx(first.high, abs=1.0)


def test_blocks_do_not_change_the_statistic_distribution():
    # Tiny blocks (one resample each) and one big block give the same distribution in law.
    small = bootstrap_distribution(
        estimators.mean, [SCORES], 4_000, np.random.default_rng(3), cost_per_rep=1 << 30
    )
    large = bootstrap_distribution(estimators.mean, [SCORES], 4_000, np.random.default_rng(3))
    assert small.shape == large.shape == (4_000,)
    assert small.mean() == pytest.approx(large.mean(), abs=0.2)


def test_probability_of_improvement_interval_resamples_each_matrix():
    x = SCORES + 0.5
    estimate = bootstrap_estimate(
        estimators.probability_of_improvement, [x, SCORES], 2_000, np.random.default_rng(0)
    )
    assert 0.0 <= estimate.low <= estimate.point <= estimate.high <= 1.0
    assert estimate.point == pytest.approx(estimators.probability_of_improvement(x, SCORES))


def test_basic_interval_reflects_the_percentile_one():
    distribution = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    low, high = confidence_interval(distribution, 2.0, 0.5, "percentile")
    assert (low, high) == (1.0, 3.0)
    low, high = confidence_interval(distribution, 2.0, 0.5, "basic")
    assert (low, high) == (1.0, 3.0)
    low, high = confidence_interval(distribution, 4.0, 0.5, "basic")
    assert (low, high) == (5.0, 7.0)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="level"):
        confidence_interval(np.zeros(3), 0.0, 1.5)
    with pytest.raises(ValueError, match="method"):
        confidence_interval(np.zeros(3), 0.0, 0.9, "bca")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tasks"):
        bootstrap_distribution(
            estimators.probability_of_improvement, [SCORES, SCORES[:, :1]], 10, np.random.default_rng()
        )
    with pytest.raises(ValueError, match="matrix"):
        bootstrap_distribution(estimators.mean, [np.zeros(3)], 10, np.random.default_rng())


def test_estimate_overlap():
    assert Estimate(1.0, 0.0, 2.0).overlaps(Estimate(3.0, 2.0, 4.0))
    assert not Estimate(1.0, 0.0, 1.9).overlaps(Estimate(3.0, 2.0, 4.0))
