"""Figures of a sweep at each method's tuned lr, as PNG: per-task dev curves, and each scheduler's
task choices over the run. Drawn on bare Agg figures, so no pyplot state or display is involved."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mtl_gym.baselines.adatask import draw_dominance, mean_report
from mtl_gym.io import atomic_path, atomic_write_json

from ..methods import METHODS
from .tables import runs_at

WINDOWS = 50
"""Most bins of a scheduler's timeline; each shows the share of each task among the choices in it."""


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: Path) -> None:
    """Drawn to a temporary file beside ``path``, then renamed: a kill mid-plot leaves no broken PNG."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary)


def plot_curves(summary: dict, records: list[dict], methods: list[str], path: Path) -> None:
    """One panel per task: dev accuracy against budget, mean over seeds, one line per method."""
    tasks = summary["tasks"]
    columns = min(4, len(tasks))
    rows = math.ceil(len(tasks) / columns)
    figure = new_figure(3.2 * columns, 2.6 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for method in methods:
        runs = runs_at(records, method, summary["methods"][method]["lr"])
        # Seeds share the evaluation schedule; a run a rule ended early has fewer points.
        points = min(len(r["curves"]) for r in runs)
        budget = [p["budget"] for p in runs[0]["curves"][:points]]
        for axis, task in zip(axes[: len(tasks)], tasks, strict=True):
            dev = np.mean([[p["dev_acc"][task] for p in r["curves"][:points]] for r in runs], axis=0)
            axis.plot(budget, dev, marker=".", label=method)
    for axis, task in zip(axes[: len(tasks)], tasks, strict=True):
        axis.set_title(task, fontsize="medium")
        axis.set_xlabel("task-minibatches", fontsize="small")
        axis.set_ylabel("dev accuracy", fontsize="small")
    for axis in axes[len(tasks) :]:
        axis.set_visible(False)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=min(5, len(labels)), fontsize="small")
    save_figure(figure, path)


def trains_every_task(method: str) -> bool:
    """Joint methods and joint-setting KD train every (unconverged) task in every step: their
    recorded actions, if any, only order the minibatches, and a timeline of them would mislead."""
    parsed = METHODS.parse(method)
    return parsed.kind == "joint" or getattr(parsed.method, "setting", None) == "joint"


def plot_timelines(summary: dict, records: list[dict], methods: list[str], path: Path) -> bool:
    """Per method, the share of each task among its choices over the run of its first seed, stacked;
    methods that train every task every step are one "all tasks" band. Returns False, writing
    nothing, when no method schedules."""
    first_runs = {m: runs_at(records, m, summary["methods"][m]["lr"])[0] for m in methods}
    schedulers = {m: run for m, run in first_runs.items() if run["actions"] or trains_every_task(m)}
    if not any(run["actions"] and not trains_every_task(m) for m, run in schedulers.items()):
        return False
    tasks = summary["tasks"]
    figure = new_figure(8, 1.6 * len(schedulers) + 0.6)
    axes = figure.subplots(len(schedulers), 1, squeeze=False).ravel()
    for axis, (method, run) in zip(axes, schedulers.items(), strict=True):
        axis.set_xlim(0, run["budget"])
        axis.set_ylim(0, 1)
        axis.set_title(f"{method} (seed {run['seed']})", fontsize="medium")
        axis.set_ylabel("share of choices", fontsize="small")
        if trains_every_task(method):
            axis.bar(0, 1, run["budget"], align="edge", color="0.8", hatch="//", label="all tasks every step")
            continue
        actions = np.array(run["actions"])
        # Windows of at least 4K choices, so that round-robin reads as flat shares rather than teeth.
        chunks = np.array_split(actions, max(1, min(WINDOWS, len(actions) // (4 * len(tasks)))))
        sizes = np.array([len(chunk) for chunk in chunks])
        # Window edges in budget units (an action may cover several minibatches).
        scale = run["budget"] / sizes.sum()
        starts, widths = (np.cumsum(sizes) - sizes) * scale, sizes * scale
        bottom = np.zeros(len(chunks))
        for k, task in enumerate(tasks):
            share = np.array([np.mean(chunk == k) for chunk in chunks])
            axis.bar(starts, share, widths, bottom, align="edge", label=task)
            bottom += share
    axes[-1].set_xlabel("task-minibatches")
    legends = {
        label: handle
        for axis in axes
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True)
    }
    labels, handles = list(legends), list(legends.values())
    figure.legend(handles, labels, loc="outside lower center", ncol=min(6, len(labels)), fontsize="small")
    save_figure(figure, path)
    return True


def write_dominance(summary: dict, records: list[dict], methods: list[str], out: Path) -> bool:
    """For the methods whose runs report rAU (those under AdaTask), ``dominance.json`` (the report
    averaged over seeds at the tuned lr) and ``dominance.png`` (the AdaTask paper's bars, one panel
    per method). Returns False, writing nothing, when no method reports it."""
    reports = {}
    for method in methods:
        runs = runs_at(records, method, summary["methods"][method]["lr"])
        if all("dominance" in run["extra"] for run in runs):
            reports[method] = mean_report([run["extra"]["dominance"] for run in runs])
    if not reports:
        return False
    atomic_write_json(out / "dominance.json", reports, allow_nan=True)
    first = next(iter(reports.values()))
    layers, legend_rows = len(first["layers"]) + 1, math.ceil((len(first["tasks"]) + 2) / 3)
    figure = new_figure(9, (0.35 * layers + 0.8) * len(reports) + 0.25 * legend_rows + 0.4)
    axes = figure.subplots(len(reports), 1, squeeze=False).ravel()
    for axis, (method, report) in zip(axes, reports.items(), strict=True):
        draw_dominance(axis, report)
        axis.set_title(f"{method}: rAU of the shared parameters at the end of training", fontsize="medium")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside lower center", ncol=3, fontsize="small")
    save_figure(figure, out / "dominance.png")
    return True
