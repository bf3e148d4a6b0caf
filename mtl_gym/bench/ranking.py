"""Utility-robust ranking (the MTO reality check, §4.1 and Fig. 6 right): the plain average of
per-task scores is one arbitrary utility, and rankings can flip as the task weights change. So
methods are ranked under many random weightings w ~ Dirichlet(1) of the tasks, by sum_k w_k acc_k,
and each method's share of wins and mean rank are reported alongside its rank at equal weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mtl_gym.io import atomic_write_json, atomic_write_text

TIE = 1e-9
"""Utilities this close are equal: accuracies that average to the same value may differ in rounding."""


def utility_ranking(scores: dict[str, list[float]], weightings: int, seed: int) -> dict:
    """``scores``: per method, its per-task scores (the same tasks in the same order)."""
    names = list(scores)
    matrix = np.array([scores[n] for n in names])
    weights = np.random.default_rng(seed).dirichlet(np.ones(matrix.shape[1]), size=weightings)
    utility = weights @ matrix.T
    winners = utility >= utility.max(axis=1, keepdims=True) - TIE
    # A tie splits the win, so the shares sum to 1.
    wins = (winners / winners.sum(axis=1, keepdims=True)).mean(axis=0)
    equal = _ranks(matrix.mean(axis=1)[None])[0]
    ranks = _ranks(utility)
    return {
        "weightings": weightings,
        "distribution": "Dirichlet(1)",
        "seed": seed,
        "methods": {
            n: {
                "win_share": float(wins[i]),
                "mean_rank": float(ranks[:, i].mean()),
                "equal_weights_rank": int(equal[i]),
            }
            for i, n in enumerate(names)
        },
    }


def _ranks(utility: np.ndarray) -> np.ndarray:
    """Per row, 1 + how many methods score strictly higher (ties share the better rank)."""
    return 1 + (utility[:, None, :] > utility[:, :, None] + TIE).sum(axis=2)


def write_ranking(ranking: dict, out: Path, note: str = "") -> str:
    """``ranking.json`` and ``ranking.md`` (methods by win share, then ``note``: how many seeds the
    win rates rest on, and whether the leaders are separated); returns the Markdown."""
    atomic_write_json(out / "ranking.json", {**ranking, "note": note}, allow_nan=True)
    methods = sorted(ranking["methods"].items(), key=lambda item: -item[1]["win_share"])
    lines = [
        f"Utility-robust ranking over {ranking['weightings']} task weightings ~ {ranking['distribution']} "
        f"(seed {ranking['seed']}), by weighted test accuracy at each method's tuned lr.",
        "",
        "| method | wins (%) | mean rank | rank at equal weights |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {100 * m['win_share']:.1f} | {m['mean_rank']:.2f} | {m['equal_weights_rank']} |"
        for name, m in methods
    ]
    if note:
        lines += ["", note]
    markdown = "\n".join(lines) + "\n"
    atomic_write_text(out / "ranking.md", markdown)
    return markdown
