"""Vector envs (SB3 Dummy and Subproc, gymnasium Sync), the schedule runner and `mtl-gym run`."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from mtl_gym.agents.common.vec_env import make_vec_env
from mtl_gym.baselines.schedulers import make_scheduler
from mtl_gym.cli import main
from mtl_gym.env import MTLSchedulingEnv, run_schedule

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}
SMALL = {"domains": [["a", 200, 0.1, 0.0], ["b", 100, 0.4, 0.0]], "dev_size": 40, "test_size": 40}


def small_options():
    from mtl_gym.data.synthetic import DomainSpec

    return {**SMALL, "domains": tuple(DomainSpec(*d) for d in SMALL["domains"])}


@pytest.mark.slow
def test_sb3_dummy_and_subproc_vec_envs():
    for subprocess in (False, True):
        vec = make_vec_env(
            2, subprocess=subprocess, suite="synthetic", suite_options=small_options(), model=FAST_MODEL
        )
        observations = vec.reset()
        assert observations.shape == (2, 2 * 20)
        observations, rewards, dones, infos = vec.step(np.array([0, 1]))
        assert rewards.shape == (2,) and infos[0]["minibatches"] == {"a": 1, "b": 0}
        assert infos[1]["minibatches"] == {"a": 0, "b": 1}
        threads = vec.get_attr("config")[0].torch_threads
        assert threads == (1 if subprocess else None)
        vec.close()


def test_gymnasium_sync_vector_env(small_suite):
    vec = gym.vector.SyncVectorEnv([lambda: MTLSchedulingEnv(small_suite, FAST_MODEL) for _ in range(2)])
    observations, infos = vec.reset(seed=[0, 1])
    assert observations.shape == (2, 60)
    observations, rewards, terminated, truncated, infos = vec.step(np.array([2, 0]))
    assert rewards.shape == (2,) and not terminated.any()
    vec.close()


def test_run_schedule_uniform_and_single(small_suite):
    uniform = run_schedule(
        make_scheduler("uniform"), small_suite, budget=30, seed=0, model=FAST_MODEL, method="uniform"
    )
    assert uniform.action_counts == {"alpha": 10, "beta": 10, "gamma": 10}
    assert uniform.actions[:6] == [0, 1, 2, 0, 1, 2] and uniform.budget == 30
    assert len(uniform.curves) == 10
    for metrics in uniform.tasks.values():
        assert metrics["best_dev_acc"] >= metrics["dev_acc"]
    single = run_schedule(make_scheduler("single:beta"), small_suite, budget=12, seed=0, model=FAST_MODEL)
    assert single.action_counts == {"alpha": 0, "beta": 12, "gamma": 0}
    random = run_schedule(make_scheduler("random"), small_suite, budget=60, seed=1, model=FAST_MODEL)
    again = run_schedule(make_scheduler("random"), small_suite, budget=60, seed=1, model=FAST_MODEL)
    assert random.actions == again.actions and random.avg_test_acc == again.avg_test_acc
    assert min(random.action_counts.values()) > 5


QUICK_RUN = " --model cnn --json --threads 1 --option dev_size=40 --option test_size=40"


def run_json(capsys, command: str) -> dict:
    main((command + QUICK_RUN).split())
    return json.loads(capsys.readouterr().out)


def test_cli_run_json_schema(capsys):
    result = run_json(capsys, "run --method uniform --budget 8 --seed 3")
    expected = {
        "suite",
        "method",
        "seed",
        "budget",
        "tasks",
        "avg_test_acc",
        "avg_dev_acc",
        "action_counts",
        "wall_s",
        "diverged",
        "training_loss",
    }
    assert set(result) == expected and result["seed"] == 3 and result["budget"] == 8
    assert set(result["tasks"]["books"]) == {"dev_acc", "test_acc", "best_dev_acc"}
    assert sum(result["action_counts"].values()) == 8


def test_joint_runs_start_from_the_scheduler_runs_model(small_suite):
    from mtl_gym.models import ModelConfig
    from mtl_gym.training import TrainerConfig, build_trainer, first_model_seed

    env = MTLSchedulingEnv(small_suite, FAST_MODEL)
    env.reset(seed=11)
    trainer = build_trainer(small_suite, ModelConfig(**FAST_MODEL), TrainerConfig(), first_model_seed(11))
    for a, b in zip(env.trainer.model.parameters(), trainer.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_cli_methods_and_joint_run(capsys):
    main(["methods", "--json"])
    methods = {m["name"]: m for m in json.loads(capsys.readouterr().out)}
    assert {"uniform", "pcgrad", "gradnorm", "adatask", "qls"} <= set(methods)
    assert {m["kind"] for m in methods.values()} == {"scheduler", "joint", "kd", "agent", "optimizer"}
    assert methods["gradnorm"]["hyperparameters"]["alpha"] == 1.5
    assert methods["kd-joint"]["hyperparameters"]["patience"] == 3  # read off KDConfig, not copied
    for spec in (
        "dwa:temperature=1",
        "kd-joint:patience=5",
        "kd-sequential:small",
        "equal+adatask:variant=rmsprop",
    ):
        main(["run", "--method", spec, "--budget", "4", "--model", "cnn", "--json"])
        assert json.loads(capsys.readouterr().out)["budget"] >= 4
    with pytest.raises(SystemExit):
        main(["run", "--method", "pcgard", "--budget", "4"])
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "did you mean 'pcgrad'" in error
    result = run_json(capsys, "run --method dwa --optimizer adatask --budget 8")
    assert result["method"] == "dwa+adatask" and result["budget"] == 8
    assert result["action_counts"] == {"books": 2, "electronics": 2, "kitchen": 2, "toys": 2}


def test_cli_kd_flags_and_kd_methods(capsys, small_suite):
    from mtl_gym.methods.run import run_method
    from mtl_gym.models import ModelConfig

    result = run_json(
        capsys, "run --method random --kd sequential --kd-order toys,books,electronics,kitchen --budget 6"
    )
    assert result["action_counts"] == {"books": 0, "electronics": 0, "kitchen": 0, "toys": 6}
    assert set(result["converged"]) == {"books", "electronics", "kitchen", "toys"}
    joint = run_method("kd-joint", small_suite, 9, 0, model=ModelConfig(**FAST_MODEL))
    assert joint.budget == 9 and set(joint.extra["converged"]) == {"alpha", "beta", "gamma"}
