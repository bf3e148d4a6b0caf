"""``mtl-gym tune-agent``: search an agent's hyperparameters with Optuna (TPE sampler, median pruner
on the intermediate dev accuracy of the deployed agent, study in SQLite under ``--out``); a rerun of
the same command resumes the study. Writes ``OUT/best_config.json``, which
``mtl-gym train-agent --config`` reads."""

from __future__ import annotations

import argparse
import json

from .options import (
    add_device_option,
    add_model_options,
    add_run_options,
    add_suite_options,
    checked_device,
    model_settings,
    set_threads,
    suite_options,
)

HELP = "tune an agent's hyperparameters with Optuna (resumable SQLite study); writes best_config.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    add_model_options(parser, default="cnn")
    parser.add_argument("--out", required=True, help="folder for study.db, trials/NNNN/ and best_config.json")
    parser.add_argument(
        "--algorithm", default="qls", choices=["qls", "ppo"], help="agent to tune (default: qls)"
    )
    parser.add_argument(
        "--trials", type=int, default=10, help="finished trials the study should hold (default: 10)"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    parser.add_argument("--timesteps", type=int, default=300, help="env steps of each trial (default: 300)")
    parser.add_argument(
        "--eval-every",
        type=int,
        default=100,
        help="decisions (env steps over all of a vector env's envs) between intermediate evaluations (default: 100)",
    )
    parser.add_argument(
        "--eval-budget", type=int, default=100, help="task-minibatches of each evaluation run (default: 100)"
    )
    parser.add_argument("--eval-seed", type=int, default=12345, help="MTL model seed of the evaluations")
    parser.add_argument(
        "--eval-runs",
        type=int,
        default=1,
        help="evaluation runs averaged, on seeds EVAL_SEED, EVAL_SEED+1, ... (default: 1)",
    )
    parser.add_argument(
        "--startup-trials",
        type=int,
        default=5,
        help="random trials before TPE and before pruning (default: 5)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the trials' agents and of the sampler")
    parser.add_argument(
        "--storage", default=None, help="an Optuna storage URL (default: sqlite:///OUT/study.db)"
    )
    parser.add_argument("--study-name", default="tune-agent", help="study name in the storage")
    parser.add_argument(
        "--full",
        action="store_true",
        help="train each trial on the full env instead of the batched env over cached features "
        "(the default, ~100x faster; tagging suites need --full)",
    )
    parser.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field of the search space, e.g. steps_per_action=[1] or learning_rate=[1e-4,1e-3]; "
        "repeatable",
    )
    add_run_options(parser)
    add_device_option(parser, "each trial's agent, with the env's MTL model,")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> None:
    from ..agents.qls import TrainAgentConfig
    from ..agents.tuning import TuneConfig, tune_agent
    from ..spec import parse_assignments

    device = checked_device(args) or "auto"
    set_threads(args)
    env = parse_assignments(args.env, "--env")
    # Training episodes as long as the evaluation runs, unless set (the bench does the same).
    env.setdefault("episode_steps", args.eval_budget)
    base = TrainAgentConfig(
        suite=args.suite,
        data_dir=args.data_dir,
        suite_options=suite_options(args),
        model=model_settings(args),
        env=env,
        trainer=parse_assignments(args.trainer, "--trainer"),
        timesteps=args.timesteps,
        seed=args.seed,
        algorithm=args.algorithm,
        fast=not args.full,
        device=device,
    )
    tune = TuneConfig(
        algorithm=args.algorithm,
        trials=args.trials,
        timeout=args.timeout,
        eval_every=args.eval_every,
        eval_budget=args.eval_budget,
        eval_seed=args.eval_seed,
        eval_runs=args.eval_runs,
        startup_trials=args.startup_trials,
        sampler_seed=args.seed,
        study_name=args.study_name,
        space=parse_assignments(args.space, "--space"),
    )
    summary = tune_agent(base, tune, args.out, storage=args.storage)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"study {summary['study']} ({summary['storage']}): {summary['trials']} trials, "
        f"{summary['complete']} complete, {summary['pruned']} pruned, {summary['fail']} failed"
    )
    if summary["recovered"]:
        print(f"trials cut off by an earlier kill, marked failed and queued again: {summary['recovered']}")
    if summary["best"]:
        best = summary["best"]
        print(f"best trial {best['number']}: mean dev accuracy {best['value']:.4f}, {best['params']}")
        print(
            f"wrote {args.out}/best_config.json; train it with: mtl-gym train-agent --config {args.out}/best_config.json --out DIR"
        )
