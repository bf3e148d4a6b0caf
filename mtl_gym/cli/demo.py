"""``mtl-gym demo``: train a small QLS agent on a suite where the schedule matters, then compare it
with uniform and with the suite's best static schedule, paired by seed."""

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

HELP = "train a small QLS agent where the schedule matters and show how much of the headroom it captures"

DEMO_SUITE = "synthetic-target-noise"
"""A generated target and a pure-noise auxiliary, scored on the target: uniform spends half the
budget on noise. Its best static schedule (below) gains over uniform, so there is headroom to capture."""
DEMO_MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 32}
DEMO_LR = 3e-3
BEST_STATIC_TASK = "target"
"""The best static schedule of DEMO_SUITE at the demo's model, lr and budget, chosen on dev by
``mtl-gym headroom --suite synthetic-target-noise --model cnn --model-option embedding_dim=32
--model-option hidden_dim=32 --budget 200 --seeds 5 --trials 10 --lookahead-k 0``: the target
alone (+4.4 points over uniform on test; the best of the searched mixtures, target 0.94, +3.6)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser, default=DEMO_SUITE)
    parser.add_argument(
        "--timesteps",
        type=int,
        default=20_000,
        help="agent training decisions on the fast env (default: %(default)s)",
    )
    parser.add_argument(
        "--budget",
        type=int,
        default=200,
        help="task-minibatches per run and per episode (default: %(default)s)",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="evaluation seeds per scheduler (default: %(default)s)"
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
    from ..baselines.schedulers import Single, Uniform
    from ..data import load_suite, suite_objective
    from ..env import run_schedule
    from ..stats import paired_difference

    for flag in ("timesteps", "budget", "seeds"):
        if getattr(args, flag) < 1:
            raise ValueError(f"--{flag} must be at least 1, got {getattr(args, flag)}")
    device = checked_device(args) or "auto"
    set_threads(args)
    start = time.perf_counter()
    suite = load_suite(args.suite, args.data_dir, **suite_options(args))
    objective = suite_objective(args.suite)
    trainer = {"lr": DEMO_LR, "device": device}
    config = TrainAgentConfig(
        suite=args.suite,
        data_dir=args.data_dir,
        suite_options=suite_options(args),
        model=DEMO_MODEL,
        trainer=trainer,
        env={"episode_steps": args.budget},
        timesteps=args.timesteps,
        fast=True,
        seed=args.seed,
        device=device,
    )
    print(
        f"1. Training a QLS agent for {args.timesteps} decisions on the fast env of {args.suite} "
        f"({len(suite)} tasks, objective {objective})"
    )
    record = train_agent(config, args.out, progress_bar=progress_bar(args), suite=suite)
    print(f"   {record['wall_s']:.0f} s; agent, curves.csv and curves.png in {args.out}/")
    seeds = list(range(args.seed + 1, args.seed + 1 + args.seeds))
    print(
        f"2. Training fresh MTL models for {args.budget} task-minibatches under each scheduler, seeds {seeds}"
    )
    agent = f"{args.out}/agent.zip"
    schedulers = {
        "qls (greedy)": lambda: QLSScheduler(agent, policy="greedy"),
        "qls (softmax)": lambda: QLSScheduler(agent),
        "uniform": Uniform,
    }
    if args.suite == DEMO_SUITE:
        schedulers["best static schedule"] = lambda: Single(task=BEST_STATIC_TASK)
    env_config = agent_env_config(agent, {"objective": objective})  # the agent's observation, for all
    results = {
        name: [
            run_schedule(
                make(),
                suite,
                args.budget,
                seed,
                method=name,
                model=DEMO_MODEL,
                env_config=env_config,
                trainer=trainer,
            )
            for seed in seeds
        ]
        for name, make in schedulers.items()
    }
    scores = {name: [100 * r.objective_score(objective) for r in runs] for name, runs in results.items()}
    static = scores.get("best static schedule")
    headroom = None if static is None else paired_difference(static, scores["uniform"]).point
    print(
        f"\n{'scheduler':<22}{'test ' + objective:>22}{'vs uniform (paired)':>28}{'captured':>10}   task shares"
    )
    for name, runs in results.items():
        difference = paired_difference(scores[name], scores["uniform"])
        captured = "" if not headroom or name == "uniform" else f"{difference.point / headroom:.0%}"
        counts = [sum(r.action_counts[n] for r in runs) for n in suite.names]
        shares = ", ".join(f"{n} {c / sum(counts):.2f}" for n, c in zip(suite.names, counts, strict=True))
        print(
            f"{name:<22}{sum(scores[name]) / len(seeds):>22.1f}"
            f"{f'{difference.point:+.1f} [{difference.low:+.1f}, {difference.high:+.1f}]':>28}{captured:>10}   {shares}"
        )
    print(
        f"\ntest score in points, mean over {args.seeds} seeds; the paired difference's 95% bootstrap CI "
        f"is over those seeds; wall time {time.perf_counter() - start:.0f} s"
    )
