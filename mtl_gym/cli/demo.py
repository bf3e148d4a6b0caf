"""``mtl-gym demo``: train a small QLS agent on the synthetic suite and compare it with uniform and random."""

from __future__ import annotations

import argparse
import time

from .options import (
    add_device_option,
    add_quiet_option,
    add_suite_options,
    add_threads_option,
    checked_device,
    progress_bar,
    set_threads,
    suite_options,
)

HELP = "train a small QLS agent on the synthetic suite and compare it with uniform and random"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    parser.add_argument("--model", default="cnn", help="MTL model (default: %(default)s, fast)")
    parser.add_argument(
        "--timesteps", type=int, default=1000, help="agent training env steps (default: %(default)s)"
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=200,
        help="task-minibatches per run and per episode (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", type=int, default=2, help="evaluation seeds per scheduler (default: %(default)s)"
    )
    parser.add_argument(
        "--out", default="runs/demo", help="where the agent and its curves go (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0)
    add_threads_option(parser)
    add_device_option(parser, "the agent, and every MTL model,")
    add_quiet_option(parser)


def run(args: argparse.Namespace) -> None:
    from ..agents.common.contract import agent_env_config
    from ..agents.qls import QLSScheduler, TrainAgentConfig, train_agent
    from ..baselines.schedulers import Random, Uniform
    from ..data import load_suite
    from ..env import run_schedule

    for flag in ("timesteps", "budget", "seeds"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    device = checked_device(args) or "auto"
    set_threads(args)
    start = time.perf_counter()
    suite = load_suite(args.suite, args.data_dir, **suite_options(args))
    model = {"name": args.model}
    config = TrainAgentConfig(
        suite=suite.name,
        model=model,
        env={"episode_steps": args.budget},
        timesteps=args.timesteps,
        seed=args.seed,
        device=device,
    )
    print(
        f"1. Training a QLS agent for {args.timesteps} env steps on {len(suite)} {suite.name} tasks ({args.model} model)"
    )
    record = train_agent(config, args.out, progress_bar=progress_bar(args), suite=suite)
    print(f"   {record['wall_s']:.0f} s; agent, curves.csv and curves.png in {args.out}/")
    seeds = range(args.seed + 1, args.seed + 1 + args.seeds)
    print(
        f"2. Training fresh MTL models for {args.budget} task-minibatches under each scheduler, seeds {list(seeds)}"
    )
    env_config = agent_env_config(f"{args.out}/agent.zip")  # the agent's observation, for every scheduler
    schedulers = {
        "qls": lambda: QLSScheduler(f"{args.out}/agent.zip"),
        "uniform": Uniform,
        "random": Random,
    }
    results = {
        name: [
            run_schedule(
                make(),
                suite,
                args.budget,
                seed,
                method=name,
                model=model,
                env_config=env_config,
                trainer={"device": device},
            )
            for seed in seeds
        ]
        for name, make in schedulers.items()
    }
    names = suite.names
    print(
        f"\n{'scheduler':<14}" + "".join(f"{n[:11]:>12}" for n in names) + f"{'average':>10}   tasks chosen"
    )
    for name, runs in results.items():
        per_task = [sum(r.tasks[n]["test_acc"] for r in runs) / len(runs) for n in names]
        average = sum(r.avg_test_acc for r in runs) / len(runs)
        counts = [sum(r.action_counts[n] for r in runs) for n in names]
        print(f"{name:<14}" + "".join(f"{a:>12.3f}" for a in per_task) + f"{average:>10.3f}   {counts}")
    print(f"\nmean test accuracy over {args.seeds} seeds; wall time {time.perf_counter() - start:.0f} s")
