"""One entry point that runs any method by name: a scheduler (through the env), a joint method,
or a trained QLS agent, with any optimizer. ``mtl-gym run`` and the benchmark harness call it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from agents import QLSScheduler
from baselines.adatask import AdaTaskBackward, AdaTaskConfig, adatask_factory
from baselines.joint import JOINT_METHODS, make_joint_method, run_joint
from baselines.registry import OPTIMIZERS, list_methods
from baselines.schedulers import make_scheduler
from mtl_gym.data import TaskSuite
from mtl_gym.env import EnvConfig, ModelFactory, Rule, RunResult, make_kd_rules, run_schedule
from mtl_gym.training import Trainer, TrainerConfig
from mtl_gym.training.trainer import weighted_sum_backward


def all_methods() -> list[dict]:
    """Every method ``run_method`` accepts, as ``mtl-gym methods --json`` lists them."""
    qls = {
        "name": "qls",
        "kind": "scheduler",
        "paper": "QLS: Q-learning scheduler for multi-task learning (this project's agents.QLS), with --agent",
        "hyperparameters": {"agent": None},
    }
    kd = [
        {
            "name": name,
            "kind": "scheduler",
            "paper": "Async-KD paper §3: asynchronous convergence via knowledge distillation, "
            + ("joint setting" if name == "kd-joint" else "sequential setting, ORDER small|large|easy|a,b,c"),
            "hyperparameters": {
                "eval_every": 200,
                "patience": 3,
                "temperature": 1.0,
                "kd_weight": 1.0,
                "kd_every": 1,
            },
        }
        for name in ("kd-joint", "kd-sequential:ORDER")
    ]
    return [*list_methods(), qls, *kd]


def kd_method(method: str) -> tuple[str, str | None] | None:
    """``("joint", None)`` for ``kd-joint``, ``("sequential", order)`` for ``kd-sequential:ORDER``, else None."""
    if method == "kd-joint":
        return "joint", None
    if method.startswith("kd-sequential:"):
        return "sequential", method.partition(":")[2]
    return None


def split_optimizer(method: str, optimizer: str = "adam") -> tuple[str, str]:
    """``("uniform", "adatask")`` for ``uniform+adatask``: a ``+OPTIMIZER`` suffix overrides ``optimizer``."""
    base, plus, suffix = method.rpartition("+")
    if plus and suffix in OPTIMIZERS:
        return base, suffix
    return method, optimizer


def run_method(
    method: str,
    suite: TaskSuite,
    budget: int,
    seed: int = 0,
    *,
    model: ModelFactory,
    trainer: TrainerConfig = TrainerConfig(),
    env_config: EnvConfig | None = None,
    optimizer: str = "adam",
    agent: str | None = None,
    rules: Sequence[Rule] = (),
    kd: tuple[str, str | None] | None = None,
    evaluations: int = 10,
    after_training: Callable[[Trainer], None] | None = None,
) -> RunResult:
    """Train a fresh model under ``method`` (a scheduler spec, a joint method name, or ``qls``
    with ``agent``, optionally suffixed ``+OPTIMIZER``) for ``budget`` task-minibatches. ``kd`` =
    (setting, order) adds the Async-KD rules (built with the same model, trainer and optimizer,
    so the ``easy`` pre-run matches). Under ``adatask`` and ``adam-rau`` the result's
    ``extra["dominance"]`` holds the rAU report of the dense shared parameters. ``after_training`` gets the trainer with the final model."""
    method, optimizer = split_optimizer(method, optimizer)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {sorted(OPTIMIZERS)}")
    factory, backward = (None, weighted_sum_backward)
    if optimizer != "adam":
        # AdaTask's machinery with one shared accumulator is plain Adam whose updates it splits per task.
        task_wise = optimizer == "adatask"
        factory, backward = adatask_factory(
            AdaTaskConfig(lr=trainer.lr, task_wise=task_wise, track_dominance=True)
        )
    name = method if optimizer == "adam" else f"{method}+{optimizer}"
    if method in JOINT_METHODS:
        if rules or kd:
            raise ValueError(
                f"joint method {method!r} trains every task each step; rules such as KD need a scheduler"
            )
        result = run_joint(
            make_joint_method(method),
            suite,
            budget,
            seed,
            model=model,
            trainer=trainer,
            optimizer=factory,
            backward=backward,
            evaluations=evaluations,
            label=name,
            after_training=after_training,
        )
    else:
        options = {
            "model": model,
            "trainer": trainer,
            "env_config": env_config,
            "optimizer": factory,
            "backward": backward,
        }
        if named_kd := kd_method(method):
            # The KD rule decides which tasks train (all in the joint setting, the current one in the
            # sequential); uniform only walks the allowed tasks.
            kd, method = named_kd, "uniform"
        if kd:
            setting, order = kd
            rules = [*rules, *make_kd_rules(setting, order, suite, seed=seed, budget=budget, **options)]
        scheduler = make_scheduler(method) if method != "qls" else QLSScheduler(_required(agent))
        result = run_schedule(
            scheduler,
            suite,
            budget,
            seed,
            method=name,
            rules=rules,
            evaluations=evaluations,
            after_training=after_training,
            **options,
        )
    if isinstance(backward, AdaTaskBackward):
        result.extra["dominance"] = backward.optimizer.dominance.report(suite.names)
    return result


def _required(agent: str | None) -> str:
    if agent is None:
        raise ValueError("method qls needs a trained agent (--agent DIR/agent.zip)")
    return agent
