"""``mtl-gym train-agent``: train a scheduler agent (QLS, or PPO with ``--algorithm ppo``) on the
scheduling env. ``--config FILE`` starts from a TrainAgentConfig JSON (``tune-agent``'s
``best_config.json``, or the ``config.json`` of an earlier run); flags given on the command line
override it, KEY=VALUE flags key by key."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .options import (
    add_device_option,
    add_model_options,
    add_quiet_option,
    add_run_options,
    add_suite_options,
    checked_device,
    progress_bar,
    set_threads,
    suite_options,
)

HELP = "train a scheduler agent (qls or ppo) on the scheduling env"

FROM_CONFIG = (
    "suite",
    "model",
    "timesteps",
    "exploration",
    "seed",
    "algorithm",
    "learning_rate",
    "fast",
    "num_envs",
    "device",
)
"""Flags whose default comes from --config when it is given, else from TrainAgentConfig."""
GIVEN_ONLY = ("eval_every", "eval_budget", "reward_baseline")
"""Fields whose flag, when given, overrides --config's (their unset value, None, means a default)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    parser.add_argument(
        "--config",
        default=None,
        help="a TrainAgentConfig JSON to start from (tune-agent's best_config.json or a run's config.json); "
        "flags override it",
    )
    parser.add_argument(
        "--timesteps", type=int, help="env steps of agent training (required without --config)"
    )
    parser.add_argument(
        "--out",
        required=True,
        help="folder for agent.zip, config.json, curves.csv|png, SB3's progress.csv (and last_agent.zip, "
        "evaluations.csv when the deployed policy is evaluated)",
    )
    add_model_options(parser)
    parser.add_argument(
        "--algorithm",
        choices=["qls", "ppo"],
        help="qls (value-based, default) or ppo (sb3-contrib's MaskablePPO, policy gradient)",
    )
    parser.add_argument(
        "--algorithm-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a constructor argument of the agent under SB3's name, e.g. gamma=0.9 or n_steps=64; repeatable",
    )
    parser.add_argument("--learning-rate", type=float, help="Adam step size of the agent (default: 1e-3)")
    parser.add_argument(
        "--exploration", help="qls only: boltzmann-gumbel (default), boltzmann or epsilon-greedy"
    )
    parser.add_argument("--seed", type=int, help="seed of the agent and its episodes (default: 0)")
    env_kind = parser.add_mutually_exclusive_group()
    env_kind.add_argument(
        "--fast",
        action="store_const",
        const=True,
        help="train on the batched env over cached encoder features (docs/environment.md: Fast agent training), "
        "~100x the decisions per second; classification suites only",
    )
    env_kind.add_argument(
        "--full",
        dest="fast",
        action="store_const",
        const=False,
        help="train on the full env even where --config says fast (tune-agent's best_config.json "
        "does), e.g. for a tagging suite",
    )
    parser.add_argument("--num-envs", type=int, help="runs the fast env steps at once (default: 64)")
    parser.add_argument(
        "--eval-every",
        type=int,
        help="decisions (env steps over all of a vector env's envs) between evaluations of the deployed policy; "
        "agent.zip is then the agent of the best dev score, last_agent.zip the last (default: 10 evaluations "
        "for QLS on the fast env, else 0, none)",
    )
    parser.add_argument(
        "--eval-budget",
        type=int,
        help="task-minibatches of each evaluation run (default: the training run's length)",
    )
    parser.add_argument(
        "--reward-baseline",
        choices=["uniform"],
        help="fast env: learn from the reward minus round-robin's mean reward at the same decision "
        "(default: the env's reward)",
    )
    add_run_options(parser)
    add_device_option(parser, "the agent, with the env's MTL model,", default="auto, or --config's")
    add_quiet_option(parser)
    # Defaults of the shared options name TrainAgentConfig's, which --config may replace.
    for action in parser._actions:
        if action.dest in FROM_CONFIG and action.default is not None:
            action.help = (action.help or "").replace("%(default)s", f"{action.default}, or --config's")
            action.default = None


def load_config(path: str | Path):
    """A TrainAgentConfig from JSON: its fields, or a run's ``config.json`` (``{"config": {...}, ...}``)."""
    from ..agents.qls import TrainAgentConfig

    values = json.loads(Path(path).read_text())
    if "config" in values and isinstance(values["config"], dict):
        values = values["config"]
    return TrainAgentConfig.of(values)


def config_from_args(args: argparse.Namespace):
    """The TrainAgentConfig of the command line: --config's (else the defaults), overridden by flags."""
    from ..agents.qls import TrainAgentConfig
    from ..spec import parse_assignments

    config = load_config(args.config) if args.config else TrainAgentConfig()
    values = config.to_dict()
    for name in (*FROM_CONFIG, *GIVEN_ONLY):
        if name != "model" and getattr(args, name) is not None:
            values[name] = getattr(args, name)
    if args.data_dir is not None:
        values["data_dir"] = args.data_dir
    if args.suite is not None and args.suite != config.suite:
        values["suite_options"] = {}  # reader options of another suite do not carry over
    values["suite_options"] = {**values["suite_options"], **suite_options(args)}
    model_name = {"name": args.model} if args.model is not None else {}
    values["model"] = {
        **values["model"],
        **model_name,
        **parse_assignments(args.model_option, "--model-option"),
    }
    values["env"] = {**values["env"], **parse_assignments(args.env, "--env")}
    values["trainer"] = {**values["trainer"], **parse_assignments(args.trainer, "--trainer")}
    values["algorithm_kwargs"] = {
        **values["algorithm_kwargs"],
        **parse_assignments(args.algorithm_option, "--algorithm-option"),
    }
    if not args.config and args.timesteps is None:
        raise ValueError("train-agent needs --timesteps (or a --config that sets them)")
    if values["timesteps"] < 1:
        raise ValueError(f"--timesteps must be at least 1, got {values['timesteps']}")
    return TrainAgentConfig.of(values)


def run(args: argparse.Namespace) -> None:
    from ..agents.qls import train_agent

    checked_device(args)
    set_threads(args)
    config = config_from_args(args)
    record = train_agent(config, args.out, progress_bar=progress_bar(args))
    print(
        f"trained {config.algorithm} for {config.timesteps} env steps in {record['wall_s']:.1f} s; "
        f"wrote {args.out}/agent.zip, config.json, curves.csv, curves.png, progress.csv"
        + (", last_agent.zip, evaluations.csv" if config.evaluation_interval() else "")
    )
