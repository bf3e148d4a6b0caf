"""The two-task Pareto view of the MTO reality check (§4.1, Figs. 2, 4, 5): test accuracy of task A
against task B for a sweep of fixed sampling ratios (scalarization by proportional sampling) and
for every method, so a method can be read against the front the plain sweep traces."""

from __future__ import annotations

from pathlib import Path

from mtl_gym.io import atomic_write_json

from .config import BenchConfig
from .plots import new_figure, save_figure


def pareto_summary(summary: dict, config: BenchConfig) -> dict:
    """Mean test accuracy of A and B at the tuned lr, for each sweep ratio and each method, and
    which points no other point beats on both tasks."""
    a, b = config.pareto
    points = [
        {"ratio": r, "method": m} for r, m in zip(config.pareto_ratios, config.pareto_methods(), strict=True)
    ]
    points += [{"ratio": None, "method": m} for m in config.methods]
    # A partial sweep (mtl-gym report) plots the points it has.
    points = [p for p in points if p["method"] in summary["methods"]]
    for point in points:
        entry = summary["methods"][point["method"]]
        point.update(lr=entry["lr"], **{task: entry["cells"][task]["mean"] for task in (a, b)})
    for point in points:
        point["non_dominated"] = not any(
            other[a] >= point[a] and other[b] >= point[b] and (other[a], other[b]) != (point[a], point[b])
            for other in points
        )
    return {"tasks": [a, b], "points": points}


def write_pareto(pareto: dict, out: Path) -> None:
    """``pareto.json`` and ``pareto.png``: the sweep as a dashed line labelled by A's share, methods
    as markers."""
    atomic_write_json(out / "pareto.json", pareto, allow_nan=True)
    a, b = pareto["tasks"]
    sweep = [p for p in pareto["points"] if p["ratio"] is not None]
    figure = new_figure(6, 5)
    axis = figure.add_subplot()
    axis.plot(
        [p[a] for p in sweep], [p[b] for p in sweep], "o--", color="tab:blue", label=f"fixed {a}:{b} ratio"
    )
    for point in sweep:
        axis.annotate(f"{point['ratio']:g}", (point[a], point[b]), textcoords="offset points", xytext=(4, 4))
    markers = "s^vD<>pP*Xh"
    for index, point in enumerate(p for p in pareto["points"] if p["ratio"] is None):
        axis.plot(point[a], point[b], markers[index % len(markers)], markersize=9, label=point["method"])
    axis.set_xlabel(f"{a} test accuracy")
    axis.set_ylabel(f"{b} test accuracy")
    axis.legend(fontsize="small")
    save_figure(figure, out / "pareto.png")
