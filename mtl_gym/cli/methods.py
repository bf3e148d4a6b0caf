"""``mtl-gym methods``: every method of the registry, with its paper and hyperparameters."""

from __future__ import annotations

import argparse
import json

HELP = "list every method run and bench accept, with hyperparameters"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="as JSON: name, kind, paper, hyperparameters")


def run(args: argparse.Namespace) -> None:
    from ..methods import METHODS

    methods = [spec.describe() for spec in METHODS]
    if args.json:
        print(json.dumps(methods, indent=2, default=str))
        return
    for method in methods:
        settings = ", ".join(f"{k}={v}" for k, v in method["hyperparameters"].items())
        print(f"{method['name']:<18}{method['kind']:<11}{method['paper']}")
        if settings:
            print(f"{'':<29}{settings}")
