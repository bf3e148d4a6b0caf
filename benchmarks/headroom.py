"""The headroom of every shipped headroom suite: how much the best static mixture and the lookahead
oracle gain over uniform, each as a paired test difference with its bootstrap 95% CI.

    python -m benchmarks.headroom [--full] [--out runs/headroom] [--workers 2] [--json]

Reduced size (the default; under 15 minutes on 2 cores): 3 seeds and 6 mixtures per suite. ``--full``
is the table of docs/results/headroom.md: 5 seeds and 16 mixtures. Every suite uses the cnn 64/64, length 64, lr 3e-3
and its own objective; the budgets are in ``ROWS``. Each suite's runs are a resumable
``mtl-gym headroom`` folder under ``--out``. Writes ``--out/headroom_table.md``; ``--json`` prints
one JSON document with a row per suite.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mtl_gym.bench.headroom import HeadroomConfig, measure_headroom
from mtl_gym.bench.pages import headroom_table

ROWS = [
    {"suite": "synthetic-noisy-aux", "budget": 600},
    {"suite": "fsmtl-noisy-aux", "budget": 300},
    {"suite": "fsmtl-noisy-aux", "budget": 600},
    {"suite": "ner-target", "budget": 600},
    {"suite": "synthetic-imbalanced", "budget": 600},
    {"suite": "fsmtl-imbalanced", "budget": 600, "lookahead_k": 0},
]
"""One row per suite and budget: the budgets where uniform's runs have not yet plateaued on the
objective, and no lookahead on the 12-task suite (12 trials from every snapshot)."""

COMMON = {"suite_options": {"max_len": 64}, "lr": 3e-3}
FULL = {"seeds": 5, "trials": 16}
REDUCED = {"seeds": 3, "trials": 6}


def table(rows: list[dict], size: dict) -> str:
    caption = (
        f"Paired test difference from uniform in points [bootstrap 95% CI], {size['seeds']} seeds, "
        f"{size['trials']} mixtures searched; n.s.: the interval includes 0."
    )
    return "\n".join([caption, "", *headroom_table(rows)]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="the results page's size: 5 seeds, 16 mixtures")
    parser.add_argument("--out", default="runs/headroom")
    parser.add_argument("--workers", type=int, default=2, help="runs at once (each with one torch thread)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    size = FULL if args.full else REDUCED
    rows = []
    for row in ROWS:
        config = HeadroomConfig.of({**COMMON, **size, **row, "workers": args.workers})
        out = Path(args.out) / f"{row['suite']}-{row['budget']}"
        report = measure_headroom(config, out, progress=not args.json)
        rows.append(
            {key: report[key] for key in ("suite", "objective", "budget", "uniform", "best_static")}
            | {
                "static_headroom": report["static_headroom"],
                "dynamic_headroom": report["dynamic_headroom"],
                "run_s": report["run_s"],
                "folder": str(out),
            }
        )
    markdown = table(rows, size)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "headroom_table.md").write_text(markdown)
    if args.json:
        print(json.dumps({"rows": rows, "settings": {**COMMON, **size}}, indent=2))
    else:
        print(markdown)


if __name__ == "__main__":
    main()
