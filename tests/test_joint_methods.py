"""Joint methods: each trains through the trainer, and the weighting ones move their weights the
way their papers say on constructed two-task cases."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from mtl_gym.baselines.gradients import TaskGradients
from mtl_gym.baselines.joint import JOINT_METHODS, MissingExtraError, focal_loss, make_joint_method
from mtl_gym.data import load_suite
from mtl_gym.data.synthetic import DomainSpec
from mtl_gym.models import ModelConfig
from mtl_gym.training import StepGraph, Trainer, TrainerConfig, seed_everything, task_loss


def make_trainer(suite, seed=0, **config):
    seed_everything(seed)
    net = ModelConfig(name="cnn", embedding_dim=32, hidden_dim=24)(suite)
    return Trainer(net, suite, TrainerConfig(seed=seed, **config))


def weights(trainer):
    return torch.cat([p.detach().flatten() for p in trainer.model.parameters()])


@pytest.fixture(scope="module")
def pair_suite():
    domains = (
        DomainSpec("easy", train_size=40, difficulty=0.1, label_noise=0.0),
        DomainSpec("hard", train_size=40, difficulty=0.5, label_noise=0.0),
    )
    return load_suite("synthetic", domains=domains, dev_size=10, test_size=10)


class ConstructedLosses:
    """Two-task steps whose loss values we choose: L_k = c_k + u_k . theta at theta = 0, so
    each task's gradient of the shared theta is the unit vector u_k (equal norms)."""

    def __init__(self):
        self.theta = nn.Parameter(torch.zeros(2))

    def graph(self, values):
        losses = [value + self.theta[k] for k, value in enumerate(values)]
        return StepGraph([0, 1], losses, [1.0, 1.0], [None, None], [self.theta])


def run(method, trainer, graphs):
    """Feed constructed steps to the method's hook, as trainer.step would."""
    method.attach(trainer)
    for graph in graphs:
        trainer.backward(graph)
    return method.weights


@pytest.mark.filterwarnings("ignore:You are solving a parameterized problem that is not DPP")
@pytest.mark.parametrize("name", sorted(JOINT_METHODS))
def test_every_method_trains_twenty_budget_units(small_suite, name):
    trainer = make_trainer(small_suite)
    before = weights(trainer)
    method = make_joint_method(name)
    method.attach(trainer)
    while trainer.budget.total < 20:
        result = method.step(trainer)
    assert trainer.budget.per_task == [7, 7, 7]
    assert len(result.losses) == 3 and all(math.isfinite(loss) for loss in result.losses)
    after = weights(trainer)
    assert torch.isfinite(after).all() and not torch.equal(before, after)
    assert len(method.weights) == 3


@pytest.mark.parametrize("name", ["upgrad", "mgda", "pcgrad"])
def test_aggregators_see_the_same_geometry_with_a_sparse_embedding(small_suite, name):
    # The sparse Jacobian keeps only touched embedding rows; its Gramian must equal the dense one.
    gramians = []
    for mode in ("sparse", "dense"):
        trainer = make_trainer(small_suite, embedding_update=mode)

        def capture(graph, model=trainer.model):
            jacobian = TaskGradients.compute(graph, model).jacobian(graph.shared_parameters)
            gramians.append(jacobian @ jacobian.T)

        trainer.backward = capture
        trainer.step([0, 1, 2])
    torch.testing.assert_close(gramians[0], gramians[1], rtol=1e-5, atol=1e-7)
    convolutions = []
    for mode in ("sparse", "dense"):
        trainer = make_trainer(small_suite, embedding_update=mode)
        make_joint_method(name).attach(trainer)
        trainer.step([0, 1, 2])
        convolutions.append(trainer.model.conv.weight.detach())
    torch.testing.assert_close(convolutions[0], convolutions[1])


def test_dwa_weights_the_task_whose_loss_falls_slower(pair_suite):
    losses = ConstructedLosses()
    # One step per DWA epoch: task "easy" halves its loss, task "hard" barely moves.
    graphs = [losses.graph(v) for v in ([1.0, 1.0], [0.5, 0.95], [0.4, 0.9])]
    dwa = make_joint_method("dwa", epoch_steps=1)
    weights_ = run(dwa, make_trainer(pair_suite), graphs)
    assert weights_[1] > 1.0 > weights_[0]
    assert sum(weights_) == pytest.approx(2.0)
    rates = torch.tensor([0.5, 0.95])
    assert weights_ == pytest.approx((2 * torch.softmax(rates / 2.0, 0)).tolist())


def test_uncertainty_weight_falls_for_the_higher_loss_task(pair_suite):
    losses = ConstructedLosses()
    uncertainty = make_joint_method("uncertainty", lr=0.05)
    weights_ = run(uncertainty, make_trainer(pair_suite), [losses.graph([0.2, 3.0]) for _ in range(200)])
    # Starts at exp(0) / 2 = 0.5 for both; the optimum is 1 / (2 L_k).
    assert weights_[1] < 0.5 < weights_[0]
    assert weights_[1] < 0.3 and weights_[0] > 1.0


def test_gradnorm_raises_the_weight_of_the_task_whose_training_rate_lags(pair_suite):
    losses = ConstructedLosses()
    # Equal gradient norms; after the first step task 1 keeps its initial loss while task 0 halves it.
    graphs = [losses.graph([1.0, 1.0])] + [losses.graph([0.5, 1.0]) for _ in range(20)]
    gradnorm = make_joint_method("gradnorm", lr=0.01)
    trainer = make_trainer(pair_suite)
    run(gradnorm, trainer, graphs)
    learned = gradnorm.task_weights.detach()
    assert learned[1] > 1.0 > learned[0]
    assert float(learned.sum()) == pytest.approx(2.0)


def test_self_paced_starts_with_the_easy_task_and_admits_the_hard_one_later(pair_suite):
    losses = ConstructedLosses()
    method = make_joint_method("self-paced", epoch_steps=2, growth=1.5)
    trainer = make_trainer(pair_suite)
    method.attach(trainer)
    seen = []
    for _ in range(4):
        trainer.backward(losses.graph([0.6, 1.0]))
        seen.append(list(method.weights))
    # Threshold: median 0.8 for two steps, then 1.2, which admits the hard task.
    assert seen == [[1.0, 0.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize(
    ("name", "hyperparameters", "expected"),
    [
        ("loss-exp", {}, [1.15 * 0.5**0.15, 1.15 * 2.0**0.15]),
        ("muppet", {}, [1 / math.log(2)] * 2),
        ("muppet", {"scale": "initial-loss"}, [2.0, 0.5]),
        ("equal", {}, [1.0, 1.0]),
    ],
)
def test_static_coefficients(pair_suite, name, hyperparameters, expected):
    losses = ConstructedLosses()
    method = make_joint_method(name, **hyperparameters)
    coefficients = run(method, make_trainer(pair_suite), [losses.graph([0.5, 2.0])])
    assert coefficients == pytest.approx(expected, rel=1e-5)


def test_focal_loss_is_cross_entropy_at_gamma_zero_and_smaller_above(small_suite):
    batch = small_suite[0].train.batch(torch.arange(16))
    logits = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    cross_entropy = task_loss(logits, batch.labels)
    assert focal_loss(0.0)(logits, batch) == pytest.approx(float(cross_entropy), rel=1e-6)
    assert focal_loss(2.0)(logits, batch) < cross_entropy


@pytest.mark.parametrize(
    ("name", "extra", "module"),
    [
        ("cagrad", "cagrad", "cvxpy"),
        ("nash-mtl", "nash-mtl", "ecos"),
        ("upgrad", "quadprog-projector", "quadprog"),
    ],
)
def test_missing_optional_extra_names_the_pip_extra(small_suite, monkeypatch, name, extra, module):
    monkeypatch.setitem(sys.modules, module, None)  # find_spec reports None: as if not installed
    trainer = make_trainer(small_suite)
    default_hook = trainer.backward
    with pytest.raises(MissingExtraError, match=f'pip install "torchjd\\[{extra}\\]"'):
        make_joint_method(name).attach(trainer)
    assert trainer.backward is default_hook


def test_misuse_is_explained(small_suite):
    with pytest.raises(KeyError, match="unknown joint method 'nope'"):
        make_joint_method("nope")
    with pytest.raises(
        ValueError, match=r"joint method 'gradnorm' has no setting 'beta' \(it takes alpha, lr\)"
    ):
        make_joint_method("gradnorm", beta=1.0)
    trainer = make_trainer(small_suite)
    method = make_joint_method("pcgrad")
    method.attach(trainer)
    with pytest.raises(ValueError, match="expects unweighted steps over all 3 tasks"):
        trainer.step([0])
    with pytest.raises(RuntimeError, match="cannot share the trainer with the Backward hook"):
        make_joint_method("equal").attach(trainer)
    with pytest.raises(RuntimeError, match="attached to another trainer"):
        method.step(make_trainer(small_suite))
