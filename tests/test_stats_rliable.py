"""mtl_gym.stats against rliable itself (the optional ``stats`` extra) on a fixed input.

Point estimates must agree exactly. Bootstrap intervals agree only in law: rliable draws its resample
indices from numpy's global random state and ours come from a seeded Generator, so the ends are
compared within a tolerance of a tenth of the interval's width: at 5,000 resamples each end's Monte
Carlo error is about 4% of the bootstrap standard deviation (1% of a 95% interval's width), so the
tolerance is several standard errors wide yet far below any difference in definition.
"""

from __future__ import annotations

import numpy as np
import pytest

rliable_library = pytest.importorskip("rliable.library")
rliable_metrics = pytest.importorskip("rliable.metrics")

from mtl_gym.stats import BootstrapConfig, aggregate_scores, bootstrap_estimate, estimators  # noqa: E402

RNG = np.random.default_rng(2021)
SCORES = {
    "uniform": 60.0 + 4.0 * RNG.standard_normal((5, 4)),
    "equal": 61.0 + 4.0 * RNG.standard_normal((5, 4)),
    "qls": 62.0 + 6.0 * RNG.standard_normal((5, 4)),
}
SCORES["qls"][0, 0] = SCORES["uniform"][0, 0]  # a tie, counted one half by both
TAUS = np.linspace(50.0, 75.0, 11)
REPS = 5_000


def rliable_interval(func, scores, task_bootstrap: bool = False) -> tuple[float, float, float]:
    np.random.seed(0)  # rliable resamples from numpy's global state
    points, intervals = rliable_library.get_interval_estimates(
        {"m": scores}, lambda x: np.array([func(x)]), reps=REPS, task_bootstrap=task_bootstrap
    )
    return float(points["m"][0]), float(intervals["m"][0, 0]), float(intervals["m"][1, 0])


def assert_close(ours, theirs, width: float) -> None:
    assert ours.point == pytest.approx(theirs[0], rel=1e-12)
    assert ours.low == pytest.approx(theirs[1], abs=0.1 * width)
    assert ours.high == pytest.approx(theirs[2], abs=0.1 * width)


@pytest.mark.parametrize(
    ("task_bootstrap", "fields"), [(False, ("mean", "median", "iqm")), (True, ("mean", "iqm"))]
)
def test_aggregates_match_rliable(task_bootstrap, fields):
    ours = aggregate_scores(
        SCORES, config=BootstrapConfig(reps=REPS, profile_reps=10, task_bootstrap=task_bootstrap), taus=TAUS
    ).by_name()
    for name in ("uniform", "qls"):
        scores = SCORES[name]
        for field in fields:
            theirs = rliable_interval(getattr(rliable_metrics, f"aggregate_{field}"), scores, task_bootstrap)
            assert_close(getattr(ours[name], field), theirs, theirs[2] - theirs[1])


def test_probability_of_improvement_matches_rliable():
    x, y = SCORES["qls"], SCORES["uniform"]
    assert estimators.probability_of_improvement(x, y) == pytest.approx(
        rliable_metrics.probability_of_improvement(x, y), abs=1e-12
    )
    np.random.seed(0)
    points, intervals = rliable_library.get_interval_estimates(
        {"qls,uniform": (x, y)}, rliable_metrics.probability_of_improvement, reps=500
    )
    estimate = bootstrap_estimate(
        estimators.probability_of_improvement, [x, y], 20_000, np.random.default_rng(0)
    )
    assert estimate.point == pytest.approx(float(np.ravel(points["qls,uniform"])[0]), abs=1e-12)
    # 500 rliable resamples (it runs a Mann-Whitney test per task per resample, slowly): an absolute
    # tolerance about 4 Monte Carlo standard errors wide.
    assert estimate.low == pytest.approx(float(np.ravel(intervals["qls,uniform"])[0]), abs=0.05)
    assert estimate.high == pytest.approx(float(np.ravel(intervals["qls,uniform"])[1]), abs=0.05)


def test_performance_profiles_match_rliable():
    np.random.seed(0)
    profiles, cis = rliable_library.create_performance_profile(SCORES, TAUS, reps=2_000)
    ours = aggregate_scores(SCORES, config=BootstrapConfig(reps=100, profile_reps=2_000), taus=TAUS).profile
    for name in SCORES:
        np.testing.assert_allclose(ours.fraction[name], profiles[name], atol=1e-12)
        np.testing.assert_allclose(ours.low[name], cis[name][0], atol=0.06)
        np.testing.assert_allclose(ours.high[name], cis[name][1], atol=0.06)
    # The average-score variant too (points only).
    for scores in SCORES.values():
        np.testing.assert_allclose(
            estimators.average_score_distribution(scores, TAUS),
            rliable_library.average_score_distributions(scores, TAUS),
            atol=1e-12,
        )
