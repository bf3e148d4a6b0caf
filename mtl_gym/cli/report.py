"""``mtl-gym report DIR``: re-render a bench folder's tables and figures without training."""

from __future__ import annotations

import argparse

HELP = "re-render every table and figure of a finished or partial bench folder, training nothing"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="DIR", help="a bench output folder (its config.json and trials/)")


def run(args: argparse.Namespace) -> None:
    from ..bench.bench import report_folder

    report = report_folder(args.folder)
    for key in ("table", "table_f1", "aggregate", "ranking"):
        if key in report:
            print(report[key])
    print(f"report.md, tables and figures in {args.folder}/")
