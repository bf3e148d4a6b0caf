"""Task dominance of shared parameters: the rAU diagnostic of the AdaTask paper.

AU(i, t, k) = gamma AU(i, t-1, k) + (1 - gamma) (delta theta^k_{t,i})^2 is the decayed average
of the squared updates task k made to shared parameter element i (Yang et al. 2023, eq. 2), and
rAU(i, t, k) = AU(i, t, k) / sum_j AU(i, t, j) its share (eq. 3). An element is dominated by
task k when rAU(i, t, k) is in (0.8, 1] and balanced when every task's rAU is within 0.1 of
1/K, which for two tasks is the paper's (0.4, 0.6] (§"RQ2", Figs. 2-4, 6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from mtl_gym.io import atomic_path

DOMINANCE = 0.8
BALANCE_MARGIN = 0.1
BUCKET_EDGES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
"""The paper's thresholds; the first bucket includes 0 (a task that never updated the element)."""


class TaskDominance:
    """Accumulated squared updates per task for every element of some named shared parameters.

    ``decay`` is gamma of eq. 2; the paper leaves it open, 0.99 is RMSProp's decay in torch,
    the optimizer of the paper's synthetic study.
    """

    def __init__(
        self, named_parameters: Iterable[tuple[str, nn.Parameter]], num_tasks: int, decay: float = 0.99
    ):
        self.names = {id(parameter): name for name, parameter in named_parameters}
        self.num_tasks = num_tasks
        self.decay = decay
        self.accumulated: dict[str, Tensor] = {}

    def record(self, parameter: nn.Parameter, updates: Mapping[int, Tensor]) -> None:
        """One step's update of ``parameter`` by each task in ``updates`` (absent tasks made none)."""
        name = self.names[id(parameter)]
        if name not in self.accumulated:
            self.accumulated[name] = parameter.new_zeros((self.num_tasks, *parameter.shape))
        accumulated = self.accumulated[name]
        accumulated.mul_(self.decay)
        for task, update in updates.items():
            accumulated[task].add_(update.detach().square(), alpha=1 - self.decay)

    def rau(self, name: str) -> Tensor:
        """``[K, *shape]`` rAU of parameter ``name``; NaN where no task has updated an element."""
        accumulated = self.accumulated[name]
        return accumulated / accumulated.sum(0)

    def report(self, task_names: Sequence[str] | None = None) -> dict:
        """Per layer (module) and over all tracked parameters: how many elements, how many some
        task updated, the share of those dominated by each task and the share balanced, and the
        share of each task's rAU in the paper's five buckets. JSON-serialisable."""
        names = list(task_names) if task_names is not None else [str(k) for k in range(self.num_tasks)]
        if len(names) != self.num_tasks:
            raise ValueError(f"got {len(names)} task names for {self.num_tasks} tasks")
        layers: dict[str, list[Tensor]] = {}
        for name, accumulated in self.accumulated.items():
            layers.setdefault(name.rsplit(".", 1)[0], []).append(accumulated.flatten(1))
        summaries = {layer: _summary(torch.cat(blocks, dim=1), names) for layer, blocks in layers.items()}
        flat = [a.flatten(1) for a in self.accumulated.values()]
        everything = torch.cat(flat, dim=1) if flat else torch.zeros(len(names), 0)
        return {"tasks": names, "decay": self.decay, "layers": summaries, "all": _summary(everything, names)}


def _summary(accumulated: Tensor, names: list[str]) -> dict:
    total = accumulated.sum(0)
    updated = total > 0
    rau = accumulated[:, updated] / total[updated]
    count = int(updated.sum())

    def share(mask: Tensor) -> float:
        return float(mask.sum()) / count if count else 0.0

    centre = 1.0 / len(names)
    balanced = ((rau > centre - BALANCE_MARGIN) & (rau <= centre + BALANCE_MARGIN)).all(0)
    buckets = list(zip(BUCKET_EDGES[:-1], BUCKET_EDGES[1:], strict=True))
    return {
        "parameters": accumulated.shape[1],
        "updated": count,
        "dominated": {name: share(rau[k] > DOMINANCE) for k, name in enumerate(names)},
        "balanced": share(balanced),
        "buckets": {
            name: [share(_in_bucket(rau[k], low, high)) for low, high in buckets]
            for k, name in enumerate(names)
        },
    }


def _in_bucket(values: Tensor, low: float, high: float) -> Tensor:
    above = values >= low if low == BUCKET_EDGES[0] else values > low
    return above & (values <= high)


def plot_dominance(report: dict, path: str | Path | None = None):
    """Stacked bars per layer: the share of updated shared elements dominated by each task, balanced,
    or neither; like the AdaTask paper's Figs. 2 and 6. Returns the matplotlib Figure, saved to
    ``path`` when given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 0.5 * (len(report["layers"]) + 1) + 1.5))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    draw_dominance(axes, report)
    axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, fontsize="small")
    figure.tight_layout()
    if path is not None:
        with atomic_path(path) as temporary:
            figure.savefig(temporary)
    return figure


def draw_dominance(axes, report: dict) -> None:
    """The bars of :func:`plot_dominance` on the given matplotlib Axes (e.g. one panel per method).
    Each task has its own colour (up to 18 tasks), balanced is green and neither grey."""
    from matplotlib import colormaps

    rows = {**report["layers"], "all": report["all"]}
    labels = list(rows)
    left = [0.0] * len(rows)
    palette = [c for i, c in enumerate(colormaps["tab20"].colors) if i not in (4, 5)]  # greens: balanced
    segments = [
        (f"dominated by {task}", palette[k % len(palette)], [r["dominated"][task] for r in rows.values()])
        for k, task in enumerate(report["tasks"])
    ]
    segments.append(("balanced", "tab:green", [r["balanced"] for r in rows.values()]))
    rest = [max(0.0, 1.0 - sum(s[i] for *_, s in segments)) for i in range(len(rows))]
    segments.append(("neither", "lightgrey", rest))
    for label, color, widths in segments:
        axes.barh(labels, widths, left=left, label=label, color=color)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.set_xlim(0, 1)
    axes.set_xlabel("share of updated shared parameters")
    axes.invert_yaxis()


def mean_report(reports: Sequence[dict]) -> dict:
    """The element-wise mean of several :meth:`TaskDominance.report` s over the same tasks and layers
    (e.g. of seeds); counts are averaged too."""
    if not reports:
        raise ValueError("mean_report needs at least one report")

    def mean(values: list):
        if isinstance(values[0], dict):
            return {key: mean([v[key] for v in values]) for key in values[0]}
        if isinstance(values[0], list):
            return [mean(list(column)) for column in zip(*values, strict=True)]
        return sum(values) / len(values)

    first = reports[0]
    if any(r["tasks"] != first["tasks"] or list(r["layers"]) != list(first["layers"]) for r in reports):
        raise ValueError("mean_report needs reports over the same tasks and layers")
    return {
        "tasks": first["tasks"],
        "decay": first["decay"],
        "layers": mean([r["layers"] for r in reports]),
        "all": mean([r["all"] for r in reports]),
    }
