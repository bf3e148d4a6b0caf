"""``mtl-gym headroom``: how much any schedule can gain over uniform on a suite."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields, replace
from pathlib import Path

from ..spec import parse_assignments

HELP = (
    "measure a suite's headroom: the best static mixture (TPE on dev) and a lookahead oracle, each as "
    "the paired test difference from uniform with its bootstrap confidence interval"
)

DICT_FLAGS = {"suite_options": "--option", "env": "--env", "trainer": "--trainer"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..bench.config import field_docs
    from ..bench.headroom import HeadroomConfig

    docs, defaults = field_docs(HeadroomConfig), HeadroomConfig()
    parser.add_argument("--out", required=True, help="output folder: config.json, trials/, headroom.json/.md")
    parser.add_argument("--config", default=None, help="a HeadroomConfig JSON file (e.g. DIR/config.json)")
    parser.add_argument("--json", action="store_true", help="print headroom.json on stdout, nothing else")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--model-option", action="append", default=[], metavar="KEY=VALUE")
    for f in fields(HeadroomConfig):
        default = getattr(defaults, f.name)
        help_text = f"{docs[f.name]} (default: {'none' if default is None else json.dumps(default)})"
        kwargs: dict = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text.replace("%", "%%")}
        if f.name in DICT_FLAGS:
            kwargs |= {"action": "append", "metavar": "KEY=VALUE"}
        elif f.name == "model":
            kwargs |= {"metavar": "NAME", "type": lambda name: {"name": name}}
        elif f.name == "ray":
            kwargs |= {"nargs": "?", "const": "local", "metavar": "ADDRESS"}
        elif isinstance(default, int) and not isinstance(default, bool):
            kwargs["type"] = int
        elif isinstance(default, float):
            kwargs["type"] = float
        flag = DICT_FLAGS.get(f.name, f"--{f.name.replace('_', '-')}")
        parser.add_argument(flag, **kwargs)


def config_from_args(args: argparse.Namespace):
    from ..bench.headroom import HeadroomConfig

    base = HeadroomConfig.of(json.loads(Path(args.config).read_text())) if args.config else HeadroomConfig()
    given = {f.name: getattr(args, f.name) for f in fields(HeadroomConfig) if hasattr(args, f.name)}
    for name, flag in DICT_FLAGS.items():
        if name in given:
            given[name] = {**getattr(base, name), **parse_assignments(given[name], flag)}
    model = {**base.model, **given.pop("model", {}), **parse_assignments(args.model_option, "--model-option")}
    return replace(base, **given, model=model)


def run(args: argparse.Namespace) -> None:
    from ..bench.headroom import measure_headroom, render_headroom

    config = config_from_args(args)
    report = measure_headroom(config, args.out, progress=not (args.quiet or args.json))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(render_headroom(report), end="")
    print(f"headroom.json and headroom.md in {args.out}/")
