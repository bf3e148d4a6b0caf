"""AdaTask: plain Adam/RMSProp/AdaGrad with one task, per-task moments with several, its wiring
into the trainer (alone, under a scheduler, under a joint method) and the rAU diagnostic."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from mtl_gym.baselines.adatask import (
    AdaTask,
    AdaTaskConfig,
    TaskDominance,
    adatask_factory,
    attach_adatask,
    mean_report,
    plot_dominance,
)
from mtl_gym.baselines.joint import make_joint_method
from mtl_gym.data import load_suite
from mtl_gym.data.synthetic import DomainSpec
from mtl_gym.methods import METHODS, run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, seed_everything


def make_trainer(suite, **config):
    seed_everything(0)
    net = ModelConfig(name="cnn", embedding_dim=32, hidden_dim=24)(suite)
    return Trainer(net, suite, TrainerConfig(**config))


@pytest.fixture(scope="module")
def one_task_suite():
    domains = (DomainSpec("solo", train_size=100, difficulty=0.3, label_noise=0.0),)
    return load_suite("synthetic", domains=domains, dev_size=20, test_size=20)


@pytest.mark.parametrize("mode", ["sparse", "dense"])
def test_one_task_adatask_is_adam_step_for_step(one_task_suite, mode, float64):
    adam = make_trainer(one_task_suite, embedding_update=mode)
    adatask = make_trainer(one_task_suite, embedding_update=mode)
    attach_adatask(adatask)
    for _ in range(30):
        adam.step([0])
        adatask.step([0])
        for expected, actual in zip(adam.model.parameters(), adatask.model.parameters(), strict=True):
            torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("variant", "layerwise", "reference"),
    [
        ("adam", False, lambda p: torch.optim.Adam([p], lr=0.01)),
        ("rmsprop", False, lambda p: torch.optim.RMSprop([p], lr=0.01)),
        ("rmsprop", True, lambda p: torch.optim.RMSprop([p], lr=0.01)),
        ("adagrad", False, lambda p: torch.optim.Adagrad([p], lr=0.01)),
        ("adagrad", True, lambda p: torch.optim.Adagrad([p], lr=0.01)),
    ],
)
def test_one_task_variants_match_torch(variant, layerwise, reference):
    start = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    ours, theirs = nn.Parameter(start.clone()), nn.Parameter(start.clone())
    optimizer = AdaTask([ours], [ours], num_tasks=1, variant=variant, lr=0.01, layerwise=layerwise)
    baseline = reference(theirs)
    generator = torch.Generator().manual_seed(1)
    for _ in range(25):
        grad = torch.randn(4, 3, generator=generator)
        optimizer.add_task_gradient(0, ours, grad)
        optimizer.step()
        theirs.grad = grad
        baseline.step()
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-7)


def test_each_task_gets_its_own_learning_rate():
    # Task 1's gradients are 1000 times task 0's; with shared moments task 0 would barely move
    # the parameter. With AdaTask both tasks' first updates are lr * sign(g), and the
    # accumulated updates are balanced (AdaTask paper, Fig. 2e).
    parameter = nn.Parameter(torch.zeros(6))
    dominance = TaskDominance([("layer.weight", parameter)], num_tasks=2)
    optimizer = AdaTask([parameter], [parameter], num_tasks=2, lr=0.1, dominance=dominance)
    direction = torch.tensor([1.0, -1.0, 2.0, -2.0, 0.5, 3.0])
    optimizer.add_task_gradient(0, parameter, 1e-3 * direction)
    optimizer.add_task_gradient(1, parameter, direction)
    optimizer.step()
    torch.testing.assert_close(parameter.detach(), -0.2 * direction.sign(), rtol=1e-5, atol=1e-5)
    report = dominance.report(["small", "large"])
    assert report["layers"]["layer"]["balanced"] == 1.0


def test_a_single_task_step_moves_only_that_tasks_moments(small_suite):
    trainer = make_trainer(small_suite)
    optimizer = attach_adatask(trainer)
    trainer.step([1], weights=[0.5])
    trainer.step([1])
    state = optimizer.state[trainer.model.conv.weight]
    assert state["step"].tolist() == [0.0, 2.0, 0.0]
    assert state["exp_avg"][1].abs().sum() > 0
    assert state["exp_avg"][0].abs().sum() == 0 and state["exp_avg_sq"][2].abs().sum() == 0
    head_state = optimizer.state[trainer.model.heads[1].weight]
    assert head_state["step"].tolist() == [2.0]
    assert trainer.model.heads[0].weight not in optimizer.state


@pytest.mark.parametrize("name", ["pcgrad", "uncertainty", "gradnorm"])
def test_adatask_under_a_joint_method(small_suite, name):
    trainer = make_trainer(small_suite)
    optimizer = attach_adatask(trainer)
    before = trainer.model.conv.weight.detach().clone()
    method = make_joint_method(name)
    method.attach(trainer)
    for _ in range(4):
        method.step(trainer)
    assert optimizer.state[trainer.model.conv.weight]["step"].tolist() == [4.0, 4.0, 4.0]
    assert not torch.equal(before, trainer.model.conv.weight)
    assert trainer.budget.total == 12


def test_layerwise_adatask_trains_with_per_task_shares(small_suite):
    trainer = make_trainer(small_suite)
    optimizer = attach_adatask(trainer, AdaTaskConfig(variant="rmsprop", layerwise=True))
    for step in range(6):
        trainer.step([step % 3])
    state = optimizer.state[trainer.model.conv.weight]
    assert state["accumulator"].shape == (1, *trainer.model.conv.weight.shape)
    assert (state["task_share"] > 0).all()


def test_wiring_mistakes_are_explained(small_suite):
    factory, _ = adatask_factory()
    seed_everything(0)
    net = ModelConfig(name="cnn", embedding_dim=32, hidden_dim=24)(small_suite)
    without_hook = Trainer(net, small_suite, optimizer=factory)
    with pytest.raises(RuntimeError, match="install its Backward hook"):
        without_hook.step([0])
    trainer = make_trainer(small_suite)
    make_joint_method("equal").attach(trainer)
    with pytest.raises(RuntimeError, match="attach AdaTask first, then the joint method"):
        attach_adatask(trainer)
    with pytest.raises(ValueError, match="use 'rmsprop' or 'adagrad'"):
        attach_adatask(make_trainer(small_suite), AdaTaskConfig(layerwise=True))


def test_rau_on_a_constructed_case(tmp_path):
    weight, bias = nn.Parameter(torch.zeros(5)), nn.Parameter(torch.zeros(1))
    dominance = TaskDominance([("enc.weight", weight), ("enc.bias", bias)], num_tasks=2, decay=0.5)
    dominance.record(
        weight, {0: torch.tensor([1.0, 1.0, 3.0, 0.0, 0.0]), 1: torch.tensor([0.0, 1.0, 1.0, 2.0, 0.0])}
    )
    dominance.record(bias, {1: torch.tensor([1.0])})
    # AU = 0.5 * update^2, so rAU of task 0 on the weight is [1, 0.5, 0.9, 0, undefined].
    torch.testing.assert_close(dominance.rau("enc.weight")[0, :4], torch.tensor([1.0, 0.5, 0.9, 0.0]))
    assert torch.isnan(dominance.rau("enc.weight")[:, 4]).all()
    layer = dominance.report(["a", "b"])["layers"]["enc"]
    # Updated elements: four of the weight and the bias. Dominated by a: elements 0 and 2;
    # by b: element 3 and the bias; balanced: element 1.
    assert (layer["parameters"], layer["updated"]) == (6, 5)
    assert layer["dominated"] == {"a": pytest.approx(0.4), "b": pytest.approx(0.4)}
    assert layer["balanced"] == pytest.approx(0.2)
    assert layer["buckets"]["a"] == pytest.approx([0.4, 0.0, 0.2, 0.0, 0.4])
    # A second step decays the old updates: task 0 alone now updates element 3.
    dominance.record(weight, {0: torch.tensor([0.0, 0.0, 0.0, 2.0, 0.0])})
    assert float(dominance.rau("enc.weight")[0, 3]) == pytest.approx(0.5 * 4 / (0.5 * 4 + 0.25 * 4))
    report = dominance.report(["a", "b"])
    json.dumps(report)
    figure = plot_dominance(report, tmp_path / "dominance.png")
    assert (tmp_path / "dominance.png").stat().st_size > 0
    assert len(figure.axes[0].patches) == 4 * 2  # (a, b, balanced, neither) x (enc, all)


def test_adatask_tracks_dominance_during_training(small_suite):
    trainer = make_trainer(small_suite, embedding_update="dense")
    optimizer = attach_adatask(trainer, AdaTaskConfig(track_dominance=True))
    for step in range(6):
        trainer.step([step % 3])
    report = optimizer.dominance.report(small_suite.names)
    assert set(report["layers"]) == {"embedding", "conv"}
    conv = report["layers"]["conv"]
    assert 0 < conv["updated"] <= conv["parameters"]
    assert sum(conv["buckets"]["alpha"]) == pytest.approx(1.0)


def test_snapshot_restores_the_per_task_moments(small_suite):
    trainer = make_trainer(small_suite)
    optimizer = attach_adatask(trainer)
    trainer.step([0, 1])
    snapshot = trainer.snapshot()
    saved = optimizer.state[trainer.model.conv.weight]["exp_avg"].clone()
    trainer.step([0])
    trainer.restore(snapshot)
    state = optimizer.state[trainer.model.conv.weight]
    assert state["step"].tolist() == [1.0, 1.0, 0.0]
    assert torch.equal(state["exp_avg"], saved)


def test_run_method_takes_the_optimizer_as_a_suffix_and_reports_rau(small_suite):
    model = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
    suffixed = run_method("equal+adatask", small_suite, 60, 0, model=model, evaluations=2)
    flagged = run_method("equal", small_suite, 60, 0, model=model, optimizer="adatask", evaluations=2)
    assert suffixed.method == flagged.method == "equal+adatask"
    assert suffixed.tasks == flagged.tasks
    report = suffixed.extra["dominance"]
    assert report["tasks"] == small_suite.names and set(report["layers"]) == {"conv"}
    assert mean_report([report, report]) == report
    assert "dominance" not in run_method("equal", small_suite, 60, 0, model=model, evaluations=2).extra
    assert METHODS.parse("fixed-weights:1e+3,1").optimizer_spec.name == "adam"
    with pytest.raises(ValueError, match="unknown optimizer method 'sgd'"):
        run_method("equal", small_suite, 60, 0, model=model, optimizer="sgd")


@pytest.mark.parametrize("mode", ["sparse", "dense"])
def test_shared_moments_train_as_adam_and_split_its_updates(small_suite, mode, float64):
    adam = make_trainer(small_suite, embedding_update=mode)
    traced = make_trainer(small_suite, embedding_update=mode)
    optimizer = attach_adatask(traced, AdaTaskConfig(task_wise=False, track_dominance=True))
    for tasks in ([0, 1, 2], [1], [2], [0, 1, 2], [0], [0]):
        adam.step(tasks)
        traced.step(tasks)
        for expected, actual in zip(adam.model.parameters(), traced.model.parameters(), strict=True):
            torch.testing.assert_close(actual, expected, rtol=1e-12, atol=1e-14)
    # The per-task parts of a step sum to the step, and a task's momentum moves parameters in
    # steps that do not train it.
    conv = traced.model.conv.weight
    before = conv.detach().clone()
    parts = []
    record = optimizer.dominance.record

    def spy(parameter, updates):
        if parameter is conv:
            parts.append(updates)
        record(parameter, updates)

    optimizer.dominance.record = spy
    traced.step([1])
    torch.testing.assert_close(conv.detach() - before, sum(parts[0].values()))
    assert set(parts[0]) == {0, 1, 2} and float(parts[0][0].abs().sum()) > 0
    with pytest.raises(ValueError, match="task-wise optimizer"):
        attach_adatask(
            make_trainer(small_suite), AdaTaskConfig(variant="rmsprop", layerwise=True, task_wise=False)
        )


def test_adam_rau_is_an_optimizer_of_run_method(small_suite):
    model = ModelConfig(name="cnn", embedding_dim=16, hidden_dim=16)
    traced = run_method("equal+adam-rau", small_suite, 60, 0, model=model, evaluations=2)
    plain = run_method("equal", small_suite, 60, 0, model=model, evaluations=2)
    assert traced.method == "equal+adam-rau" and traced.extra["dominance"]["tasks"] == small_suite.names
    for name in small_suite.names:
        assert traced.tasks[name]["test_acc"] == pytest.approx(plain.tasks[name]["test_acc"], abs=0.02)
