"""Asynchronous convergence via KD (Async-KD paper §3): loss, teachers, masking, rewind, settings."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from mtl_gym.baselines.joint import make_joint_method
from mtl_gym.baselines.kd import (
    AsyncConvergence,
    AsyncKDRule,
    DistillationLoss,
    KDConfig,
    convergence_order,
    dev_metric,
    make_kd_rules,
    teacher_probabilities,
)
from mtl_gym.baselines.schedulers import make_scheduler
from mtl_gym.data import IGNORE_INDEX, Batch, RawSplit, build_suite
from mtl_gym.data.synthetic import DomainSpec, SyntheticConfig, synthetic_raw_tasks
from mtl_gym.env import EnvConfig, MTLSchedulingEnv, run_schedule
from mtl_gym.models import ModelConfig
from mtl_gym.training import TaskMetrics, TrainerConfig, build_trainer, split_logits

FAST_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}


# -- the KD loss and its teacher ---------------------------------------------------------------


def soft_cross_entropy(teacher: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    return -(teacher * torch.log_softmax(logits, -1)).sum(-1)


def test_kd_loss_is_soft_cross_entropy_times_t_squared():
    torch.manual_seed(0)
    teacher = torch.softmax(torch.randn(6, 3), -1)
    batch = Batch(
        torch.zeros(2, 4, dtype=torch.long), torch.tensor([4, 2]), torch.tensor([0, 1]), torch.tensor([5, 1])
    )
    logits = torch.randn(2, 3)
    loss = DistillationLoss(teacher, temperature=2.0)(logits, batch)
    assert loss.item() == pytest.approx(4.0 * soft_cross_entropy(teacher[[5, 1]], logits / 2.0).mean().item())
    # Minimal where the student's tempered distribution is the teacher's: no gradient there.
    matching = (2.0 * teacher[[5, 1]].log()).requires_grad_()
    DistillationLoss(teacher, temperature=2.0)(matching, batch).backward()
    assert matching.grad.abs().max() < 1e-6


def test_kd_loss_for_tagging_averages_over_real_tokens_only():
    torch.manual_seed(1)
    teacher = torch.softmax(torch.randn(3, 5, 4), -1)  # stored padded to the split's width, 5
    labels = torch.tensor([[0, 1, 2], [3, IGNORE_INDEX, IGNORE_INDEX]])
    batch = Batch(torch.zeros(2, 3, dtype=torch.long), torch.tensor([3, 1]), labels, torch.tensor([2, 0]))
    logits = torch.randn(2, 3, 4)
    loss = DistillationLoss(teacher)(logits, batch)
    real_tokens = [soft_cross_entropy(teacher[2, j], logits[0, j]) for j in range(3)]
    real_tokens.append(soft_cross_entropy(teacher[0, 0], logits[1, 0]))
    assert loss.item() == pytest.approx(torch.stack(real_tokens).mean().item())
    padded = teacher.clone()
    padded[0, 1:] = 0.0  # example 0 has one real token; the rest of its row never counts
    assert DistillationLoss(padded)(logits, batch).item() == pytest.approx(loss.item())


def test_tagging_teacher_rows_line_up_with_training_batches(tagging_suite):
    suite = tagging_suite(8)
    torch.manual_seed(0)
    model = ModelConfig(**FAST_MODEL)(suite)
    teacher = teacher_probabilities(model, 0, suite[0], temperature=1.0, batch_size=5)
    train = suite[0].train
    assert teacher.shape == (len(train), train.tokens.shape[1], 4)
    real = train.labels.ne(IGNORE_INDEX)
    assert torch.allclose(teacher[real].sum(-1), torch.ones(int(real.sum())))
    # The teacher's own model is the student: the KD loss is then the teacher's mean entropy per real token.
    batch = train.batch(torch.tensor([4, 0, 2, 7]))
    model.eval()
    with torch.no_grad():
        logits = model.head(0, model.encode(batch.tokens, batch.lengths))
    probabilities = teacher[batch.index, : logits.shape[1]][batch.labels.ne(IGNORE_INDEX)]
    entropy = -(probabilities * probabilities.log()).sum(-1).mean()
    assert DistillationLoss(teacher)(logits, batch).item() == pytest.approx(entropy.item(), rel=1e-5)


def test_dev_metric_prefers_chunk_f1_and_config_checks():
    assert dev_metric(TaskMetrics(0.3, 0.9, 0.5)) == 0.5 and dev_metric(TaskMetrics(0.3, 0.9)) == 0.9
    for bad in (
        {"patience": 0},
        {"eval_every": 0},
        {"kd_every": 0},
        {"temperature": 0.0},
        {"kd_weight": -1.0},
    ):
        with pytest.raises(ValueError, match="KDConfig"):
            KDConfig(**bad)


# -- one small task that overfits early --------------------------------------------------------

SEED, BUDGET, LR = 4, 2400, 3e-3
EVAL_EVERY, PATIENCE = 60, 3


@pytest.fixture(scope="module")
def overfitting_suite():
    """Two larger clean domains and a small one whose training labels are 35% flipped (dev labels
    stay clean): it learns from the shared words at first, then memorises the flips."""
    domains = (
        DomainSpec("big", train_size=600, difficulty=0.3, label_noise=0.0),
        DomainSpec("mid", train_size=400, difficulty=0.5, label_noise=0.0),
        DomainSpec("tiny", train_size=150, difficulty=0.1, label_noise=0.0),
    )
    raw = synthetic_raw_tasks(SyntheticConfig(domains=domains, dev_size=400, test_size=50, shared_vocab=1.0))
    train = raw[2].splits["train"]
    flips = np.random.default_rng(0).random(len(train)) < 0.35
    labels = [1 - label if flip else label for label, flip in zip(train.labels, flips, strict=True)]
    raw[2].splits["train"] = RawSplit(train.examples, labels, train.source)
    return build_suite("overfit", raw)


@pytest.fixture(scope="module")
def joint_kd_run(overfitting_suite):
    """A joint KD episode driven step by step, spying on what the rule evaluates and snapshots."""
    suite, tiny = overfitting_suite, 2
    rule = AsyncKDRule("joint", config=KDConfig(eval_every=EVAL_EVERY, patience=PATIENCE))
    env = MTLSchedulingEnv(
        suite, FAST_MODEL, EnvConfig(observe=False, episode_steps=BUDGET), {"lr": LR}, [rule]
    )
    _, info = env.reset(seed=SEED)
    scheduler = make_scheduler("uniform")
    scheduler.reset(env, SEED)
    trainer, seen, snapshots = env.trainer, [], {}
    evaluate, snapshot = trainer.evaluate, trainer.snapshot

    def spy_evaluate(split="dev", tasks=None):
        metrics = evaluate(split, tasks)
        seen.append((env.steps, {name: m.accuracy for name, m in metrics.items()}))
        return metrics

    def spy_snapshot():
        snapshots[env.steps] = snapshot()
        return snapshots[env.steps]

    trainer.evaluate, trainer.snapshot = spy_evaluate, spy_snapshot
    masks, at_convergence = [], None
    while trainer.budget.total < BUDGET:
        *_, terminated, truncated, info = env.step(scheduler(None, info))
        masks.append((env.steps, info["action_mask"].copy()))
        if at_convergence is None and not info["action_mask"][tiny]:
            at_convergence = SimpleNamespace(
                model={k: v.clone() for k, v in trainer.model.state_dict().items()},
                optimizer=copy.deepcopy(trainer.optimizer.state_dict()),
                teacher=trainer.loss_functions[tiny].teacher,
                tiny_minibatches=trainer.budget.per_task[tiny],
            )
        if terminated or truncated:
            break
    return SimpleNamespace(
        env=env,
        rule=rule,
        seen=seen,
        snapshots=snapshots,
        masks=masks,
        at=at_convergence,
        final=evaluate("dev")["tiny"].accuracy,
    )


def tiny_history(run):
    """(step, tiny dev accuracy) as the rule saw them, up to tiny's convergence."""
    return [(step, values["tiny"]) for step, values in run.seen if "tiny" in values]


@pytest.mark.slow
def test_rule_masks_the_task_after_patience_evaluations_without_improvement(joint_kd_run):
    history = tiny_history(joint_kd_run)
    best_step, best, stalled, expected = 0, -1.0, 0, None
    for step, value in history:
        if value > best:
            best_step, best, stalled = step, value, 0
        else:
            stalled += 1
            if stalled == PATIENCE:
                expected = step
                break
    assert expected == history[-1][0] == best_step + PATIENCE * EVAL_EVERY
    assert joint_kd_run.rule.info()["converged"]["tiny"] == expected
    assert joint_kd_run.rule.kd.best[2] == (best_step, best)
    for step, mask in joint_kd_run.masks:
        assert mask[2] == (step < expected)


def same_state(a, b) -> bool:
    """Exact equality of nested state dicts (tensors compared element by element)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_state, a, b))
    return a == b


def test_rewind_restores_the_best_snapshot_and_the_teacher_comes_from_it(joint_kd_run, overfitting_suite):
    run = joint_kd_run
    best_step, _ = run.rule.kd.best[2]
    step = run.rule.kd.converged[2]
    assert [t for t, s in run.rule.kd.converged.items() if s == step] == [2]  # tiny alone chose the rewind
    stored = run.snapshots[best_step]
    assert same_state(run.at.model, stored.model) and same_state(run.at.optimizer, stored.optimizer)
    assert not same_state(run.snapshots[step - EVAL_EVERY].model, stored.model)
    model = ModelConfig(**FAST_MODEL)(overfitting_suite)
    model.load_state_dict(stored.model)
    for positions, _, logits in split_logits(model, 2, overfitting_suite[2], "train"):
        assert torch.allclose(run.at.teacher[positions], logits.softmax(-1), atol=1e-6)


@pytest.mark.slow
def test_kd_keeps_the_converged_task_at_its_best_and_uniform_does_not(joint_kd_run, overfitting_suite):
    run = joint_kd_run
    _, best = run.rule.kd.best[2]
    # Still trained after converging, on KD only: its minibatches join every update.
    assert run.env.trainer.budget.per_task[2] > run.at.tiny_minibatches
    assert isinstance(run.env.trainer.loss_functions[2], DistillationLoss)
    assert run.final >= best - 0.005
    uniform = run_schedule(
        make_scheduler("uniform"),
        overfitting_suite,
        BUDGET,
        SEED,
        model=FAST_MODEL,
        trainer={"lr": LR},
        evaluations=1,
    )
    assert uniform.tasks["tiny"]["dev_acc"] <= run.final - 0.02


def test_rewind_bookkeeping_with_scripted_dev_metrics(small_suite):
    """Tasks peaking together converge together on one rewind; the others restart their watch there."""
    trainer = build_trainer(small_suite, ModelConfig(**FAST_MODEL), TrainerConfig(), model_seed=0)
    script = {  # step: dev accuracy of alpha, beta, gamma (patience 2)
        1: (0.5, 0.5, 0.5),
        2: (0.6, 0.4, 0.6),
        3: (0.5, 0.7, 0.5),
        4: (0.5, 0.6, 0.5),  # alpha and gamma: 2 evaluations past their best at step 2
        5: (None, 0.45, None),  # beta's best at 3 was discarded: 0.45 beats its 0.4 at step 2
        6: (None, 0.44, None),
        7: (None, 0.44, None),
    }
    step, evaluated, snapshots = 0, [], {}
    snapshot = trainer.snapshot

    def scripted(split="dev", tasks=None):
        evaluated.append(tasks)
        return {small_suite[t].name: TaskMetrics(0.0, script[step][t]) for t in tasks}

    def spy_snapshot():
        snapshots[step] = snapshot()
        return snapshots[step]

    trainer.evaluate, trainer.snapshot = scripted, spy_snapshot
    kd = AsyncConvergence(KDConfig(eval_every=1, patience=2))
    kd.reset(trainer, range(3))
    states = {}
    for step in script:
        trainer.step([0, 1, 2])
        kd.after_step(step)
        states[step] = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    assert kd.converged == {0: 4, 2: 4, 1: 7} and kd.done
    assert kd.best == {0: (2, 0.6), 2: (2, 0.6), 1: (5, 0.45)}
    assert evaluated == [[0, 1, 2]] * 4 + [[1]] * 3
    assert same_state(states[4], snapshots[2].model) and same_state(states[7], snapshots[5].model)


# -- settings, orders, termination ----------------------------------------------------------------


def test_sequential_unmasks_in_the_given_order_and_terminates(small_suite):
    order = ["gamma", "alpha", "beta"]
    rule = AsyncKDRule("sequential", order, KDConfig(eval_every=10, patience=1))
    env = MTLSchedulingEnv(
        small_suite, FAST_MODEL, EnvConfig(observe=False, episode_steps=5000), rules=[rule]
    )
    _, info = env.reset(seed=0)
    scheduler = make_scheduler("random")
    scheduler.reset(env, 0)
    names, phases, terminated = small_suite.names, [], False
    while not terminated:
        allowed = [names[t] for t in np.flatnonzero(info["action_mask"])]
        if not phases or phases[-1] != allowed:
            phases.append(allowed)
        before = list(env.trainer.budget.per_task)
        *_, terminated, truncated, info = env.step(scheduler(None, info))
        assert not truncated
        trained = {n for n, a, b in zip(names, env.trainer.budget.per_task, before, strict=True) if a > b}
        # The current task on its labels, each converged one on KD, the later ones not at all.
        assert trained == set(order[: order.index(allowed[0]) + 1])
    assert phases == [["gamma"], ["alpha"], ["beta"]]
    converged = info["converged"]
    assert converged["gamma"] < converged["alpha"] < converged["beta"] == env.steps
    assert not info["action_mask"].any() and rule.done(env)


def test_scheduled_setting_masks_converged_tasks_and_mixes_in_their_kd(small_suite):
    config = KDConfig(eval_every=10, patience=1, kd_weight=0.5, kd_every=2)
    rule = AsyncKDRule("scheduled", config=config)
    env = MTLSchedulingEnv(
        small_suite, FAST_MODEL, EnvConfig(observe=False, episode_steps=10**4), rules=[rule]
    )
    _, info = env.reset(seed=2)
    scheduler = make_scheduler("random")
    scheduler.reset(env, 2)
    calls, step = [], env.trainer.step

    def spy_step(tasks, weights=None):
        calls.append((env.steps, set(rule.kd.converged), list(tasks), list(weights)))
        return step(tasks, weights)

    env.trainer.step = spy_step
    terminated = False
    while not terminated:
        *_, terminated, _, info = env.step(scheduler(None, info))
    assert any(converged for _, converged, _, _ in calls)
    for steps, converged, tasks, weights in calls:
        assert tasks[0] not in converged  # the scheduler never picks a converged task
        distilled = sorted(converged) if steps % 2 == 0 else []
        assert tasks[1:] == distilled and weights == [1.0] + [0.5] * len(distilled)


def test_joint_run_terminates_when_every_task_has_converged(small_suite):
    rules = make_kd_rules("joint", None, small_suite, config=KDConfig(eval_every=10, patience=1))
    env = MTLSchedulingEnv(
        small_suite, FAST_MODEL, EnvConfig(observe=False, episode_steps=10**4), rules=rules
    )
    _, info = env.reset(seed=1)
    terminated = False
    while not terminated:
        assert info["action_mask"].any() and None in info["converged"].values()
        *_, terminated, truncated, info = env.step(int(np.flatnonzero(info["action_mask"])[0]))
        assert not truncated
    assert None not in info["converged"].values() and max(info["converged"].values()) == env.steps
    # A joint step trains every task, on labels or KD: the budget is three minibatches a step.
    assert env.trainer.budget.per_task == [env.steps] * 3
    result = run_schedule(make_scheduler("random"), small_suite, 10**4, 1, model=FAST_MODEL, rules=rules)
    assert result.extra["converged"] == info["converged"] and result.budget == 3 * env.steps
    assert result.summary()["converged"] == info["converged"]


@pytest.mark.slow
def test_kd_with_a_joint_method_on_the_trainer(small_suite):
    trainer = build_trainer(small_suite, ModelConfig(**FAST_MODEL), TrainerConfig(lr=3e-3), model_seed=0)
    method = make_joint_method("pcgrad")
    method.attach(trainer)
    kd = AsyncConvergence(KDConfig(eval_every=20, patience=2))
    kd.reset(trainer, range(3))
    steps, switched = 0, {}
    while not kd.done:
        method.step(trainer)
        steps += 1
        switched |= dict.fromkeys(kd.after_step(steps), steps)
        assert steps < 1000
    # The method kept stepping every task; each switched to KD at its own convergence.
    assert trainer.budget.per_task == [steps] * 3
    assert switched == kd.converged and len(set(switched.values())) == 3
    assert all(isinstance(loss, DistillationLoss) for loss in trainer.loss_functions)


@pytest.mark.slow
def test_task_orders(small_suite):
    config, options = KDConfig(eval_every=20, patience=2), {"model": FAST_MODEL, "trainer": {"lr": 3e-3}}

    def order(spec, **run_options):
        (rule,) = make_kd_rules("sequential", spec, small_suite, config=config, **run_options)
        return rule.order

    assert order("small") == ["gamma", "beta", "alpha"]  # 80, 200, 300 training examples
    assert order("large") == ["alpha", "beta", "gamma"]
    assert order("beta,gamma,alpha") == order(["beta", "gamma", "alpha"]) == ["beta", "gamma", "alpha"]
    rules = make_kd_rules("joint", None, small_suite, config=config)
    joint = run_schedule(make_scheduler("uniform"), small_suite, 3000, 0, rules=rules, **options)
    easy = convergence_order(joint.extra["converged"])
    assert order("easy", seed=0, budget=3000, **options) == easy and easy not in (
        order("small"),
        order("large"),
    )
    assert convergence_order({"a": 30, "b": None, "c": 10, "d": 30}) == ["c", "a", "d", "b"]


def test_kd_rule_arguments_are_checked(small_suite):
    with pytest.raises(ValueError, match="KD setting"):
        make_kd_rules("parallel", None, small_suite)
    with pytest.raises(ValueError, match="sequential setting only"):
        make_kd_rules("joint", "small", small_suite)
    with pytest.raises(ValueError, match="needs an order"):
        make_kd_rules("sequential", None, small_suite)
    for order, error in ((["alpha", "beta"], ValueError), (["alpha", "beta", "delta"], KeyError)):
        env = MTLSchedulingEnv(small_suite, FAST_MODEL, rules=[AsyncKDRule("sequential", order)])
        with pytest.raises(error):
            env.reset(seed=0)
