"""``mtl-gym bench``: tune and compare methods over seeds."""

from __future__ import annotations

import argparse

HELP = "tune and compare methods over seeds: tables, utility-robust ranking, plots"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # The harness's config module is light; its field docstrings are the flags' help.
    from ..bench.config import add_arguments as add_bench_arguments

    add_bench_arguments(parser)
    parser.add_argument(
        "--trust-agent",
        action="store_true",
        help="allow a legacy Stable-Baselines3 agent zip (--agent, or DIR/agent/agent.zip of an older run), "
        "whose loading unpickles and can run code in it; it is converted once to the safe format",
    )


def run(args: argparse.Namespace) -> None:
    from ..bench.bench import run_bench
    from ..bench.config import config_from_args

    report = run_bench(
        config_from_args(args), args.out, progress=not args.quiet, trust_agent=args.trust_agent
    )
    for key in ("table", "table_f1", "aggregate", "ranking", "transfer"):
        if key in report:
            print(report[key])
    print(f"report.md, tables, aggregates, ranking, plots and every trial in {args.out}/")
