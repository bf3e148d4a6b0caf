"""Run a joint method to a budget: the counterpart of ``mtl_gym.env.run_schedule`` for methods that
train every task in every step. Same trainer, same initial model for the same seed, same
recorder, so results compare directly with schedulers'."""

from __future__ import annotations

from collections.abc import Callable

from mtl_gym.data import TaskSuite
from mtl_gym.models import ModelConfig
from mtl_gym.training import (
    ModelFactory,
    NonFiniteLossError,
    OptimizerFactory,
    RunRecorder,
    RunResult,
    Trainer,
    TrainerConfig,
    build_trainer,
    first_model_seed,
)
from mtl_gym.training.trainer import Backward, weighted_sum_backward

from .base import JointMethod


def run_joint(
    method: JointMethod,
    suite: TaskSuite,
    budget: int,
    seed: int = 0,
    *,
    model: ModelFactory | None = None,
    trainer: TrainerConfig | None = None,
    optimizer: OptimizerFactory | None = None,
    backward: Backward = weighted_sum_backward,
    evaluations: int = 10,
    label: str | None = None,
    after_training: Callable[[Trainer], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Joint steps (each costing K budget units) until ``budget`` is spent. ``optimizer`` and
    ``backward`` (e.g. AdaTask's pair) are installed before the method attaches; ``label`` names
    the run in its result (the method's name by default); ``after_training`` gets the trainer
    with the final model; ``progress`` the task-minibatches spent after every joint step."""
    recorder = RunRecorder(suite, budget, evaluations)
    runner = build_trainer(
        suite, model or ModelConfig(), trainer or TrainerConfig(), first_model_seed(seed), optimizer, backward
    )
    method.attach(runner)
    extra = {}
    while runner.budget.total < budget:
        try:
            method.step(runner)
        except NonFiniteLossError as err:  # as run_schedule: the run ends, the result records it
            extra["non_finite"] = {"task": err.task_name, "value": err.value, "budget": runner.budget.total}
            break
        recorder.after_step(runner)
        if progress is not None:
            progress(runner.budget.total)
    result = recorder.result(runner, label or method.name, seed, [], {"weights": method.weights, **extra})
    if after_training is not None:
        after_training(runner)
    return result
