"""``mtl-gym train-agent``: train a QLS agent on the scheduling env."""

from __future__ import annotations

import argparse

from .options import (
    add_model_options,
    add_run_options,
    add_suite_options,
    model_settings,
    set_threads,
    suite_options,
)

HELP = "train a QLS agent on the scheduling env"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    parser.add_argument("--timesteps", type=int, required=True, help="env steps of agent training")
    parser.add_argument(
        "--out", required=True, help="folder for agent.zip, curves.csv, curves.png, config.json"
    )
    add_model_options(parser)
    parser.add_argument(
        "--exploration", default="boltzmann-gumbel", help="boltzmann-gumbel, boltzmann or epsilon-greedy"
    )
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    from ..agents.qls import TrainAgentConfig, train_agent
    from ..spec import parse_assignments

    if args.timesteps < 1:
        raise ValueError(f"--timesteps must be at least 1, got {args.timesteps}")
    set_threads(args)
    config = TrainAgentConfig(
        suite=args.suite,
        data_dir=args.data_dir,
        suite_options=suite_options(args),
        model=model_settings(args),
        env=parse_assignments(args.env, "--env"),
        trainer=parse_assignments(args.trainer, "--trainer"),
        timesteps=args.timesteps,
        exploration=args.exploration,
        seed=args.seed,
    )
    record = train_agent(config, args.out, progress_bar=not args.quiet)
    print(
        f"trained for {args.timesteps} env steps in {record['wall_s']:.1f} s; "
        f"wrote {args.out}/agent.zip, curves.csv, curves.png, config.json"
    )
