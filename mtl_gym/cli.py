"""The ``mtl-gym`` command line."""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch
from tqdm import tqdm

from .data import SUITES, DataError, TaskSuite, load_suite
from .models import MODELS, ModelConfig
from .training import Trainer, TrainerConfig, seed_everything


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
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    suite = suite_from_args(args)
    seed_everything(args.seed)
    model = ModelConfig(name=args.model)(suite)
    trainer = Trainer(model, suite, TrainerConfig(seed=args.seed))
    print(
        f"Training the {args.model} MTL model round-robin on {len(suite)} {suite.name} tasks for {args.budget} task-minibatches"
    )
    for step in tqdm(range(args.budget), desc="training", unit="batch", disable=args.quiet):
        trainer.step([step % len(suite)])
    dev, test = trainer.evaluate("dev"), trainer.evaluate("test")
    print(f"\n{'task':<16}{'train':>7}{'seen':>7}{'dev acc':>9}{'test acc':>10}{'test loss':>11}")
    for index, task in enumerate(suite):
        print(
            f"{task.name:<16}{len(task.train):>7}{trainer.budget.per_task[index]:>7}"
            f"{dev[task.name].accuracy:>9.3f}{test[task.name].accuracy:>10.3f}{test[task.name].loss:>11.3f}"
        )
    mean_test = sum(m.accuracy for m in test.values()) / len(test)
    print(f"\nmean test accuracy {mean_test:.3f}; wall time {time.perf_counter() - start:.1f} s")


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
    # The CLI is the top of the stack: it may reach the baselines, which build on mtl_gym.
    from baselines.schedulers import make_scheduler

    from .env import EnvConfig, run_schedule

    torch.set_num_threads(args.threads)
    suite = suite_from_args(args)
    result = run_schedule(
        make_scheduler(args.method),
        suite,
        args.budget,
        args.seed,
        method=args.method,
        model=ModelConfig(name=args.model),
        env_config=EnvConfig.from_dict(parse_assignments(args.env, "--env")),
        trainer=TrainerConfig(**parse_assignments(args.trainer, "--trainer")),
    )
    if args.json:
        print(result.to_json())
        return
    print(
        f"{result.method} on {result.suite}, seed {result.seed}, budget {result.budget}: {result.wall_s:.1f} s"
    )
    print(f"{'task':<24}{'chosen':>8}{'dev acc':>9}{'best dev':>10}{'test acc':>10}")
    for name, metrics in result.tasks.items():
        print(
            f"{name:<24}{result.action_counts[name]:>8}{metrics['dev_acc']:>9.3f}"
            f"{metrics['best_dev_acc']:>10.3f}{metrics['test_acc']:>10.3f}"
        )
    print(f"average test accuracy {result.avg_test_acc:.3f}, dev {result.avg_dev_acc:.3f}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mtl-gym", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="load a suite and summarise its tasks")
    add_suite_arguments(info)
    info.add_argument("--json", action="store_true", help="print the summary as JSON")
    info.set_defaults(run=cmd_info)

    demo = commands.add_parser(
        "demo", help="train the default MTL model on the synthetic suite and print per-task results"
    )
    add_suite_arguments(demo)
    demo.add_argument(
        "--model", default="lstm", choices=sorted(MODELS), help="shipped model (default: %(default)s)"
    )
    demo.add_argument(
        "--budget", type=int, default=2000, help="task-minibatches to train (default: %(default)s)"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=cmd_demo)

    run = commands.add_parser("run", help="train one model to a budget under a scheduler, through the env")
    add_suite_arguments(run)
    run.add_argument("--method", required=True, help="scheduler: uniform, random or single:<task>")
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
