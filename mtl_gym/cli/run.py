"""``mtl-gym run``: train one model to a budget under any method."""

from __future__ import annotations

import argparse
import sys

from .options import (
    add_device_option,
    add_model_options,
    add_quiet_option,
    add_run_options,
    add_suite_options,
    checked_device,
    model_settings,
    progress_bar,
    set_threads,
    suite_options,
)

HELP = "train one model to a budget under any method (scheduler, joint, KD, agent)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    parser.add_argument(
        "--method",
        required=True,
        help="a method of `mtl-gym methods` as NAME[:key=value,...][+OPTIMIZER] (e.g. proportional:temperature=2, "
        "dwa:temperature=1+adatask, fixed-weights:books=2,dvd=1, single:books, kd-sequential:small); qls or ppo with --agent",
    )
    parser.add_argument(
        "--optimizer",
        default="adam",
        help="adam (default), adatask or adam-rau, for a method without +OPTIMIZER",
    )
    parser.add_argument("--agent", default=None, help="a trained agent.zip, for --method qls or ppo")
    parser.add_argument(
        "--trust-agent",
        action="store_true",
        help="allow a legacy Stable-Baselines3 --agent zip, whose loading unpickles and can run code in it",
    )
    parser.add_argument(
        "--kd",
        choices=["joint", "sequential", "scheduled"],
        help="asynchronous convergence via KD (Async-KD §3) on top of the scheduler: converged tasks are "
        "rewound, distilled and masked",
    )
    parser.add_argument(
        "--kd-order", default=None, help="sequential KD order: small, large, easy or task,task,..."
    )
    parser.add_argument("--budget", type=int, required=True, help="task-minibatches to train")
    parser.add_argument("--seed", type=int, default=0)
    add_model_options(parser)
    add_run_options(parser)
    add_device_option(parser)
    add_quiet_option(parser)
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (a run stopped by a non-finite loss prints it too, with the value as "
        "NaN or Infinity under non_finite, then exits 2)",
    )


def run(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from ..data import load_suite, suite_objective
    from ..env import EnvConfig
    from ..methods import METHODS, run_method
    from ..models import ModelConfig
    from ..spec import parse_assignments
    from ..training import TrainerConfig

    parsed = METHODS.parse(args.method, args.optimizer)  # a typo fails before the suite loads
    if args.budget < 1:
        raise ValueError(f"--budget must be at least 1, got {args.budget}")
    device = checked_device(args)
    trainer = TrainerConfig.of(
        {**parse_assignments(args.trainer, "--trainer"), **({"device": device} if device else {})}
    )
    agent = (
        agent_flag(args.agent, args.trust_agent, parsed.spec.name)
        if parsed.kind == "agent" and args.agent
        else None
    )
    set_threads(args)
    suite = load_suite(args.suite, args.data_dir, **suite_options(args))
    env = {"objective": suite_objective(args.suite), **parse_assignments(args.env, "--env")}
    objective = EnvConfig.of(env).objective
    show = progress_bar(args)
    with tqdm(
        total=args.budget,
        desc=parsed.label,
        unit="minibatch",
        file=sys.stderr,
        disable=None if show is None else not show,
    ) as bar:
        result = run_method(
            args.method,
            suite,
            args.budget,
            args.seed,
            model=ModelConfig.of(model_settings(args)),
            trainer=trainer,
            env_config=EnvConfig.of(env),
            optimizer=args.optimizer,
            agent=agent,
            kd=(args.kd, args.kd_order) if args.kd else None,
            progress=lambda spent: bar.update(spent - bar.n),
        )
    if objective != "mean":
        result.extra["objective"] = {
            "objective": objective,
            "test": result.objective_score(objective, "test"),
            "dev": result.objective_score(objective, "dev"),
        }
    if args.json:
        print(result.to_json())
    if "non_finite" in result.extra:
        stop = result.extra["non_finite"]
        raise ValueError(
            f"training stopped after {stop['budget']} task-minibatches: task {stop['task']!r} had a "
            f"non-finite loss ({stop['value']}); lower the learning rate (--trainer lr=..., now {trainer.lr:g})"
        )
    if args.json:
        return
    print(
        f"{result.method} on {result.suite}, seed {result.seed}, budget {result.budget}: {result.wall_s:.1f} s"
    )
    print(f"{'task':<24}{'minibatches':>12}{'dev acc':>9}{'best dev':>10}{'test acc':>10}")
    for name, metrics in result.tasks.items():
        print(
            f"{name:<24}{result.action_counts[name]:>12}{metrics['dev_acc']:>9.3f}"
            f"{metrics['best_dev_acc']:>10.3f}{metrics['test_acc']:>10.3f}"
        )
    print(f"average test accuracy {result.avg_test_acc:.3f}, dev {result.avg_dev_acc:.3f}")
    if "objective" in result.extra:
        score = result.extra["objective"]
        print(f"objective {objective}: test {score['test']:.3f}, dev {score['dev']:.3f}")
    if result.diverged:
        # The task whose loss rose most, relative to its start.
        task, loss = max(
            result.training_loss.items(), key=lambda item: item[1]["final"] / max(item[1]["initial"], 1e-12)
        )
        print(
            f"diverged: task {task!r}'s training loss ended above its start ({loss['initial']:.3g} -> "
            f"{loss['final']:.3g}); the results are likely near chance, try a lower --trainer lr=..."
        )


def agent_flag(path: str, trust: bool, algorithm: str):
    """What ``--agent PATH`` hands to the run: the path of a safe agent file (loaded at the run's
    start, its config.json checked against the env), or a trusted legacy zip loaded now; a one-line
    error naming the flag when the file is missing, not an agent, or legacy and not trusted."""
    from ..agents.algorithms import algorithm as agent_algorithm
    from ..agents.common.serialization import UNTRUSTED, AgentFileError, agent_file_kind, load_agent

    try:
        kind = agent_file_kind(path)
    except AgentFileError as err:
        raise ValueError(f"--agent {path}: {err.reason}") from None
    if kind == "safe":
        return path
    if not trust:
        raise ValueError(f"--agent {path}: {UNTRUSTED}")
    return load_agent(agent_algorithm(algorithm).cls, path, trust=True)
