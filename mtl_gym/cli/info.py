"""``mtl-gym info``: load a suite and summarise its tasks."""

from __future__ import annotations

import argparse
import json

from .options import add_suite_options, suite_options

HELP = "load a suite and summarise its tasks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_suite_options(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> None:
    from ..data import load_suite

    summary = load_suite(args.suite, args.data_dir, **suite_options(args)).summary()
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
