"""The ``mtl-gym`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from .data import SUITES, DataError, TaskSuite, load_suite
from .models import MODELS, ModelConfig
from .training import TrainerConfig


def add_suite_arguments(parser: argparse.ArgumentParser, default: str = "synthetic") -> None:
    parser.add_argument(
        "--suite", default=default, choices=sorted(SUITES), help="task suite (default: %(default)s)"
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="real data root or the suite's own folder (default: $MTL_GYM_DATA, else ../shared/data)",
    )
    parser.add_argument(
        "--max-len", type=int, default=128, help="words kept per example (default: %(default)s)"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reader option of the suite, VALUE in JSON where it is not a plain string, "
        'e.g. dev_size=100 or domains=["books","dvd"]; repeatable',
    )


def suite_from_args(args: argparse.Namespace) -> TaskSuite:
    options = parse_assignments(args.option, "--option")
    return load_suite(args.suite, args.data_dir, max_len=args.max_len, **options)


def cmd_info(args: argparse.Namespace) -> None:
    summary = suite_from_args(args).summary()
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"suite {summary['suite']}: {len(summary['tasks'])} tasks, vocabulary of {summary['vocab_size']}")
    print(f"{'task':<24}{'kind':<16}{'labels':>7}{'train':>8}{'dev':>7}{'test':>7}{'dupl.':>7}{'overlap':>9}")
    for t in summary["tasks"]:
        print(
            f"{t['name']:<24}{t['kind']:<16}{t['num_labels']:>7}{t['train']:>8}{t['dev']:>7}{t['test']:>7}"
            f"{t['train_duplicates']:>7}{t['train_test_overlap']:>9}"
        )


def cmd_demo(args: argparse.Namespace) -> None:
    # The CLI is the top of the stack: it may reach the agents and baselines built on mtl_gym.
    from agents import QLSScheduler
    from agents.qls import TrainAgentConfig, train_agent
    from baselines.schedulers import make_scheduler

    from .env import run_schedule

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    suite = suite_from_args(args)
    model = {"name": args.model}
    config = TrainAgentConfig(
        suite=suite.name,
        model=model,
        env={"episode_steps": args.budget},
        timesteps=args.timesteps,
        seed=args.seed,
    )
    print(
        f"1. Training a QLS agent for {args.timesteps} env steps on {len(suite)} {suite.name} tasks ({args.model} model)"
    )
    record = train_agent(config, args.out, progress_bar=not args.quiet, suite=suite)
    print(f"   {record['wall_s']:.0f} s; agent, curves.csv and curves.png in {args.out}/")
    seeds = range(args.seed + 1, args.seed + 1 + args.seeds)
    print(
        f"2. Training fresh MTL models for {args.budget} task-minibatches under each scheduler, seeds {list(seeds)}"
    )
    schedulers = {
        "qls (greedy)": lambda: QLSScheduler(f"{args.out}/agent.zip"),
        "uniform": lambda: make_scheduler("uniform"),
        "random": lambda: make_scheduler("random"),
    }
    results = {
        name: [run_schedule(make(), suite, args.budget, seed, method=name, model=model) for seed in seeds]
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


def parse_assignments(items: list[str], flag: str) -> dict:
    """``KEY=VALUE`` pairs, VALUE parsed as JSON where it is JSON, else kept as a string."""
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"mtl-gym: {flag} expects KEY=VALUE, got {item!r}")
        try:
            values[key] = json.loads(value)
        except json.JSONDecodeError:
            values[key] = value
    return values


def cmd_run(args: argparse.Namespace) -> None:
    # The CLI is the top of the stack: it may reach the benchmarks' method runner.
    from benchmarks.methods import run_method

    from .env import EnvConfig

    torch.set_num_threads(args.threads)
    suite = suite_from_args(args)
    model = ModelConfig(name=args.model)
    trainer = TrainerConfig(**parse_assignments(args.trainer, "--trainer"))
    env_config = EnvConfig.from_dict(parse_assignments(args.env, "--env"))
    result = run_method(
        args.method,
        suite,
        args.budget,
        args.seed,
        model=model,
        trainer=trainer,
        env_config=env_config,
        optimizer=args.optimizer,
        agent=args.agent,
        kd=(args.kd, args.kd_order) if args.kd else None,
    )
    if args.json:
        print(result.to_json())
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


def cmd_methods(args: argparse.Namespace) -> None:
    from benchmarks.methods import all_methods

    methods = all_methods()
    if args.json:
        print(json.dumps(methods, indent=2, default=str))
        return
    for method in methods:
        print(f"{method['name']:<20}{method['kind']:<11}{method['paper']}")


def cmd_train_agent(args: argparse.Namespace) -> None:
    from agents.qls import TrainAgentConfig, train_agent

    torch.set_num_threads(args.threads)
    options = {**parse_assignments(args.option, "--option"), "max_len": args.max_len}
    config = TrainAgentConfig(
        suite=args.suite,
        data_dir=args.data_dir,
        suite_options=options,
        model={"name": args.model},
        env=parse_assignments(args.env, "--env"),
        timesteps=args.timesteps,
        exploration=args.exploration,
        seed=args.seed,
    )
    record = train_agent(config, args.out, progress_bar=not args.quiet)
    print(
        f"trained for {args.timesteps} env steps in {record['wall_s']:.1f} s; wrote {args.out}/agent.zip, curves.csv, curves.png"
    )


def cmd_bench(args: argparse.Namespace) -> None:
    # The CLI is the top of the stack: it may reach the benchmark harness.
    from benchmarks.harness.bench import run_bench
    from benchmarks.harness.config import config_from_args

    report = run_bench(config_from_args(args), args.out, progress=not args.quiet)
    for key in ("table", "table_f1", "ranking", "transfer"):
        if key in report:
            print(report[key])
    print(f"tables, ranking, plots and every trial in {args.out}/")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtl-gym", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="load a suite and summarise its tasks")
    add_suite_arguments(info)
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.set_defaults(run=cmd_info)

    demo = commands.add_parser(
        "demo", help="train a small QLS agent on the synthetic suite and compare it with uniform and random"
    )
    add_suite_arguments(demo)
    demo.add_argument(
        "--model", default="cnn", choices=sorted(MODELS), help="MTL model (default: %(default)s, fast)"
    )
    demo.add_argument(
        "--timesteps", type=int, default=1000, help="agent training env steps (default: %(default)s)"
    )
    demo.add_argument(
        "--budget",
        type=int,
        default=200,
        help="task-minibatches per run and per episode (default: %(default)s)",
    )
    demo.add_argument(
        "--seeds", type=int, default=2, help="evaluation seeds per scheduler (default: %(default)s)"
    )
    demo.add_argument(
        "--out", default="runs/demo", help="where the agent and its curves go (default: %(default)s)"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=cmd_demo)

    run = commands.add_parser("run", help="train one model to a budget under a scheduler, through the env")
    add_suite_arguments(run)
    run.add_argument(
        "--method",
        required=True,
        help="a method of `mtl-gym methods`, as NAME or NAME:key=value,... (e.g. proportional:temperature=2, "
        "fixed-weights:books=2,dvd=1, single:books); qls with --agent",
    )
    run.add_argument(
        "--optimizer",
        default="adam",
        help="adam (default), adatask, or adam-rau (Adam measuring its rAU), with any method",
    )
    run.add_argument("--agent", default=None, help="a trained QLS agent.zip, for --method qls")
    run.add_argument(
        "--kd",
        choices=["joint", "sequential", "scheduled"],
        help="asynchronous convergence via KD (Async-KD §3): converged tasks are rewound, distilled and masked",
    )
    run.add_argument(
        "--kd-order", default=None, help="sequential KD order: small, large, easy or task,task,..."
    )
    run.add_argument("--budget", type=int, required=True, help="task-minibatches to train")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument(
        "--model", default="lstm", choices=sorted(MODELS), help="shipped model (default: %(default)s)"
    )
    run.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="an EnvConfig field; repeatable"
    )
    run.add_argument(
        "--trainer",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a TrainerConfig field; repeatable",
    )
    run.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    run.add_argument("--json", action="store_true", help="print the result as JSON")
    run.set_defaults(run=cmd_run)

    methods = commands.add_parser("methods", help="list every method run accepts")
    methods.add_argument("--json", action="store_true", help="as JSON: name, kind, paper, hyperparameters")
    methods.set_defaults(run=cmd_methods)

    train = commands.add_parser("train-agent", help="train a QLS agent on the scheduling env")
    add_suite_arguments(train)
    train.add_argument("--timesteps", type=int, required=True, help="env steps of agent training")
    train.add_argument(
        "--out", required=True, help="folder for agent.zip, curves.csv, curves.png, config.json"
    )
    train.add_argument(
        "--model", default="lstm", choices=sorted(MODELS), help="MTL model in the env (default: %(default)s)"
    )
    train.add_argument(
        "--exploration", default="boltzmann-gumbel", help="boltzmann-gumbel, boltzmann or epsilon-greedy"
    )
    train.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="an EnvConfig field; repeatable"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=cmd_train_agent)

    # Only the harness's light config module loads here; its field docstrings are the flags' help.
    from benchmarks.harness.config import add_arguments as add_bench_arguments

    bench = commands.add_parser(
        "bench", help="tune and compare methods over seeds: tables, utility-robust ranking, plots"
    )
    add_bench_arguments(bench)
    bench.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except (DataError, KeyError, ValueError) as err:
        print(f"mtl-gym: error: {err}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
