"""Headroom: suite variants, paired statistics, the lookahead oracle and ``mtl-gym headroom`` on a
suite whose answer is known (a target task next to a pure-noise auxiliary)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mtl_gym.bench.headroom import HeadroomConfig, measure_headroom
from mtl_gym.cli import main
from mtl_gym.data import DataError, load_suite
from mtl_gym.data.variants import VariantConfig
from mtl_gym.methods import run_method
from mtl_gym.stats import paired_difference

MODEL = {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}
KNOWN = {
    "domains": [
        {"name": "target", "train_size": 300, "difficulty": 0.3, "label_noise": 0.0},
        {"name": "noise", "train_size": 300, "difficulty": 0.3, "label_noise": 0.5},
    ],
    "dev_size": 100,
    "test_size": 200,
    "max_len": 24,
}
"""Domains given as JSON objects, as ``--option domains=[{...}]`` gives them. The noise domain's train
and dev labels are coin flips: every minibatch of it is wasted for the target."""


def test_paired_difference_matches_a_direct_bootstrap():
    x, y = np.array([0.71, 0.64, 0.69, 0.75]), np.array([0.70, 0.60, 0.66, 0.74])
    estimate = paired_difference(x, y, reps=2000, seed=3)
    differences = x - y
    draws = np.random.default_rng(3).integers(0, 4, size=(2000, 4, 1))
    means = differences[:, None][draws, 0].mean(axis=(1, 2))
    assert estimate.point == pytest.approx(differences.mean())
    assert (estimate.low, estimate.high) == pytest.approx(tuple(np.percentile(means, [2.5, 97.5])))
    # Pairing resolves a consistent +0.025 that the marginal spreads (5 to 6 points) hide.
    assert estimate.low > 0
    with pytest.raises(ValueError, match="one value per seed"):
        paired_difference([0.1, 0.2], [0.1])


def test_variants_are_seeded_and_count_what_they_change():
    variant = {"imbalance": 1.0, "min_train": 30, "label_noise": {"kitchen": 0.4}, "seed": 5}
    first, again = (load_suite("synthetic", variant=variant) for _ in range(2))
    assert [len(t.train) for t in first] == [120, 60, 40, 30]  # n_max = 120 (toys), n / (i + 1)
    for a, b in zip(first, again, strict=True):
        assert a.train.tokens.equal(b.train.tokens) and a.train.labels.equal(b.train.labels)
    clean = load_suite("synthetic", variant={"imbalance": 1.0, "min_train": 30, "seed": 5})
    kitchen, clean_kitchen = first[2], clean[2]
    flipped = (kitchen.train.labels != clean_kitchen.train.labels).float().mean()
    assert 0.2 < flipped < 0.6 and kitchen.test.labels.equal(clean_kitchen.test.labels)
    assert kitchen.counts["variant_label_noise_percent"] == 40
    other = load_suite("synthetic", variant={**variant, "seed": 6})
    assert not other[2].train.labels.equal(kitchen.train.labels)
    subset = load_suite("synthetic", variant={"tasks": ["toys", "books"]})
    assert subset.names == ["toys", "books"]


@pytest.mark.parametrize(
    "variant, error, message",
    [
        (
            {"label_noise": {"kitchen": 1.5}},
            ValueError,
            r"label_noise\['kitchen'\] must be a rate in \[0, 1\]",
        ),
        ({"label_noise": {"garden": 0.1}}, DataError, r"unknown task\(s\) \['garden'\]"),
        ({"train_sizes": {"toys": 0}}, ValueError, "must be a positive integer"),
        ({"imbalnce": 1.0}, ValueError, r"unknown option\(s\) \['imbalnce'\]"),
    ],
)
def test_bad_variants_fail_before_training_naming_the_option(variant, error, message):
    with pytest.raises(error, match=message):
        load_suite("synthetic", variant=variant)


def test_named_suites_carry_their_objective_and_real_data_variants_build(data_dir):
    noisy = load_suite("fsmtl-noisy-aux", data_dir, max_len=32)
    assert (
        noisy.names == ["apparel", "baby", "books"] and noisy[1].counts["variant_label_noise_percent"] == 45
    )
    assert HeadroomConfig(suite="fsmtl-noisy-aux").resolved_objective == "target:apparel"
    assert HeadroomConfig(suite="ner-target").resolved_objective == "target:ner"
    assert VariantConfig.of({"imbalance": 1.0}).changes_anything


def test_lookahead_trains_the_target_and_charges_only_what_it_commits():
    suite = load_suite("synthetic", **KNOWN)
    result = run_method(
        "lookahead:k=10", suite, 100, 0, model=MODEL, env_config={"objective": "target:target"}, evaluations=1
    )
    assert result.budget == 100 and sum(result.action_counts.values()) == 100
    assert result.action_counts["target"] > result.action_counts["noise"]


def known_headroom(**settings) -> HeadroomConfig:
    """A headroom measurement of the KNOWN suite under its target objective, 120 minibatches a run."""
    return HeadroomConfig(
        **{
            "suite": "synthetic",
            "suite_options": KNOWN,
            "model": MODEL,
            "objective": "target:target",
            "budget": 120,
        }
        | settings
    )


def test_headroom_finds_the_known_answer_and_resumes(tmp_path):
    config = known_headroom(seeds=3, trials=6, lookahead_k=20)
    report = measure_headroom(config, tmp_path, progress=False)
    shares = report["best_static"]["weights"]
    assert shares["noise"] < 0.35 < shares["target"]
    assert report["static_headroom"]["mean"] > 0
    # Lookahead is greedy on 100 noisy dev examples of a model that barely learns in 120 steps: its
    # sign is not known here, only that it ran on every seed and its interval holds its mean.
    assert len(report["lookahead"]["test_per_seed"]) == 3
    for key in ("static_headroom", "dynamic_headroom"):
        assert report[key]["ci_low"] <= report[key]["mean"] <= report[key]["ci_high"]
    assert (
        (tmp_path / "headroom.md").read_text().startswith("# Headroom of synthetic (objective target:target)")
    )
    # A rerun trains nothing: every run is a saved trial.
    runs = sorted(p.name for p in (tmp_path / "trials").iterdir())
    again = measure_headroom(config, tmp_path, progress=False)
    assert sorted(p.name for p in (tmp_path / "trials").iterdir()) == runs
    assert again["static_headroom"] == report["static_headroom"]


def test_the_target_alone_is_a_static_candidate_under_a_target_objective(tmp_path):
    """With one searched mixture (uniform's weights), the static oracle still finds the known answer,
    training the target alone: a corner that weights in [min_weight, 1] cannot reach."""
    report = measure_headroom(
        known_headroom(seeds=2, trials=1, lookahead_k=0), tmp_path / "target", progress=False
    )
    assert report["best_static"]["weights"] == {"target": 1.0, "noise": 0.0}
    assert report["static_headroom"]["mean"] > 0
    mean = measure_headroom(
        known_headroom(seeds=2, trials=1, lookahead_k=0, objective="mean"), tmp_path / "mean", progress=False
    )
    assert not list((tmp_path / "mean" / "trials").glob("single*"))
    assert set(mean["best_static"]["weights"].values()) == {0.5}


def test_headroom_cli_prints_one_json_document(tmp_path, capsys):
    arguments = [
        "headroom", "--out", str(tmp_path), "--json",
        "--suite", "synthetic", "--option", f"domains={json.dumps(KNOWN['domains'])}",
        "--option", "dev_size=60", "--option", "test_size=60", "--option", "max_len=24",
        "--model", "cnn", "--model-option", "embedding_dim=16", "--model-option", "hidden_dim=16",
        "--budget", "40", "--seeds", "2", "--trials", "2", "--lookahead-k", "0",
    ]  # fmt: skip
    main([*arguments, "--objective", "target:target"])
    report = json.loads(capsys.readouterr().out)
    assert {"uniform", "best_static", "static_headroom", "dynamic_headroom"} <= set(report)
    assert (
        set(report["static_headroom"]) >= {"mean", "ci_low", "ci_high"} and report["dynamic_headroom"] is None
    )
    with pytest.raises(SystemExit) as stopped:
        main([*arguments, "--objective", "target:toys"])
    error = capsys.readouterr().err
    assert stopped.value.code == 2 and error.count("\n") == 1 and "unknown task(s) ['toys']" in error
