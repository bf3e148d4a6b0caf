"""``mtl-gym report DIR``: re-render a bench folder's tables and figures without training; with
``--page``, write a results page of the documentation from bench and headroom folders; with
``--readme``, regenerate the Markdown tables that come from the results pages' data."""

from __future__ import annotations

import argparse
import shlex
import sys

HELP = (
    "re-render every table and figure of a finished or partial bench folder, training nothing; "
    "write a results page from bench folders (--page); regenerate the README's results table (--readme)"
)

README = "README.md"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folders",
        metavar="DIR",
        nargs="*",
        help="bench output folders (their config.json and trials/); with --page, mtl-gym headroom folders too",
    )
    parser.add_argument(
        "--page",
        metavar="FILE.md",
        default=None,
        help="also write one results page from the folders (e.g. docs/results/NAME.md): the command that "
        "wrote it, each folder's rerun command, commits, tables and figures (copied to NAME/), and its "
        "numbers in data/NAME.json beside it",
    )
    parser.add_argument(
        "--title", default=None, help="the page's title (default: Results: the folders' names)"
    )
    parser.add_argument(
        "--no-figures", action="store_true", help="with --page: leave the figures out (and do not copy them)"
    )
    parser.add_argument(
        "--readme",
        metavar="FILE.md",
        nargs="*",
        default=None,
        help="regenerate the tables between <!-- results-table:begin DATA TABLE --> and "
        f"<!-- results-table:end --> in these Markdown files (default: {README}) from the JSON data they name",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="with --readme: change nothing; exit 1 naming each file whose generated tables differ from their data",
    )


def command_line(args: argparse.Namespace) -> str:
    """The ``mtl-gym report`` command a page records: what was asked, as it would be typed again."""
    argv = ["mtl-gym", "report", *args.folders, "--page", args.page]
    if args.title:
        argv += ["--title", args.title]
    if args.no_figures:
        argv.append("--no-figures")
    return shlex.join(argv)


def headroom_command(config, folder) -> str:
    """The ``mtl-gym headroom`` command that runs (or resumes) ``config`` in ``folder``: its settings
    as this command line's flags, checked by parsing them back; else the folder's ``config.json``."""
    from ..bench.pages import settings_command
    from .headroom import DICT_FLAGS, config_from_args
    from .headroom import add_arguments as add_headroom_arguments

    return settings_command("headroom", config, folder, DICT_FLAGS, add_headroom_arguments, config_from_args)


def run(args: argparse.Namespace) -> None:
    if not args.folders and args.readme is None:
        raise ValueError("report needs a bench folder DIR, or --readme")
    if args.check and args.readme is None:
        raise ValueError("--check goes with --readme")
    if args.page:
        from ..bench.pages import write_page

        write_page(
            args.folders,
            args.page,
            command_line(args),
            title=args.title,
            figures=not args.no_figures,
            headroom_command=headroom_command,
        )
        print(f"results page {args.page}, its data in the data/ folder beside it")
    elif args.folders:
        from ..bench.bench import report_folder

        for folder in args.folders:
            report = report_folder(folder)
            for key in ("table", "table_f1", "aggregate", "ranking"):
                if key in report:
                    print(report[key])
            print(f"report.md, tables and figures in {folder}/")
    if args.readme is not None:
        from ..bench.pages import update_tables

        files = args.readme or [README]
        stale = update_tables(files, check=args.check)
        if args.check:
            for path in stale:
                print(
                    f"{path}: its generated results tables differ from their data; run mtl-gym report --readme {path}"
                )
            if stale:
                sys.exit(1)
            print(f"generated results tables up to date in {', '.join(files)}")
        else:
            print(
                f"regenerated the results tables of {', '.join(map(str, stale)) or 'nothing (all up to date)'}"
            )
