"""The rliable estimators (Agarwal et al. 2021) on small matrices worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_gym.stats import estimators

# 2 seeds x 4 tasks. Pooled and sorted: 1 2 3 4 5 6 7 100. The IQM cuts int(0.25 * 8) = 2 scores from
# each end, keeping 3 4 5 6: IQM = 18 / 4 = 4.5. Mean of all 8: 128 / 8 = 16. Per-task means over the
# seeds: 2.5 3.5 4.5 53.5, whose median is (3.5 + 4.5) / 2 = 4.0.
SCORES = np.array([[1.0, 2.0, 3.0, 100.0], [4.0, 5.0, 6.0, 7.0]])


def test_mean_median_iqm_by_hand():
    assert estimators.mean(SCORES) == pytest.approx(16.0)
    assert estimators.median(SCORES) == pytest.approx(4.0)
    assert estimators.iqm(SCORES) == pytest.approx(4.5)


def test_iqm_ignores_one_outlying_seed_the_mean_does_not():
    calm = SCORES.copy()
    calm[0, 3] = 8.0  # pooled: 1..8, IQM keeps 3 4 5 6 again
    assert estimators.iqm(calm) == pytest.approx(4.5)
    assert estimators.mean(calm) == pytest.approx(36 / 8)


def test_iqm_of_fewer_than_four_scores_is_the_mean():
    # int(0.25 * 3) = 0: nothing is cut.
    assert estimators.iqm(np.array([[1.0, 2.0, 9.0]])) == pytest.approx(4.0)


def test_estimators_are_batched_over_leading_axes():
    stack = np.stack([SCORES, SCORES + 1.0])
    np.testing.assert_allclose(estimators.iqm(stack), [4.5, 5.5])
    np.testing.assert_allclose(estimators.mean(stack), [16.0, 17.0])
    np.testing.assert_allclose(estimators.median(stack), [4.0, 5.0])


def test_probability_of_improvement_two_by_two_by_hand():
    # Task 0: X {1, 3} vs Y {2, 2}: 1 loses twice, 3 wins twice -> 2/4 = 0.5.
    # Task 1: X {5, 5} vs Y {5, 4}: each 5 ties the 5 (1/2) and beats the 4 (1) -> 3/4 = 0.75.
    # Average over the two tasks: 0.625.
    x = np.array([[1.0, 5.0], [3.0, 5.0]])
    y = np.array([[2.0, 5.0], [2.0, 4.0]])
    assert estimators.probability_of_improvement(x, y) == pytest.approx(0.625)
    # P(Y > X) is the complement, ties being split evenly.
    assert estimators.probability_of_improvement(y, x) == pytest.approx(0.375)


def test_probability_of_improvement_of_identical_scores_is_one_half():
    assert estimators.probability_of_improvement(SCORES, SCORES) == pytest.approx(0.5)


def test_probability_of_improvement_with_different_seed_counts():
    # One task. X {3} vs Y {1, 3, 5}: win, tie, loss -> (1 + 0.5 + 0) / 3 = 0.5.
    assert estimators.probability_of_improvement(np.array([[3.0]]), np.array([[1.0], [3.0], [5.0]])) == 0.5


def test_score_distribution_by_hand():
    # 8 scores: above 0 all 8, above 4 (strictly) 5 6 7 100 -> 4/8, above 100 none.
    np.testing.assert_allclose(
        estimators.score_distribution(SCORES, np.array([0.0, 4.0, 100.0])), [1.0, 0.5, 0.0]
    )
    # Per-task means 2.5 3.5 4.5 53.5: above 4 two of four.
    np.testing.assert_allclose(estimators.average_score_distribution(SCORES, np.array([4.0])), [0.5])
