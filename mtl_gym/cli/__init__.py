"""The ``mtl-gym`` command line: one small module per command, each importing the heavy parts of
the library (torch, the agents, the harness) only when it runs, so that ``mtl-gym --help`` is fast."""

from __future__ import annotations

import argparse
import signal
import sys
from types import ModuleType

from . import bench, demo, headroom, info, methods, report, run, train_agent, tune_agent

COMMANDS: dict[str, ModuleType] = {
    "info": info,
    "demo": demo,
    "run": run,
    "methods": methods,
    "train-agent": train_agent,
    "tune-agent": tune_agent,
    "bench": bench,
    "headroom": headroom,
    "report": report,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mtl-gym",
        description="Learn how to schedule multi-task training: env, agents, baselines, benchmarks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        command = commands.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


INTERRUPTED = 130
"""Exit status after Ctrl-C, the shell's 128 + SIGINT."""
TERMINATED = 143
"""Exit status after SIGTERM (``kill PID``), the shell's 128 + SIGTERM."""


class _Terminated:
    """SIGTERM handler: raise KeyboardInterrupt, so a plain ``kill`` of the driver takes the Ctrl-C
    path (a bench stops its worker processes and keeps finished trials) instead of leaving the
    workers running without it."""

    received = False

    def __call__(self, signum: int, frame: object) -> None:
        self.received = True
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    terminated = _Terminated()
    signal.signal(signal.SIGTERM, terminated)
    try:
        args.run(args)
    except (KeyError, ValueError) as err:
        # DataError is a ValueError: bad input files get one line naming the file and line.
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"mtl-gym: error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt as err:
        # One line, no traceback; a bench says how many trials it kept (bench.execute.Interrupted).
        message = getattr(err, "message", "interrupted; files already written are kept, rerun to resume")
        print(f"mtl-gym: {message}", file=sys.stderr)
        raise SystemExit(TERMINATED if terminated.received else INTERRUPTED) from None
