"""aggregate_scores on a fixed synthetic score matrix, the aggregate.md|json|png files, and the
ranking caveat."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mtl_gym.stats import (
    BootstrapConfig,
    Estimate,
    aggregate_scores,
    ranking_caveat,
    render_markdown,
    write_aggregate,
)

# 2 seeds x 3 tasks, accuracies in %.
#   uniform: pooled 60 61 62 63 64 65 -> cut int(0.25 * 6) = 1 each end -> IQM (61+62+63+64)/4 = 62.5
#   random:  every cell 2 points above uniform -> IQM 64.5. Per task, random {a+2, a+3} vs uniform
#            {a, a+1} (a = 60, 62, 64): all 4 pairs are wins -> P(random > uniform) = 1.
UNIFORM = np.array([[60.0, 62.0, 64.0], [61.0, 63.0, 65.0]])
RANDOM = UNIFORM + 2.0
EQUAL = np.array([[61.0, 62.0, 64.0], [61.0, 63.0, 64.0]])
# P(uniform > equal): task 0 {60, 61} vs {61, 61}: 60 loses twice, 61 ties twice -> 1/4.
#                     task 1 {62, 63} vs {62, 63}: identical -> 1/2.
#                     task 2 {64, 65} vs {64, 64}: 64 ties twice, 65 wins twice -> 3/4.
#                     mean (1/4 + 1/2 + 3/4) / 3 = 1/2.
FAST = BootstrapConfig(reps=2_000, profile_reps=300, seed=3)


def test_fixed_matrix_point_estimates_by_hand():
    aggregate = aggregate_scores({"uniform": UNIFORM, "random": RANDOM, "equal": EQUAL}, config=FAST)
    methods = aggregate.by_name()
    assert methods["uniform"].iqm.point == pytest.approx(62.5)
    assert methods["random"].iqm.point == pytest.approx(64.5)
    assert methods["uniform"].mean.point == pytest.approx(62.5)
    assert methods["uniform"].median.point == pytest.approx(62.5)  # task means 60.5 62.5 64.5
    assert methods["random"].improvement["uniform"].point == pytest.approx(1.0)
    assert methods["uniform"].improvement["equal"].point == pytest.approx(0.5)
    assert "uniform" not in methods["uniform"].improvement
    assert aggregate.references == ("uniform", "equal")
    for m in aggregate.methods:
        for estimate in (m.mean, m.median, m.iqm, *m.improvement.values()):
            assert estimate.low <= estimate.point <= estimate.high


def test_fixed_matrix_interval_by_hand_within_tolerance():
    # uniform's mean: each task column is {a, a + 1}; a stratified resample draws each of its 2 cells
    # from it, so the column's mean is a + k/2 with k ~ Binomial(2, 1/2). Over the three tasks the mean
    # is (60 + 62 + 64) / 3 + K/6 = 62 + K/6 with K ~ Binomial(6, 1/2): P(K = 0) = P(K = 6) = 1/64 is
    # under 2.5% and P(K <= 1) = 7/64 is over it, so the 95% percentile interval is [62 + 1/6, 63 - 1/6]
    # (exactly, since numpy interpolates between two equal order statistics there).
    aggregate = aggregate_scores({"uniform": UNIFORM}, config=BootstrapConfig(reps=20_000, seed=0))
    mean = aggregate.by_name()["uniform"].mean
    assert mean.low == pytest.approx(62.0 + 1 / 6, abs=1e-9)
    assert mean.high == pytest.approx(63.0 - 1 / 6, abs=1e-9)


def test_same_seed_reproduces_and_does_not_depend_on_other_methods():
    alone = aggregate_scores({"uniform": UNIFORM, "random": RANDOM}, config=FAST).by_name()["random"]
    crowd = aggregate_scores({"equal": EQUAL, "uniform": UNIFORM, "random": RANDOM}, config=FAST).by_name()
    assert crowd["random"].iqm == alone.iqm
    assert crowd["random"].improvement["uniform"] == alone.improvement["uniform"]


def test_missing_reference_is_skipped_with_a_note():
    aggregate = aggregate_scores({"uniform": UNIFORM, "random": RANDOM}, config=FAST)
    assert aggregate.references == ("uniform",)
    assert set(aggregate.by_name()["random"].improvement) == {"uniform"}
    assert any("'equal'" in note for note in aggregate.notes)
    assert any("few seeds" in note for note in aggregate.notes)


def test_performance_profile():
    aggregate = aggregate_scores({"uniform": UNIFORM}, config=FAST, taus=[59.0, 62.5, 70.0])
    profile = aggregate.profile
    np.testing.assert_allclose(profile.fraction["uniform"], [1.0, 0.5, 0.0])
    assert (profile.low["uniform"] <= profile.fraction["uniform"]).all()
    assert (profile.fraction["uniform"] <= profile.high["uniform"]).all()
    default = aggregate_scores({"uniform": UNIFORM}, config=FAST).profile.taus
    assert default[0] == 60.0 and default[-1] == 65.0


def test_inputs_are_checked():
    with pytest.raises(ValueError, match="number of tasks"):
        aggregate_scores({"a": UNIFORM, "b": UNIFORM[:, :2]}, config=FAST)
    with pytest.raises(ValueError, match="finite"):
        aggregate_scores({"a": UNIFORM * np.nan}, config=FAST)
    with pytest.raises(ValueError, match="task names"):
        aggregate_scores({"a": UNIFORM}, config=FAST, tasks=["x"])


def test_write_aggregate_files(tmp_path):
    aggregate = aggregate_scores(
        {"uniform": UNIFORM, "random": RANDOM, "equal": EQUAL}, config=FAST, tasks=["pos", "ner", "chunk"]
    )
    paths = write_aggregate(aggregate, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "aggregate.json",
        "aggregate.md",
        "aggregate.png",
    ]
    markdown = paths["md"].read_text()
    assert markdown == render_markdown(aggregate)
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert (
        rows[0].startswith("| method | seeds |") and "P(X > uniform)" in rows[0] and "P(X > equal)" in rows[0]
    )
    assert rows[1].startswith("| random | 2 |")  # best IQM first
    assert "| uniform | 2 | 62.5 [" in markdown
    document = json.loads(paths["json"].read_text())
    assert document["tasks"] == ["pos", "ner", "chunk"]
    assert document["config"]["reps"] == 2_000
    random = next(m for m in document["methods"] if m["method"] == "random")
    assert random["iqm"]["point"] == pytest.approx(64.5)
    assert set(random["probability_of_improvement"]) == {"uniform", "equal"}
    assert len(document["performance_profile"]["methods"]["equal"]["fraction"]) == len(
        document["performance_profile"]["taus"]
    )
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ranking_caveat_warns_when_leaders_overlap():
    seeds = {"random": 2, "uniform": 2, "qls": 3}
    intervals = {
        "random": Estimate(64.0, 61.0, 66.0),
        "uniform": Estimate(62.0, 60.0, 63.0),
        "qls": Estimate(50.0, 48.0, 52.0),
    }
    caveat = ranking_caveat(["random", "uniform", "qls"], seeds, intervals)
    assert caveat.overlapping == ("random", "uniform")
    assert (caveat.seeds_min, caveat.seeds_max) == (2, 3)
    assert "2–3 seeds" in caveat.text
    assert "95% CIs" in caveat.text and "not evidence of a difference" in caveat.text


def test_ranking_caveat_states_seeds_without_warning_when_separated():
    seeds = {"random": 3, "qls": 3}
    intervals = {"random": Estimate(64.0, 63.0, 65.0), "qls": Estimate(50.0, 48.0, 52.0)}
    caveat = ranking_caveat(["random", "qls"], seeds, intervals)
    assert caveat.overlapping == ()
    assert caveat.text == "Win rates are computed from per-task means over 3 seeds per method."
    with pytest.raises(ValueError, match="seed count"):
        ranking_caveat(["random", "other"], seeds, intervals)
