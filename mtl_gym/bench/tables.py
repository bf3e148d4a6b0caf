"""Tuning and the results table, laid out as the QLS paper's Table 2 (methods x tasks and their
average): each method's learning rate is the one of best mean dev accuracy over seeds, and each
cell is the mean test accuracy over seeds at that rate ± the half-width of its 95% CI."""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

from mtl_gym.bench.stats import format_ci, mean_ci
from mtl_gym.io import atomic_path, atomic_write_json, atomic_write_text
from mtl_gym.objective import BoundObjective, bind_objective
from mtl_gym.stats import paired_difference

AVERAGE = "average"


def summarise(
    records: list[dict],
    methods: list[str],
    lr_grid: list[float],
    metric: str = "acc",
    objective: str = "mean",
) -> dict:
    """Per method: the mean dev and test score at every lr, the chosen lr, and per task (and
    ``average``) the seeds' test scores at that lr. ``metric`` ``acc`` scores every task by
    accuracy; ``f1`` scores IOB tagging tasks by chunk F1 and the others by accuracy. The
    ``average`` column, and the dev score that picks the lr, are the ``objective``'s
    (``mtl_gym.objective``): the plain mean by default, only the target's score under ``target:TASK``."""
    tasks = list(records[0]["tasks"])
    bound = bind_objective(objective, tasks)
    summary: dict = {
        "tasks": tasks,
        "columns": [*tasks, AVERAGE],
        "objective": bound.objective.text,
        "lr_grid": lr_grid,
        "methods": {},
    }
    for method in methods:
        # Only the learning rates with finished runs: a partial sweep (mtl-gym report) tunes over them.
        runs = {lr: group for lr in lr_grid if (group := runs_at(records, method, lr))}
        if not runs:
            continue
        tuning = {
            f"{lr:g}": {
                "dev": statistics.fmean(average_score(r, "dev", metric, bound) for r in group),
                "test": statistics.fmean(average_score(r, "test", metric, bound) for r in group),
                "seeds": len(group),
            }
            for lr, group in runs.items()
        }
        # max keeps the first of equal scores, so ties go to the earlier lr of the grid.
        lr = max(runs, key=lambda rate: tuning[f"{rate:g}"]["dev"])
        chosen = runs[lr]
        values = {t: [task_score(r["tasks"][t], "test", metric) for r in chosen] for t in tasks}
        values[AVERAGE] = [average_score(r, "test", metric, bound) for r in chosen]
        summary["methods"][method] = {
            "lr": lr,
            "tuning": tuning,
            "cells": {column: cell(v) for column, v in values.items()},
            "seeds": [r["params"].get("seed") for r in chosen],
        }
    add_paired_differences(summary)
    return summary


REFERENCE = "uniform"
"""The method every other is compared with, seed by seed."""


def add_paired_differences(summary: dict) -> None:
    """Each method's ``paired``: the mean over common seeds of (its headline score - uniform's), in
    points, with a bootstrap 95% interval (``mtl_gym.stats.paired_difference``). Both run seed i
    with the same initialisation and minibatch order, so the pairing cancels what the seed does to
    both; None where uniform was not run or no seed is common."""
    methods = summary["methods"]
    if REFERENCE not in methods:
        return
    reference = dict(
        zip(methods[REFERENCE]["seeds"], methods[REFERENCE]["cells"][AVERAGE]["values"], strict=True)
    )
    for entry in methods.values():
        own = dict(zip(entry["seeds"], entry["cells"][AVERAGE]["values"], strict=True))
        common = sorted(set(own) & set(reference) - {None})
        if not common:
            entry["paired"] = None
            continue
        estimate = paired_difference([100 * own[s] for s in common], [100 * reference[s] for s in common])
        entry["paired"] = {
            "reference": REFERENCE,
            "seeds": len(common),
            "mean": estimate.point,
            "ci_low": estimate.low,
            "ci_high": estimate.high,
        }


def paired_text(entry: dict) -> str:
    paired = entry.get("paired")
    if paired is None:
        return "–"
    return f"{paired['mean']:+.1f} [{paired['ci_low']:+.1f}, {paired['ci_high']:+.1f}]"


def task_score(entry: dict, split: str, metric: str) -> float:
    if metric == "f1" and f"{split}_f1" in entry:
        return entry[f"{split}_f1"]
    return entry[f"{split}_acc"]


def average_score(record: dict, split: str, metric: str, objective: BoundObjective | None = None) -> float:
    """The record's score over its tasks: their mean, or ``objective``'s reduction of them."""
    if objective is None:
        return statistics.fmean(task_score(entry, split, metric) for entry in record["tasks"].values())
    return float(objective.score({t: task_score(e, split, metric) for t, e in record["tasks"].items()}))


def column_label(summary: dict, column: str) -> str:
    """A column's header: ``average`` is named by the objective when that is not the plain mean."""
    objective = summary.get("objective", "mean")
    return f"objective {objective}" if column == AVERAGE and objective != "mean" else column


def has_f1(records: list[dict]) -> bool:
    """Whether some task of the suite is IOB tagging, scored by chunk F1 as well as token accuracy."""
    return any("test_f1" in entry for entry in records[0]["tasks"].values())


def runs_at(records: list[dict], method: str, lr: float) -> list[dict]:
    """The records of ``method`` at ``lr``, one per seed."""
    return [r for r in records if r["params"]["method"] == method and r["params"]["lr"] == lr]


def cell(values: list[float]) -> dict:
    mean, half = mean_ci(values)
    return {
        "mean": mean,
        "ci95": None if math.isnan(half) else half,
        "values": values,
        "text": format_ci(values),
    }


def best_methods(summary: dict, methods: list[str]) -> dict[str, list[str]]:
    """Per column, the methods of highest mean test accuracy (several on a tie)."""
    best = {}
    for column in summary["columns"]:
        means = {m: summary["methods"][m]["cells"][column]["mean"] for m in methods}
        # Means of different seeds' accuracies can be equal but for float rounding.
        best[column] = [m for m, mean in means.items() if math.isclose(mean, max(means.values()))]
    return best


def write_tables(
    summary: dict,
    methods: list[str],
    out: Path,
    stem: str = "table",
    metric: str = "test accuracy at the lr of best mean dev accuracy",
) -> str:
    """``STEM.md``, ``STEM.csv`` (one row per method and column) and ``STEM.json`` for ``methods``;
    returns the Markdown. ``metric`` says what the cells are (the caption and the JSON's ``metric``)."""
    columns, best = summary["columns"], best_methods(summary, methods)
    seeds = len(summary["methods"][methods[0]]["cells"][AVERAGE]["values"])
    paired = any(summary["methods"][m].get("paired") for m in methods)
    caption = (
        f"{metric[0].upper()}{metric[1:]}, in %: mean ± 95% CI over {seeds} seed(s) (lr grid "
        f"{', '.join(f'{lr:g}' for lr in summary['lr_grid'])}); best per column in bold."
    )
    if paired:
        caption += (
            f" The last column is the headline score's mean difference from {REFERENCE} over the seeds both "
            "ran, paired by seed, in points [bootstrap 95% CI]: an interval that excludes 0 resolves the method."
        )
    header = ["method", "lr", *(column_label(summary, c) for c in columns)]
    header += [f"Δ vs {REFERENCE} (paired)"] if paired else []
    lines = [caption, "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = []
    for method in methods:
        entry = summary["methods"][method]
        cells = [f"{entry['lr']:g}", *(_bold(entry["cells"][c]["text"], method in best[c]) for c in columns)]
        cells += [paired_text(entry)] if paired else []
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
        rows += [
            {
                "method": method,
                "lr": entry["lr"],
                "column": c,
                "mean": cell["mean"],
                "ci95": cell["ci95"],
                "seeds": len(cell["values"]),
                "best": method in best[c],
            }
            for c, cell in entry["cells"].items()
        ]
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(out / f"{stem}.md", markdown)
    with atomic_path(out / f"{stem}.csv") as temporary, open(temporary, "w", newline="") as handle:
        # A missing CI (one seed) is written as an empty field.
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    table = {
        "metric": metric,
        "objective": summary.get("objective", "mean"),
        "columns": columns,
        "lr_grid": summary["lr_grid"],
        "best": best,
        "methods": {m: summary["methods"][m] for m in methods},
    }
    atomic_write_json(out / f"{stem}.json", table, allow_nan=True)
    return markdown


def _bold(text: str, bold: bool) -> str:
    return f"**{text}**" if bold else text
