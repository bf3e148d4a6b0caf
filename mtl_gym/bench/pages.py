"""Results pages for the documentation site, and the Markdown tables generated from their data.

``mtl-gym report DIR... --page docs/results/NAME.md`` writes one page from finished (or partial)
bench folders and ``mtl-gym headroom`` folders: for each folder the command that reruns (or
finishes) it, the commits and package versions its trials ran with, its tables and its figures
(copied beside the page, into ``NAME/``). The page starts with the ``mtl-gym report`` command that
wrote it, so it is regenerated, never retyped. Beside it, ``data/NAME.json`` keeps the page's
numbers in a small JSON file.

Any Markdown file may hold tables generated from such a JSON file, between two markers::

    <!-- results-table:begin docs/results/data/headroom.json headroom-summary -->
    ...
    <!-- results-table:end -->

naming the data (relative to the Markdown file) and the table (:data:`TABLES`).
``mtl-gym report --readme [FILE...]`` rewrites those tables from their data, and with ``--check``
only says which are stale, so a number cannot drift from the data it came from.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..io import atomic_write_json, atomic_write_text

FORMAT = 1
"""Version of the data files' layout."""

BEGIN = "<!-- results-table:begin"
END = "<!-- results-table:end -->"
BLOCK = re.compile(
    r"(?P<begin><!-- results-table:begin (?P<source>\S+) (?P<table>\S+) -->\n)(?P<body>.*?)(?P<end><!-- results-table:end -->)",
    re.S,
)
"""A generated table: the begin marker naming its data and table, the table, the end marker."""

FIGURES = {
    "curves.png": "Per-task dev curves",
    "timeline.png": "Each scheduler's task choices over the run",
    "aggregate.png": "Interval estimates and performance profiles",
    "dominance.png": "AdaTask's rAU bars",
    "pareto.png": "Two-task Pareto front",
}
"""Figures a bench folder may hold, copied beside the page, with their captions."""

SECTIONS = (
    ("table", "Test accuracy"),
    ("table_f1", "Chunk F1"),
    ("aggregate", "Aggregates"),
    ("ranking", "Ranking"),
    ("transfer", "Leave-one-out transfer"),
)
"""The parts of a bench report a page shows, in order, with their headings."""


# --- commands -----------------------------------------------------------------------------------


def _value(value: Any) -> str:
    """A ``KEY=VALUE`` value as the CLI parses it back (``mtl_gym.spec.parse_value``)."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except json.JSONDecodeError:
            return value
        return json.dumps(value)  # a string that reads as JSON (``"3"``, ``"true"``) stays a string
    return json.dumps(value, separators=(",", ":"))


def _flags(config: Any, dict_flags: dict[str, str], default_model: dict) -> list[str]:
    """The flags that give ``config`` (a settings dataclass) from its class's defaults."""
    defaults = type(config)()
    argv: list[str] = []
    for f in fields(config):
        value, default = getattr(config, f.name), getattr(defaults, f.name)
        if f.name == "model":
            if value != default_model:
                argv += ["--model", value.get("name", default_model.get("name", ""))]
                for key, item in value.items():
                    if key != "name":
                        argv += ["--model-option", f"{key}={_value(item)}"]
            continue
        if value == default:
            continue
        flag = dict_flags.get(f.name, "--" + f.name.replace("_", "-"))
        if f.name in dict_flags:
            for key, item in value.items():
                argv += [flag, f"{key}={_value(item)}"]
        elif isinstance(value, list):
            argv += [flag, ",".join(_value(v) if not isinstance(v, float) else f"{v:g}" for v in value)]
        elif isinstance(value, float):
            argv += [flag, f"{value:g}"]
        elif value is not None:
            argv += [flag, str(value)]
    return argv


def settings_command(
    command: str,
    config: Any,
    folder: str | Path,
    dict_flags: dict[str, str],
    add_arguments: Callable[[Any], None],
    config_from_args: Callable[[Any], Any],
) -> str:
    """The ``mtl-gym COMMAND`` line that runs (or resumes) ``config`` in ``folder``: its settings as
    flags, checked by parsing them back with the command's own parser; a config the flags cannot
    express is given as the folder's own ``config.json``."""
    import argparse

    flags = [*_flags(config, dict_flags, type(config)().model), "--out", str(folder)]
    parser = argparse.ArgumentParser(prog=f"mtl-gym {command}", exit_on_error=False)
    add_arguments(parser)
    try:
        same = config_from_args(parser.parse_args(flags)) == config
    except (SystemExit, argparse.ArgumentError, ValueError, KeyError, TypeError):
        same = False
    return shlex.join(["mtl-gym", command, *flags]) if same else config_command(command, folder)


def bench_command(config, folder: str | Path) -> str:
    """The ``mtl-gym bench`` command of ``config`` in ``folder`` (:func:`settings_command`)."""
    from .config import add_arguments, config_from_args

    dict_flags = {
        "suite_options": "--option",
        "env": "--env",
        "trainer": "--trainer",
        "agent_options": "--agent-option",
    }
    return settings_command("bench", config, folder, dict_flags, add_arguments, config_from_args)


def trial_provenance(folder: Path) -> dict:
    """What the folder's trial records say about the code that ran them: each commit with its trial
    count (``+dirty`` when the checkout had uncommitted changes), and the package versions, Python
    and core counts of the last record."""
    commits: Counter[str] = Counter()
    last = None
    for path in sorted((folder / "trials").glob("*.json")):
        try:
            provenance = json.loads(path.read_text(encoding="utf-8")).get("provenance")
        except (OSError, ValueError):
            continue
        if not provenance:
            continue
        git = provenance.get("git") or {}
        commit = git.get("commit")
        commits[(commit[:7] + ("+dirty" if git.get("dirty") else "")) if commit else "unknown"] += 1
        last = provenance
    return {"commits": dict(commits), "last": last}


def _provenance_text(provenance: dict) -> str:
    commits = provenance["commits"]
    if not commits:
        return "Its trial records hold no provenance."
    ran = ", ".join(f"`{c}` ({n} trial{'s' if n != 1 else ''})" for c, n in commits.items())
    text = f"Trials ran at commit {ran}"
    last = provenance["last"]
    if last:
        packages = ", ".join(f"{name} {v}" for name, v in last.get("packages", {}).items() if v)
        cores = last.get("cpu_affinity") or last.get("cpu_count")
        text += f"; the last with {packages}, Python {last.get('python')}, {cores} core(s) available"
    return text + "."


# --- pages --------------------------------------------------------------------------------------


def _command_block(command: str, provenance: dict) -> list[str]:
    """A console block of the command that made a folder, then what it ran with."""
    return ["```console", f"$ {command}", "```", "", _provenance_text(provenance)]


def _heading_free(markdown: str) -> str:
    """A report's Markdown with its headings turned into bold lines, so that it nests in a page."""
    return re.sub(r"^#+ (.+)$", r"**\1**", markdown.strip(), flags=re.M)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "folder"


def bench_section(folder: Path, name: str, figures: Path | None, page_dir: Path) -> tuple[list[str], dict]:
    """A bench folder's part of a page (rendered afresh from its trials) and of the page's data."""
    from .bench import report_folder
    from .config import BenchConfig

    config = BenchConfig.from_json((folder / "config.json").read_text(encoding="utf-8"))
    report = report_folder(folder)
    finished, total = report["trials"]
    provenance = trial_provenance(folder)
    command = bench_command(config, folder)
    lines = [
        f"## {name}",
        "",
        f"Suite `{config.suite}`, model `{config.model.get('name')}`, {config.budget} task-minibatches per "
        f"run, {config.seeds} seed(s), lr grid {', '.join(f'{lr:g}' for lr in config.lr_grid)}: "
        f"{finished} of {total} trials finished. The sweep (a rerun skips finished trials):",
        "",
        *_command_block(command, provenance),
    ]
    for key, title in SECTIONS:
        if key in report:
            lines += ["", f"### {title}", "", _heading_free(report[key])]
    if figures is not None:
        shown = [(f, caption) for f, caption in FIGURES.items() if (folder / f).is_file()]
        if shown:
            figures.mkdir(parents=True, exist_ok=True)
            lines += ["", "### Figures", ""]
            for file, caption in shown:
                shutil.copyfile(folder / file, figures / file)
                link = Path(os.path.relpath(figures / file, page_dir)).as_posix()
                lines += [f"![{caption}]({link})", ""]
            lines.pop()
    table = json.loads((folder / "table.json").read_text(encoding="utf-8"))
    methods = table["methods"]
    data = {
        "name": name,
        "folder": str(folder),
        "command": command,
        "commits": provenance["commits"],
        "trials": {"finished": finished, "total": total},
        "metric": table["metric"],
        "objective": table.get("objective", "mean"),
        "columns": table["columns"],
        "lr_grid": table["lr_grid"],
        "seeds": len(next(iter(methods.values()))["cells"][table["columns"][-1]]["values"]),
        "best": table["best"],
        "methods": {
            m: {
                "lr": e["lr"],
                "cells": {c: e["cells"][c]["text"] for c in table["columns"]},
                "average": {k: e["cells"][table["columns"][-1]][k] for k in ("mean", "ci95")},
                "paired": e.get("paired"),
            }
            for m, e in methods.items()
        },
    }
    return lines, data


HEADROOM_KEYS = (
    "suite",
    "objective",
    "budget",
    "uniform",
    "best_static",
    "static_headroom",
    "dynamic_headroom",
)


def config_command(command: str, folder: str | Path) -> str:
    """``mtl-gym COMMAND --config FOLDER/config.json --out FOLDER``: a settings command given by the
    folder's own config file, which a rerun resumes."""
    return shlex.join(
        ["mtl-gym", command, "--config", str(Path(folder) / "config.json"), "--out", str(folder)]
    )


def headroom_section(
    folder: Path, name: str, command_of: Callable[[Any, Path], str] | None = None
) -> tuple[list[str], dict]:
    """A ``mtl-gym headroom`` folder's part of a page and its row of the page's data; ``command_of``
    gives the command that reruns its config (default: the folder's ``config.json``)."""
    from .headroom import HeadroomConfig, render_headroom

    report = json.loads((folder / "headroom.json").read_text(encoding="utf-8"))
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    provenance = trial_provenance(folder)
    command = command_of(config, folder) if command_of else config_command("headroom", folder)
    body = render_headroom(report).split("\n", 2)[2]  # without its own title
    lines = [
        f"## {name}",
        "",
        "The measurement (a rerun resumes it):",
        "",
        *_command_block(command, provenance),
        "",
        body.strip(),
    ]
    row = {key: report.get(key) for key in HEADROOM_KEYS}
    row |= {
        "uniform": {"test": report["uniform"]["test"]},
        "best_static": {"weights": report["best_static"]["weights"]},
        "run_s": report["run_s"],
        "seeds": report["seeds"],
        "trials": report["mixtures_tried"],
        "folder": str(folder),
        "command": command,
        "commits": provenance["commits"],
    }
    return lines, row


def write_page(
    folders: list[str | Path],
    page: str | Path,
    command: str,
    title: str | None = None,
    figures: bool = True,
    headroom_command: Callable[[Any, Path], str] | None = None,
) -> dict:
    """Write the results page ``page`` from bench and headroom folders, and its data
    ``data/<page stem>.json`` beside it; returns the data. ``command`` is the command line that
    wrote it, shown first on the page; ``headroom_command`` gives a headroom folder's rerun command
    from its config (the CLI's flags; default: the folder's ``config.json``)."""
    page = Path(page)
    page_dir = page.parent
    page_dir.mkdir(parents=True, exist_ok=True)
    names: Counter[str] = Counter()
    body: list[str] = []
    benches: list[dict] = []
    rows: list[dict] = []
    for folder in map(Path, folders):
        name = folder.name or str(folder)
        names[name] += 1
        if names[name] > 1:
            name = f"{name} ({names[name]})"
        if (folder / "headroom.json").is_file():
            lines, row = headroom_section(folder, name, headroom_command)
            rows.append(row)
        elif (folder / "config.json").is_file():
            target = page_dir / page.stem / _slug(name) if figures else None
            lines, data = bench_section(folder, name, target, page_dir)
            benches.append(data)
        else:
            raise ValueError(f"{folder} is neither a bench nor a headroom folder: it has no config.json")
        body += ["", *lines]
    title = title or f"Results: {', '.join(Path(f).name or str(f) for f in folders)}"
    data: dict[str, Any] = {"format": FORMAT, "title": title, "page": f"../{page.name}", "command": command}
    if benches:
        data["bench"] = benches
    if rows:
        data["headroom"] = {"rows": rows}
    data_path = page_dir / "data" / f"{page.stem}.json"
    head = [
        f"# {title}",
        "",
        "<!-- Generated by mtl-gym report: change the folders or the command, not this page. -->",
        "",
        "This page was written, and is rewritten, by:",
        "",
        "```console",
        f"$ {command}",
        "```",
        "",
        f"Its numbers are also in [data/{data_path.name}](data/{data_path.name}), the source of any table "
        "generated from them elsewhere (`mtl-gym report --readme`).",
    ]
    if rows:
        head += [
            "",
            "## Headroom over uniform",
            "",
            render_table(data, "headroom", page_dir, data_path).strip(),
        ]
    atomic_write_text(page, "\n".join(head + body) + "\n")
    atomic_write_json(data_path, data, indent=2, allow_nan=True)
    return data


# --- generated tables ---------------------------------------------------------------------------


def ci_cell(entry: dict | None) -> str:
    """A paired difference as ``+m [+lo, +hi]``, marked n.s. when the interval includes 0."""
    if entry is None:
        return "not measured"
    mark = "" if entry["resolved"] else " (n.s.)"
    return f"{entry['mean']:+.1f} [{entry['ci_low']:+.1f}, {entry['ci_high']:+.1f}]{mark}"


def _sizes(rows: list[dict], key: str) -> str:
    return "/".join(str(v) for v in dict.fromkeys(r.get(key) for r in rows if r.get(key) is not None))


def _headroom_caption(data: dict) -> str:
    rows = data["headroom"]["rows"]
    seeds = data["headroom"].get("seeds") or _sizes(rows, "seeds")
    trials = data["headroom"].get("trials") or _sizes(rows, "trials")
    return (
        f"Paired test difference from uniform in points [bootstrap 95% CI], {seeds} seeds, "
        f"{trials} mixtures searched; n.s.: the interval includes 0."
    )


def headroom_table(rows: list[dict]) -> list[str]:
    """The lines of the full headroom table, a row per ``benchmarks.headroom --json`` row."""
    lines = [
        "| suite | objective | budget | uniform | static headroom | best mixture | dynamic headroom | run time |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        shares = ", ".join(f"{t} {w:.2f}" for t, w in r["best_static"]["weights"].items())
        lines.append(
            f"| {r['suite']} | {r['objective']} | {r['budget']} | {r['uniform']['test']:.1f} | "
            f"{ci_cell(r['static_headroom'])} | {shares} | {ci_cell(r['dynamic_headroom'])} | {r['run_s']:.0f} s |"
        )
    return lines


def _headroom_full(data: dict, link: str) -> str:
    return "\n".join([_headroom_caption(data), "", *headroom_table(data["headroom"]["rows"])])


def _source(data: dict, link: str) -> str:
    commit = f" (commit {data['commit']})" if data.get("commit") else ""
    return f"From `{data['command']}`{commit}; the page: [{data['title']}]({link})."


def _headroom_summary(data: dict, link: str) -> str:
    lines = [
        "| suite | objective | budget | uniform | static headroom | dynamic headroom |",
        "|---|---|---|---|---|---|",
    ]
    for r in data["headroom"]["rows"]:
        lines.append(
            f"| `{r['suite']}` | `{r['objective']}` | {r['budget']} | {r['uniform']['test']:.1f} | "
            f"{ci_cell(r['static_headroom'])} | {ci_cell(r['dynamic_headroom'])} |"
        )
    return "\n".join([_headroom_caption(data), "", *lines, "", _source(data, link)])


def _bench_tables(data: dict, link: str, summary: bool) -> str:
    parts = []
    for bench in data["bench"]:
        columns = bench["columns"][-1:] if summary else bench["columns"]
        paired = any(m.get("paired") for m in bench["methods"].values())
        header = ["method", "lr", *columns, *(["Δ vs uniform (paired)"] if paired else [])]
        lines = [
            f"{bench['name']}: {bench['metric']}, in %: mean ± 95% CI over {bench['seeds']} seed(s); "
            "best per column in bold.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ]
        for method, entry in bench["methods"].items():
            cells = [
                f"**{entry['cells'][c]}**" if method in bench["best"].get(c, []) else entry["cells"][c]
                for c in columns
            ]
            if paired:
                p = entry.get("paired")
                cells.append(
                    "–" if p is None else f"{p['mean']:+.1f} [{p['ci_low']:+.1f}, {p['ci_high']:+.1f}]"
                )
            lines.append(f"| {method} | {entry['lr']:g} | " + " | ".join(cells) + " |")
        lines += ["", f"From `{bench['command']}`; the page: [{data['title']}]({link})."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _captured(block: dict, row: dict) -> float | None:
    """A method's captured fraction of the static headroom, or None where that headroom is not
    resolved (a fraction of a headroom that may be 0 means nothing)."""
    return row["captured"] if block["static_headroom"]["resolved"] else None


def _capture(data: dict, link: str) -> str:
    parts = []
    for block in data["capture"]:
        lines = [
            f"`{block['suite']}` (`{block['objective']}`, budget {block['budget']}; static headroom "
            f"{ci_cell(block['static_headroom'])}; agents: {block['agents']}). Paired test difference "
            "from uniform in points [bootstrap 95% CI], the fraction of the static headroom it "
            "captures, and the smallest and largest task share.",
            "",
            "| method | test | Δ vs uniform (paired) | captured | task shares |",
            "|---|---|---|---|---|",
        ]
        for method, row in block["methods"].items():
            captured = "–" if _captured(block, row) is None else f"{100 * row['captured']:.0f}%"
            lines.append(
                f"| `{method}` | {row['test']:.1f} | {ci_cell(row['paired'])} | {captured} | "
                f"{row['smallest_share']:.2f}–{row['largest_share']:.2f} |"
            )
        lines += ["", f"From `{block['command']}`."]
        parts.append("\n".join(lines))
    commit = f" (commit {data['commit']})" if data.get("commit") else ""
    return "\n\n".join(parts) + f"\n\nMeasured{commit}; the page: [{data['title']}]({link})."


def _commands_footer(commands: list[str], data: dict, link: str) -> str:
    """The commands behind a table (each once), its commit and its page."""
    listed = "\n".join(f"- `{command}`" for command in dict.fromkeys(commands))
    commit = f" (commit {data['commit']})" if data.get("commit") else ""
    return f"\n\nFrom:\n\n{listed}\n\nMeasured{commit}; the page: [{data['title']}]({link})."


def _capture_summary(data: dict, link: str) -> str:
    """One row per deployment (a block's ``deployment`` label) and method, one column per suite; a
    row that has it also gives its paired difference from the best static mixture (``vs_static``)."""
    blocks = data["capture"]
    suites: dict[str, dict] = {}  # each suite's first block gives its column header
    for block in blocks:
        suites.setdefault(block["suite"], block)
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for block in blocks:
        for method, row in block["methods"].items():
            captured = "" if _captured(block, row) is None else f", {100 * row['captured']:.0f}%"
            over_static = f"; vs best static {ci_cell(row['vs_static'])}" if "vs_static" in row else ""
            cells.setdefault((block["deployment"], method), {})[block["suite"]] = (
                ci_cell(row["paired"])
                + captured
                + f", largest share {row['largest_share']:.2f}"
                + over_static
            )
    header = ["agents and deployment", "method"] + [
        f"`{name}` @{b['budget']} (static {ci_cell(b['static_headroom'])})" for name, b in suites.items()
    ]
    lines = [
        "Paired test difference from uniform in points [bootstrap 95% CI], the fraction of the "
        "static headroom captured (where that headroom is resolved) and the largest task share, by suite "
        "(objective and seeds of each suite's headroom folder); where measured, the paired difference "
        "from the folder's best static mixture.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for (deployment, method), row in cells.items():
        lines.append(
            f"| {deployment} | `{method}` | " + " | ".join(row.get(name, "–") for name in suites) + " |"
        )
    return "\n".join(lines) + _commands_footer([b["command"] for b in blocks], data, link)


def _loss_cell(entry: dict) -> str:
    """A paired difference in loss units, to three decimals."""
    return f"{entry['mean']:+.3f} [{entry['ci_low']:+.3f}, {entry['ci_high']:+.3f}]"


def _fidelity(data: dict, link: str) -> str:
    """``benchmarks.fast_fidelity`` outputs: one row per fast-env setting and headroom folder."""
    lines = [
        "The full env's best static mixture against uniform on each env, paired by seed: on the full "
        "env (the headroom folder, test points), and on the fast env (test points, and the agent's "
        "reward at the run's end: minus the objective's dev loss; and the env's reward averaged over the "
        "run, the agents' reward with its penalty unless the row sets reference None: what an agent "
        "looking to the run's end maximises); Spearman's rho ranks every static "
        "schedule of the folder on both envs.",
        "",
        "| fast env | suite | full env: static headroom | fast env: same mixture, test | test rho "
        "| fast env: same mixture, reward | reward rho | reward ranks it first "
        "| same mixture, reward over the run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for block in data["fidelity"]:
        setting = ", ".join(f"{k} {v}" for k, v in {**block["features"], **block["env"]}.items()) or "default"
        for row in block["folders"]:
            lines.append(
                f"| {setting} | `{row['suite']}` @{row['budget']} (`{row['objective']}`) | "
                f"{ci_cell(row['static_headroom'])} | {ci_cell(row['fast_headroom'])} | "
                f"{row['rank_correlation']:+.2f} | {_loss_cell(row['reward_headroom'])} | "
                f"{row['reward_rank_correlation']:+.2f} | "
                f"{'yes' if row['reward_best'] == row['full_best'] else 'no'} | "
                f"{_loss_cell(row['return_headroom'])} |"
            )
    return "\n".join(lines) + _commands_footer([b["command"] for b in data["fidelity"]], data, link)


def _fidelity_agents(data: dict, link: str) -> str:
    """``benchmarks.fast_fidelity --agents`` outputs: each folder's agent deployed on the fast env."""

    def shares(entry: dict) -> str:
        return " / ".join(f"{share:.2f}" for share in entry["shares"].values())

    lines = [
        "Each folder's QLS agent deployed on the fast env it trained on, against uniform there, paired "
        "by seed: test points, and its reward at the run's end (minus the objective's dev loss); the "
        "full env's best static mixture's reward difference beside it, and the task shares in suite order.",
        "",
        "| agent (headroom folder) | best static: reward | deployed: test | deployed: reward | shares "
        "| greedy: test | greedy: reward | greedy shares |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for block in data["fidelity"]:
        for row in block["folders"]:
            default, greedy = row["agent"], row["agent:greedy"]
            lines.append(
                f"| `{row['folder']}` | {_loss_cell(row['reward_headroom'])} | {ci_cell(default['test'])} | "
                f"{_loss_cell(default['reward'])} | {shares(default)} | {ci_cell(greedy['test'])} | "
                f"{_loss_cell(greedy['reward'])} | {shares(greedy)} |"
            )
    return "\n".join(lines) + _commands_footer([b["command"] for b in data["fidelity"]], data, link)


def _known_answer(data: dict, link: str) -> str:
    """``benchmarks.known_answer`` output: each check against its goal, with the per-seed values."""

    def per_seed(values: dict, spec: str) -> str:
        return ", ".join(format(value, spec) for value in values.values())

    def marked(text: str, met: bool) -> str:
        return text if met else f"**{text}** (goal missed)"

    seeds = "-".join(str(seed) for seed in (data["seeds"][0], data["seeds"][-1]))
    noise = {seed: entry["default"] for seed, entry in data["noise_per_seed"].items()}
    greedy = {seed: entry["greedy"] for seed, entry in data["noise_per_seed"].items()}
    distances = {seed: entry["distance"] for seed, entry in data["imbalanced_per_seed"].items()}
    answer = ", ".join(f"{task} {share:.2f}" for task, share in data["imbalanced_answer"].items())
    rows = [
        (
            f"contextual bandit (4 states, action 0 masked, gamma 0.99, 4,000 steps): optimal states, "
            f"min over seeds {seeds}",
            marked(
                f"{data['bandit_optimal_states']} of 3 (per seed {per_seed(data['bandit_per_seed'], 'd')})",
                data["bandit_optimal_states"] == 3,
            ),
            "3",
        ),
        (
            f"target + pure-noise suite (`synthetic-target-noise`, {data['timesteps']:,} fast-env decisions, "
            "deployed for 200 minibatches): the noise task's share at the default softmax, max over seeds",
            marked(
                f"{data['noise_share']:.3f} (per seed {per_seed(noise, '.3f')})", data["noise_share"] <= 0.10
            ),
            "at most 0.10",
        ),
        (
            "the same, greedy",
            marked(
                f"{data['noise_share_greedy']:.3f} (per seed {per_seed(greedy, '.3f')})",
                data["noise_share_greedy"] <= 0.10,
            ),
            "at most 0.10",
        ),
        (
            f"imbalanced suite (`synthetic-imbalanced`, {data['imbalanced_timesteps']:,} fast-env decisions, "
            "deployed by default for 600 minibatches on 3 seeds): L1 distance of the task shares from the "
            f"best static mixture of `headroom` ({answer}), max over seeds",
            marked(
                f"{data['imbalanced_distance']:.2f} (per seed {per_seed(distances, '.2f')})",
                data["imbalanced_distance"] < data["uniform_distance"],
            ),
            f"below uniform's {data['uniform_distance']:.2f}",
        ),
    ]
    lines = ["| check | result | goal |", "|---|---|---|"]
    lines += [f"| {check} | {result} | {goal} |" for check, result, goal in rows]
    return "\n".join(lines) + _commands_footer([data["command"]], data, link)


TABLES = {
    "headroom": _headroom_full,
    "headroom-summary": _headroom_summary,
    "bench": lambda data, link: _bench_tables(data, link, summary=False),
    "bench-summary": lambda data, link: _bench_tables(data, link, summary=True),
    "capture": _capture,
    "capture-summary": _capture_summary,
    "fidelity": _fidelity,
    "fidelity-agents": _fidelity_agents,
    "known-answer": _known_answer,
}
"""The tables a marker may name: ``headroom`` (every column of the headroom table),
``headroom-summary`` (suite, objective, budget, uniform, the two headrooms; with the command and a
link to the page), ``bench`` (a bench's table of every task) and ``bench-summary`` (method, lr,
average and the paired difference from uniform) and ``capture`` (``benchmarks.headroom_capture``
outputs: each method's paired difference, captured fraction of the static headroom and task shares)
and ``capture-summary`` (the same outputs, labelled by their ``deployment``, as one row per
deployment and method with a column per suite) and ``fidelity`` (``benchmarks.fast_fidelity``
outputs: how the fast env ranks a headroom folder's static schedules against the full env) and
``fidelity-agents`` (its ``--agents`` outputs: each folder's agent deployed on the fast env) and
``known-answer`` (``benchmarks.known_answer --json``: each check, its per-seed values and its goal,
a missed goal in bold)."""


def render_table(data: dict, table: str, markdown_dir: Path, data_path: Path) -> str:
    """The Markdown of ``table`` from ``data`` (read from ``data_path``), with links relative to the
    Markdown file's folder ``markdown_dir``."""
    if table not in TABLES:
        raise ValueError(f"unknown results table {table!r}; known: {', '.join(TABLES)}")
    prefixes = ("headroom", "capture", "fidelity")
    needs = (
        "bandit_optimal_states"
        if table == "known-answer"
        else next((kind for kind in prefixes if table.startswith(kind)), "bench")
    )
    if needs not in data:
        raise ValueError(f"{data_path} holds no {needs} results for the table {table!r}")
    page = (data_path.parent / data.get("page", "")).resolve()
    link = Path(os.path.relpath(page, markdown_dir.resolve())).as_posix()
    return TABLES[table](data, link) + "\n"


def render_tables(text: str, markdown_dir: Path) -> str:
    """``text`` with every generated table rewritten from the data its marker names."""

    def rewrite(match: re.Match) -> str:
        data_path = markdown_dir / match["source"]
        if not data_path.is_file():
            raise ValueError(f"results table data {match['source']} not found beside {markdown_dir}")
        data = json.loads(data_path.read_text(encoding="utf-8"))
        return match["begin"] + render_table(data, match["table"], markdown_dir, data_path) + match["end"]

    if text.count(BEGIN) != len(BLOCK.findall(text)) or text.count(END) != text.count(BEGIN):
        raise ValueError(f"unmatched results-table markers ({BEGIN} ... -->, then {END})")
    return BLOCK.sub(rewrite, text)


def update_tables(paths: list[str | Path], check: bool = False) -> list[Path]:
    """Rewrite the generated tables of each Markdown file from their data; return the files whose
    tables were stale (with ``check``, leave them as they are)."""
    stale = []
    for path in map(Path, paths):
        text = path.read_text(encoding="utf-8")
        try:
            rendered = render_tables(text, path.parent)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        if rendered != text:
            stale.append(path)
            if not check:
                atomic_write_text(path, rendered)
    return stale


def tables_in(path: str | Path) -> list[tuple[str, str]]:
    """The (data, table) of each generated table in a Markdown file."""
    return [(m["source"], m["table"]) for m in BLOCK.finditer(Path(path).read_text(encoding="utf-8"))]


__all__ = [
    "TABLES",
    "bench_command",
    "settings_command",
    "config_command",
    "render_table",
    "render_tables",
    "tables_in",
    "update_tables",
    "write_page",
]
