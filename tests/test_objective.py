"""Objectives: parsing and its errors, the reductions, and their use in the env's reward and
penalty and in the bench's lr selection."""

from __future__ import annotations

import numpy as np
import pytest

from mtl_gym.bench.tables import AVERAGE, summarise
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.env.observation import below_reference, loss_reward
from mtl_gym.objective import Objective, ObjectiveError, bind_objective

NAMES = ["a", "b", "c"]


def test_objectives_parse_round_trip_and_reduce_as_documented():
    for text in ("mean", "worst", "target:b", 'weighted:{"a":2.0,"c":1.0}'):
        assert Objective.parse(Objective.parse(text).text).text == text
    scores = np.array([[0.9, 0.5, 0.7], [0.6, 0.8, 0.4]])
    assert bind_objective("mean", NAMES).score(scores) == pytest.approx([0.7, 0.6])
    assert bind_objective("target:b", NAMES).score(scores) == pytest.approx([0.5, 0.8])
    assert bind_objective("worst", NAMES).score(scores) == pytest.approx([0.5, 0.4])
    weighted = bind_objective('weighted:{"a": 2, "c": 1}', NAMES)
    assert weighted.score(scores) == pytest.approx([(2 * 0.9 + 0.7) / 3, (2 * 0.6 + 0.4) / 3])
    assert weighted.counts() == ["a", "c"]
    losses = {"a": 1.0, "b": 2.0, "c": 4.0}
    # Losses reduce on the scale of their sum: mean is exactly the sum, the others K x their mean.
    assert bind_objective("mean", NAMES).loss(losses) == 7.0
    assert bind_objective("target:c", NAMES).loss(losses) == pytest.approx(12.0)
    assert bind_objective("worst", NAMES).loss(losses) == pytest.approx(12.0)
    assert weighted.loss(losses) == pytest.approx(3 * (2 * 1.0 + 4.0) / 3)


@pytest.mark.parametrize(
    "text, message",
    [
        ("target:zz", r"names unknown task\(s\) \['zz'\]"),
        ('weighted:{"a": -1}', "negative weight"),
        ('weighted:{"a": 0, "b": 0}', "every weight is 0"),
        ("weighted:a=2", "needs a JSON map"),
        ("target", "needs a task"),
        ("best", "unknown objective 'best'"),
    ],
)
def test_bad_objectives_fail_with_one_line_naming_them(text, message):
    with pytest.raises(ObjectiveError, match=message):
        bind_objective(text, NAMES)


def test_env_config_rejects_a_malformed_objective_before_any_training():
    with pytest.raises(ValueError, match="unknown objective 'nope'"):
        EnvConfig(objective="nope")
    assert EnvConfig(objective=" target:toys ").objective == "target:toys"


def test_reward_and_penalty_follow_the_objective():
    losses, reset = np.array([0.5, 2.0, 1.0]), np.array([1.0, 1.0, 1.0])
    target = bind_objective("target:a", NAMES)
    assert loss_reward("loss", losses, reset, 0.0)[0] == pytest.approx(-3.5)
    assert loss_reward("loss", losses, reset, 0.0, target)[0] == pytest.approx(-1.5)
    assert loss_reward("loss-decrease", losses, reset, 4.0, target)[0] == pytest.approx(2.5)
    # Task a is fine, the others are far under their references: only the mean objective penalises.
    accuracies, reference = [0.9, 0.2, 0.2], [0.9, 0.9, 0.9]
    assert below_reference(accuracies, reference, 0.95)
    assert not below_reference(accuracies, reference, 0.95, target)


def test_the_env_rewards_only_the_target_and_names_an_unknown_one(small_suite):
    model = {"name": "cnn", "embedding_dim": 16, "hidden_dim": 16}
    rewards = {}
    for objective in ("mean", "target:gamma"):
        env = MTLSchedulingEnv(small_suite, model, {"objective": objective, "episode_steps": 5})
        env.reset(seed=0)
        _, rewards[objective], *_, info = env.step(0)
    assert rewards["mean"] == pytest.approx(-sum(info["dev_loss"].values()))
    assert rewards["target:gamma"] == pytest.approx(-3 * info["dev_loss"]["gamma"])
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['toys'\]"):
        MTLSchedulingEnv(small_suite, model, {"objective": "target:toys"})


def record(lr: float, seed: int, a: float, b: float) -> dict:
    tasks = {"a": {"dev_acc": a, "test_acc": a}, "b": {"dev_acc": b, "test_acc": b}}
    return {"params": {"method": "m", "lr": lr, "seed": seed}, "tasks": tasks}


def test_the_bench_selects_the_lr_and_headlines_by_the_objective():
    # lr 1 is better on average, lr 2 is better for task a.
    records = [record(1.0, s, 0.6, 0.9) for s in range(2)] + [record(2.0, s, 0.7, 0.5) for s in range(2)]
    mean = summarise(records, ["m"], [1.0, 2.0])
    target = summarise(records, ["m"], [1.0, 2.0], objective="target:a")
    assert mean["methods"]["m"]["lr"] == 1.0 and mean["methods"]["m"]["cells"][AVERAGE]["mean"] == 0.75
    assert target["methods"]["m"]["lr"] == 2.0 and target["methods"]["m"]["cells"][AVERAGE]["mean"] == 0.7
    assert target["objective"] == "target:a"


def test_named_suites_bring_their_objective_to_the_bench_and_the_agents():
    from mtl_gym.agents.qls import TrainAgentConfig
    from mtl_gym.bench.config import BenchConfig

    assert BenchConfig(suite="fsmtl-noisy-aux").env["objective"] == "target:apparel"
    assert BenchConfig(suite="fsmtl-noisy-aux", env={"objective": "mean"}).env["objective"] == "mean"
    assert BenchConfig(suite="synthetic").env == {}  # older bench folders keep their params
    assert TrainAgentConfig(suite="synthetic-noisy-aux").env_config().objective == "target:toys"


def test_the_table_pairs_each_method_with_uniform_by_seed():
    # Seeds 0-2: m beats uniform by 2 points on every seed, though the seeds spread by 20 points.
    uniform = [record(1.0, s, 0.5 + 0.1 * s, 0.5 + 0.1 * s) for s in range(3)]
    better = [record(1.0, s, 0.52 + 0.1 * s, 0.52 + 0.1 * s) for s in (2, 0, 1)]  # order does not matter
    for r in uniform:
        r["params"]["method"] = "uniform"
    summary = summarise(uniform + better, ["uniform", "m"], [1.0])
    paired = summary["methods"]["m"]["paired"]
    assert paired["seeds"] == 3 and paired["mean"] == pytest.approx(2.0)
    assert paired["ci_low"] == pytest.approx(2.0) and paired["ci_high"] == pytest.approx(2.0)
    assert summary["methods"]["uniform"]["paired"]["mean"] == 0.0


def test_the_bench_refuses_an_objective_of_an_unknown_task_before_any_trial(tmp_path):
    from mtl_gym.bench.bench import run_bench
    from mtl_gym.bench.config import BenchConfig

    config = BenchConfig(
        suite="synthetic", env={"objective": "target:garden"}, budget=4, seeds=1, lr_grid=[1e-3]
    )
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['garden'\]"):
        run_bench(config, tmp_path / "bench", progress=False)
    assert not (tmp_path / "bench").exists()
