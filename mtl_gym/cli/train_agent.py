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
        "--out",
        required=True,
        help="folder for agent.zip, config.json, curves.csv|png, SB3's progress.csv (and best_agent.zip, "
        "evaluations.csv with --eval-every)",
    )
    add_model_options(parser)
    parser.add_argument(
        "--exploration", default="boltzmann-gumbel", help="boltzmann-gumbel, boltzmann or epsilon-greedy"
    )
    parser.add_argument(
        "--agent-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a TrainAgentConfig field of the agent, e.g. tau=0.1, learning_rate=3e-3, "
        'exploration_kwargs={"c":2}; repeatable',
    )
    evaluation = {
        "--eval-every": (
            0,
            "env steps between evaluations of the deployed policy, which keep best_agent.zip",
        ),
        "--eval-budget": (200, "task-minibatches of each evaluation run"),
    }
    for flag, (default, text) in evaluation.items():
        parser.add_argument(flag, type=int, default=default, help=f"{text} (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    add_run_options(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> None:
    from ..agents.qls import TrainAgentConfig, train_agent
    from ..spec import parse_assignments

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
        eval_every=args.eval_every,
        eval_budget=args.eval_budget,
        seed=args.seed,
    )
    config = TrainAgentConfig.of(
        {**config.to_dict(), **parse_assignments(args.agent_option, "--agent-option")}
    )
    record = train_agent(config, args.out, progress_bar=not args.quiet)
    print(
        f"trained for {args.timesteps} env steps in {record['wall_s']:.1f} s; "
        f"wrote {args.out}/agent.zip, config.json, curves.csv, curves.png, progress.csv"
        + (", best_agent.zip, evaluations.csv" if config.eval_every else "")
    )
