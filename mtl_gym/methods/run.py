"""One entry point that runs any registered method by its spec: a scheduler or a trained agent
(through the env), the Async-KD rule, or a joint method, with any optimizer. ``mtl-gym run`` and the
bench harness call it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..agents.common.contract import agent_env_config
from ..baselines.adatask import AdaTaskBackward
from ..baselines.joint import run_joint
from ..baselines.kd import make_kd_rules
from ..baselines.schedulers import Uniform
from ..data import TaskSuite
from ..env import EnvConfig, Rule, run_schedule
from ..training import ModelFactory, RunResult, Trainer, TrainerConfig
from .catalog import METHODS


def run_method(
    method: str,
    suite: TaskSuite,
    budget: int,
    seed: int = 0,
    *,
    model: ModelFactory,
    trainer: TrainerConfig | dict | None = None,
    env_config: EnvConfig | dict | None = None,
    optimizer: str = "adam",
    agent: Any = None,
    rules: Sequence[Rule] = (),
    kd: tuple[str, str | None] | None = None,
    evaluations: int = 10,
    after_training: Callable[[Trainer], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RunResult:
    """Train a fresh model under the spec ``method`` (``NAME[:ARGS][+OPTIMIZER[:ARGS]]``, see
    ``mtl-gym methods``) for ``budget`` task-minibatches. ``optimizer`` applies when the spec has no
    suffix; ``agent`` is the trained agent of ``qls`` or ``ppo`` when its spec names none (a path to
    its agent.zip, loaded without unpickling, or an agent object already loaded). ``kd`` = (setting,
    order) adds the Async-KD rules to a scheduler (built with the same model, trainer and optimizer,
    so the ``easy`` pre-run matches). Under ``adatask`` and ``adam-rau`` the result's
    ``extra["dominance"]`` holds the rAU report of the dense shared parameters. ``after_training``
    gets the trainer with the final model; ``progress`` the task-minibatches spent after every step
    (``mtl-gym run``'s bar)."""
    parsed = METHODS.parse(method, optimizer)
    trainer = TrainerConfig.of(trainer)
    factory, backward = parsed.optimizer.install(trainer.lr)
    options = {"model": model, "trainer": trainer, "optimizer": factory, "backward": backward}
    common = {"evaluations": evaluations, "after_training": after_training, "progress": progress}
    if parsed.kind == "joint":
        if rules or kd:
            raise ValueError(
                f"joint method {method!r} trains every task each step; rules such as KD need a scheduler"
            )
        result = run_joint(parsed.method, suite, budget, seed, label=parsed.label, **options, **common)
    else:
        scheduler = parsed.method
        if parsed.kind == "kd":
            rules = [*rules, *scheduler.rules(suite, seed, budget, env_config=env_config, **options)]
            # The rule decides which tasks train; the scheduler only walks the allowed ones.
            scheduler = Uniform()
        if kd:
            rules = [
                *rules,
                *make_kd_rules(*kd, suite, seed=seed, budget=budget, env_config=env_config, **options),
            ]
        if parsed.kind == "agent":
            if scheduler.hyperparameters.agent is None and agent is not None:
                scheduler = type(scheduler)(**{**vars(scheduler.hyperparameters), "agent": agent})
            # The agent's config.json fixes the observation settings (histograms, features) of its env.
            env_config = agent_env_config(scheduler.hyperparameters.agent, env_config)
        result = run_schedule(
            scheduler,
            suite,
            budget,
            seed,
            method=parsed.label,
            rules=rules,
            env_config=env_config,
            **options,
            **common,
        )
    if isinstance(backward, AdaTaskBackward) and backward.optimizer.dominance is not None:
        result.extra["dominance"] = backward.optimizer.dominance.report(suite.names)
    return result
