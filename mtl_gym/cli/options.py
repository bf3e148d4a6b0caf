"""Options shared by the commands, so that a suite, a model, the env and the trainer are set the
same way on ``info``, ``run``, ``train-agent``, ``demo`` and ``bench``. Nothing heavy is imported
here: ``mtl-gym --help`` must stay fast."""

from __future__ import annotations

import argparse
import os

from ..spec import parse_assignments


def add_suite_options(parser: argparse.ArgumentParser, default: str = "synthetic") -> None:
    parser.add_argument("--suite", default=default, help="task suite (default: %(default)s)")
    parser.add_argument(
        "--data-dir",
        default=None,
        help="real data root or the suite's own folder (default: $MTL_GYM_DATA, else ../shared/data)",
    )
    parser.add_argument("--max-len", type=int, default=None, help="words kept per example (default: 128)")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reader option of the suite, VALUE in JSON where it is not a plain string, "
        'e.g. dev_size=100 or domains=["books","dvd"]; repeatable',
    )


def add_model_options(parser: argparse.ArgumentParser, default: str = "lstm") -> None:
    parser.add_argument("--model", default=default, help="shipped model: lstm or cnn (default: %(default)s)")
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a ModelConfig field, e.g. hidden_dim=64; repeatable",
    )


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The env, trainer and thread settings of commands that train."""
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="an EnvConfig field; repeatable"
    )
    parser.add_argument(
        "--trainer",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a TrainerConfig field; repeatable",
    )
    add_threads_option(parser)


def add_device_option(
    parser: argparse.ArgumentParser, trains: str = "the MTL model", default: str = "auto"
) -> None:
    parser.add_argument(
        "--device",
        default=None,
        help=f"where {trains} trains: auto (CUDA when torch sees a GPU, else the CPU), cpu, cuda or cuda:N "
        f"(default: {default})",
    )


def checked_device(args: argparse.Namespace) -> str | None:
    """``--device`` checked now, before any data loads, as one line naming the flag and this
    machine's devices; None when not given."""
    if args.device is None:
        return None
    from ..training.device import check_device

    try:
        return check_device(args.device)
    except ValueError as err:
        raise ValueError(f"--device: {err}") from None


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (drawn on stderr when it is a terminal)"
    )


def progress_bar(args: argparse.Namespace) -> bool | None:
    """The progress bar of a command: False under ``--quiet``, else None, which draws it only when
    stderr is a terminal (tqdm's ``disable=None``), so that logs and scripts reading stderr get no
    carriage-return updates, and stdout, with ``--json`` one JSON document, never gets it."""
    return False if args.quiet else None


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads of this process (default: the usable cores; with several workers, "
        "cores / workers, so that workers x threads <= cores)",
    )


def suite_options(args: argparse.Namespace) -> dict:
    options = parse_assignments(args.option, "--option")
    if args.max_len is not None:
        options["max_len"] = args.max_len
    return options


def model_settings(args: argparse.Namespace) -> dict:
    return {"name": args.model, **parse_assignments(args.model_option, "--model-option")}


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def threads_per_worker(threads: int | None, workers: int = 1) -> int:
    """``threads`` if given, else the usable cores shared out over ``workers`` (at least one each)."""
    if threads is not None:
        if threads < 1:
            raise ValueError(f"--threads must be at least 1, got {threads}")
        return threads
    return max(1, usable_cores() // workers)


def set_threads(args: argparse.Namespace, workers: int = 1) -> None:
    import torch

    torch.set_num_threads(threads_per_worker(args.threads, workers))
