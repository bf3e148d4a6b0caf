"""The sweep's robust aggregates (rliable's estimators, ``mtl_gym.stats``): per method, mean, median
and IQM of the per-task test scores at its tuned lr with stratified bootstrap CIs, the probability
of improvement over uniform and equal weighting, and performance profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import atomic_write_text
from ..objective import bind_objective
from ..stats import Aggregate, aggregate_scores, ranking_caveat, render_markdown, write_aggregate
from .tables import REFERENCE, paired_text, runs_at, task_score


def score_matrices(summary: dict, records: list[dict], methods: list[str], metric: str = "acc") -> dict:
    """Per method, its (seeds x tasks) test scores in % at its tuned lr, over the tasks the summary's
    objective counts (every task for ``mean`` and ``worst``; the target alone for ``target:TASK``)."""
    tasks = bind_objective(summary.get("objective", "mean"), summary["tasks"]).counts()
    return {
        method: 100
        * np.array(
            [
                [task_score(run["tasks"][task], "test", metric) for task in tasks]
                for run in runs_at(records, method, summary["methods"][method]["lr"])
            ]
        )
        for method in methods
    }


def write_aggregates(
    summary: dict, records: list[dict], methods: list[str], out: Path
) -> tuple[Aggregate, str]:
    """``aggregate.md|json|png`` in ``out``; returns the aggregate and the Markdown of ``aggregate.md``:
    the robust aggregates, then each method's paired difference from uniform."""
    matrices = score_matrices(summary, records, methods)
    tasks = bind_objective(summary.get("objective", "mean"), summary["tasks"]).counts()
    aggregate = aggregate_scores(matrices, tasks=tasks)
    write_aggregate(aggregate, out)
    markdown = render_markdown(aggregate) + paired_markdown(summary, methods)
    atomic_write_text(out / "aggregate.md", markdown)
    return aggregate, markdown


def paired_markdown(summary: dict, methods: list[str]) -> str:
    """The probability of improvement above compares independent runs; this compares each method
    with uniform seed by seed (the table's last column), which resolves smaller differences."""
    paired = {m: summary["methods"][m].get("paired") for m in methods}
    if not any(paired.values()):
        return ""
    lines = ["", f"Paired with {REFERENCE} by seed (headline score, points, bootstrap 95% CI):", ""]
    lines += [f"- {m}: {paired_text(summary['methods'][m])}" for m in methods if paired[m]]
    return "\n".join(lines) + "\n"


def ranking_note(ranking: dict, aggregate: Aggregate) -> str:
    """How many seeds the ranking's win rates rest on, and a warning when the leaders' IQM CIs overlap."""
    order = sorted(ranking["methods"], key=lambda name: -ranking["methods"][name]["win_share"])
    by_name = aggregate.by_name()
    seeds = {name: by_name[name].runs for name in order}
    return ranking_caveat(order, seeds, {name: by_name[name].iqm for name in order}).text
