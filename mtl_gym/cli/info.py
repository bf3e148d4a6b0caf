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
    print(
        f"{'task':<24}{'kind':<16}{'labels':>7}{'train':>8}{'dev':>7}{'test':>7}{'dupl.':>7}"
        f"{'dev∈tr':>8}{'test∈tr':>8}{'skipped':>8}"
    )
    for t in summary["tasks"]:
        print(
            f"{t['name']:<24}{t['kind']:<16}{t['num_labels']:>7}{t['train']:>8}{t['dev']:>7}{t['test']:>7}"
            f"{t['train_duplicates']:>7}{t['dev_in_train']:>8}{t['test_in_train']:>8}{t['skipped_lines']:>8}"
        )
    for t in summary["tasks"]:
        for line in task_notes(t):
            print(f"{t['name']}: {line}")


def task_notes(task: dict) -> list[str]:
    """What the table cannot show: skipped lines by reason, normalised labels, a large dev carve-out."""
    notes = []
    if task["skipped"]:
        reasons = ", ".join(f"{reason} {count}" for reason, count in task["skipped"].items())
        notes.append(f"skipped {task['skipped_lines']} bad lines ({reasons})")
    if task["labels_stripped"]:
        notes.append(f"stripped whitespace around {task['labels_stripped']} labels")
    if task["dev_size_warning"]:
        total = task["train"] + task["dev_held_out"]
        notes.append(
            f"warning: dev is the last {task['dev_held_out']} of {total} train-file examples (over 25%)"
        )
    return notes
