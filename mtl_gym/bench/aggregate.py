"""The sweep's robust aggregates (rliable's estimators, ``mtl_gym.stats``): per method, mean, median
and IQM of the per-task test scores at its tuned lr with stratified bootstrap CIs, the probability
of improvement over uniform and equal weighting, and performance profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..objective import bind_objective
from ..stats import Aggregate, aggregate_scores, ranking_caveat, write_aggregate
from .tables import runs_at, task_score


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


def write_aggregates(summary: dict, records: list[dict], methods: list[str], out: Path) -> Aggregate:
    """``aggregate.md|json|png`` in ``out``; returns the aggregate."""
    matrices = score_matrices(summary, records, methods)
    tasks = bind_objective(summary.get("objective", "mean"), summary["tasks"]).counts()
    aggregate = aggregate_scores(matrices, tasks=tasks)
    write_aggregate(aggregate, out)
    return aggregate


def ranking_note(ranking: dict, aggregate: Aggregate) -> str:
    """How many seeds the ranking's win rates rest on, and a warning when the leaders' IQM CIs overlap."""
    order = sorted(ranking["methods"], key=lambda name: -ranking["methods"][name]["win_share"])
    by_name = aggregate.by_name()
    seeds = {name: by_name[name].runs for name in order}
    return ranking_caveat(order, seeds, {name: by_name[name].iqm for name in order}).text
