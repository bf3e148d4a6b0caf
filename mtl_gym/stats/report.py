"""``aggregate.md``, ``aggregate.json`` and ``aggregate.png`` from an ``Aggregate``.

The table and the plot put each point estimate beside its confidence interval, as Agarwal et al.
(2021) ask: with few seeds, an interval shows when a gap between methods is within the noise.
Figures are drawn on a bare ``matplotlib.figure.Figure`` (Agg canvas, no pyplot state), so rendering
works headless and from worker threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..io import atomic_path, atomic_write_json, atomic_write_text
from .aggregate import Aggregate, MethodAggregate
from .bootstrap import Estimate

CITATION = 'Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice"'


def ranked(aggregate: Aggregate) -> list[MethodAggregate]:
    """Methods by IQM, best first (ties keep the input order)."""
    return sorted(aggregate.methods, key=lambda m: -m.iqm.point)


def render_markdown(aggregate: Aggregate, unit: str = "%", digits: int = 1) -> str:
    """The aggregate table, methods by IQM, with the bootstrap settings and the notes."""
    config = aggregate.config
    level = f"{100 * config.level:g}%"
    resampled = "seeds and tasks" if config.task_bootstrap else "seeds within each task"
    lines = [
        f"Aggregates over {len(aggregate.tasks)} tasks: point estimate [{level} CI], stratified bootstrap "
        f"({resampled}; {config.reps} resamples, {config.method} intervals, seed {config.seed}); "
        f"IQM = mean of the middle 50% of all seeds' per-task scores; P(X > Y) = chance a run of X "
        f"beats a run of Y on a task, averaged over tasks ({CITATION}).",
        "",
    ]
    header = ["method", "seeds", f"mean ({unit})", f"median ({unit})", f"IQM ({unit})"]
    header += [f"P(X > {ref})" for ref in aggregate.references]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for m in ranked(aggregate):
        cells = [m.method, str(m.runs)] + [_cell(e, digits) for e in (m.mean, m.median, m.iqm)]
        cells += [
            _cell(m.improvement[ref], 2) if ref in m.improvement else "—" for ref in aggregate.references
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if aggregate.notes:
        lines += [""] + [f"- Note: {note}" for note in aggregate.notes]
    return "\n".join(lines) + "\n"


def plot_aggregate(aggregate: Aggregate, unit: str = "%") -> Figure:
    """Interval estimates (one panel per statistic, methods by IQM) over the performance profile."""
    methods = ranked(aggregate)
    panels: list[tuple[str, list[Estimate | None]]] = [
        (f"Mean ({unit})", [m.mean for m in methods]),
        (f"IQM ({unit})", [m.iqm for m in methods]),
    ]
    panels += [(f"P(X > {ref})", [m.improvement.get(ref) for m in methods]) for ref in aggregate.references]
    colours = _colours(len(methods))
    height = max(2.0, 0.28 * len(methods) + 0.8)
    figure = Figure(figsize=(3.2 * len(panels), height + 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, len(panels), height_ratios=[height, 4.0])
    for column, (title, estimates) in enumerate(panels):
        axes = figure.add_subplot(grid[0, column])
        _interval_panel(axes, title, [m.method for m in methods], estimates, colours, first=column == 0)
        if title.startswith("P("):
            axes.axvline(0.5, color="grey", linestyle="--", linewidth=0.8)
    _profile_panel(figure.add_subplot(grid[1, :]), aggregate, methods, colours, unit)
    level = f"{100 * aggregate.config.level:g}%"
    figure.suptitle(f"Point estimates with {level} stratified bootstrap CIs ({CITATION})", fontsize=9)
    return figure


def write_aggregate(
    aggregate: Aggregate, out: str | Path, unit: str = "%", digits: int = 1
) -> dict[str, Path]:
    """Writes ``aggregate.md``, ``aggregate.json`` and ``aggregate.png`` into ``out`` (each atomically);
    returns their paths by suffix."""
    folder = Path(out)
    paths = {
        "md": atomic_write_text(folder / "aggregate.md", render_markdown(aggregate, unit, digits)),
        "json": atomic_write_json(folder / "aggregate.json", aggregate.to_json()),
    }
    figure = plot_aggregate(aggregate, unit)
    with atomic_path(folder / "aggregate.png") as temporary:
        figure.savefig(temporary, format="png", dpi=130)
    paths["png"] = folder / "aggregate.png"
    return paths


def _cell(estimate: Estimate, digits: int) -> str:
    return f"{estimate.point:.{digits}f} [{estimate.low:.{digits}f}, {estimate.high:.{digits}f}]"


def _colours(count: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    palette = colormaps["tab10" if count <= 10 else "tab20"]
    return [palette(i % palette.N) for i in range(count)]


def _interval_panel(axes, title: str, names: list[str], estimates, colours, first: bool) -> None:
    rows = np.arange(len(names))[::-1]
    for row, estimate, colour in zip(rows, estimates, colours, strict=True):
        if estimate is None:
            continue
        axes.plot([estimate.low, estimate.high], [row, row], color=colour, linewidth=6, alpha=0.55)
        axes.plot([estimate.point], [row], marker="|", color="black", markersize=10)
    axes.set_yticks(rows, names if first else [""] * len(names), fontsize=8)
    axes.set_ylim(-0.7, len(names) - 0.3)
    axes.set_title(title, fontsize=9)
    axes.tick_params(axis="x", labelsize=8)
    axes.grid(axis="x", alpha=0.3)


def _profile_panel(axes, aggregate: Aggregate, methods: list[MethodAggregate], colours, unit: str) -> None:
    profile = aggregate.profile
    styles = ["-", "--", ":", "-."]
    band = 0.15 if len(methods) <= 10 else 0.06
    for index, (m, colour) in enumerate(zip(methods, colours, strict=True)):
        style = styles[(index // 10) % len(styles)]
        axes.plot(profile.taus, profile.fraction[m.method], color=colour, linestyle=style, label=m.method)
        axes.fill_between(
            profile.taus, profile.low[m.method], profile.high[m.method], color=colour, alpha=band
        )
    axes.set_xlabel(f"score τ ({unit})", fontsize=9)
    axes.set_ylabel("fraction of runs with score > τ", fontsize=9)
    axes.set_title("Performance profile (run-score distribution)", fontsize=9)
    axes.set_ylim(-0.02, 1.02)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, ncols=max(1, len(methods) // 12), loc="center left", bbox_to_anchor=(1.0, 0.5))
