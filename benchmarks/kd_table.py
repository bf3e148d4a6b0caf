"""Async-KD evidence: Table 3 of the paper (Related 5-task setup) re-laid on this project's suites,
and its Figure 1 view (per-task dev curves of Uni. Weight and Joint).

    nice -n 10 python -m benchmarks.kd_table [--suites synthetic,fsmtl] [--seeds 3] [--out runs/kd_table]

For each suite and seed, in the order the paper needs them:

- Joint-KD: every task trains in every step; each switches to KD as it converges; ends when all have
  converged (or at the budget cap);
- Uni. Weight: the plain sum of all task losses in every step, for as many steps as Joint-KD took
  (Appendix A: "we train for the same number of steps as it takes to train the model in our joint
  setting"). (Final) is its last model; (Best) each task's test accuracy at the evaluation where
  its dev accuracy was best, the reference for the best a task reaches without overfitting;
- Sequential-KD, Small, Large and Easy orders (Easy: the order in which the tasks converged in
  this seed's Joint-KD run).

Every row is the change in test accuracy (points) over Uni. Weight (Final), the mean over seeds,
with the mean training steps (one step: one update) and how many runs ended with every task
converged. Evaluations every ``eval_every`` steps with patience 3 as Appendix A; a run that hits the
budget cap before every task converged ends there, with its final model.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import torch

from mtl_gym.baselines.kd import AsyncKDRule, FirstAllowed, KDConfig, convergence_order, make_kd_rules
from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import MTLSchedulingEnv, Rule, run_schedule
from mtl_gym.io import atomic_path, atomic_write_text
from mtl_gym.models import ModelConfig
from mtl_gym.training import RunRecorder, RunResult

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the Agg backend)


@dataclass(frozen=True)
class Setup:
    """One suite's sizes; ``budget`` caps every run, in task-minibatches."""

    suite: str
    options: dict
    model: ModelConfig
    budget: int
    max_len: int = 128
    eval_every: int = 200
    patience: int = 3


SETUPS = {
    # The default synthetic suite: books (2000 train), electronics (800), kitchen (1000), toys (120).
    "synthetic": Setup("synthetic", {}, ModelConfig("cnn", embedding_dim=32, hidden_dim=32), budget=20_000),
    # Five FDU-MTL domains, as the paper's five-task setups; reviews cut to 64 words. A joint step
    # costs 5 minibatches of ~3 ms each with this model on one core.
    "fsmtl": Setup(
        "fsmtl",
        {"domains": ("apparel", "baby", "books", "dvd", "software")},
        ModelConfig("cnn", embedding_dim=64, hidden_dim=64),
        budget=30_000,
        max_len=64,
    ),
}


class JointSum(Rule):
    """Uni. Weight: every task's minibatch in every update, all with weight 1."""

    def extra_tasks(self, env: MTLSchedulingEnv, action: int) -> tuple[list[int], list[float]]:
        others = [t for t in range(env.num_tasks) if t != action]
        return others, [1.0] * len(others)


@dataclass
class Row:
    name: str
    steps: list[int] = field(default_factory=list)
    test: list[dict[str, float]] = field(default_factory=list)
    converged_runs: int | None = None
    wall_s: float = 0.0

    def add(self, result: RunResult, test: dict[str, float] | None = None) -> None:
        self.steps.append(len(result.actions))
        self.test.append(test or {n: m["test_acc"] for n, m in result.tasks.items()})
        if test is not None:  # read off another row's run (Best): no time of its own
            return
        self.wall_s += result.wall_s
        progress = f"  seed {result.seed} {self.name}: {len(result.actions)} steps, {result.wall_s:.0f} s"
        if "converged" in result.extra:
            done = sum(step is not None for step in result.extra["converged"].values())
            self.converged_runs = (self.converged_runs or 0) + (done == len(result.tasks))
            progress += f", {done}/{len(result.tasks)} tasks converged"
        print(progress, flush=True)


def best_checkpoint_test(points: list[dict]) -> dict[str, float]:
    """Per task, the test metric at the evaluation of best dev metric (the first, on ties)."""
    return {n: max(points, key=lambda p: p["dev_acc"][n])["test_acc"][n] for n in points[0]["dev_acc"]}


def run_suite(setup: Setup, suite: TaskSuite, seeds: list[int], out: Path) -> tuple[list[Row], dict]:
    config = KDConfig(eval_every=setup.eval_every, patience=setup.patience)
    common = {"model": setup.model, "evaluations": 1}

    def curves() -> RunRecorder:
        # Dev and test every eval_every steps: Figure 1, and the Uni. Weight (Best) row.
        return RunRecorder(suite, setup.budget, every_steps=setup.eval_every, test_curves=True)

    names = [
        "Uni. Weight (Final)",
        "Uni. Weight (Best)",
        "Joint-KD",
        "Seq-KD (Small)",
        "Seq-KD (Large)",
        "Seq-KD (Easy)",
    ]
    rows = {name: Row(name) for name in names}
    figure = {}
    for seed in seeds:
        joint = run_schedule(
            FirstAllowed(),
            suite,
            setup.budget,
            seed,
            rules=[AsyncKDRule("joint", config=config)],
            recorder=curves(),
            **common,
        )
        rows["Joint-KD"].add(joint)
        # Uni. Weight for exactly Joint-KD's steps: each of them trained every task once.
        steps = len(joint.actions)
        uniform = run_schedule(
            FirstAllowed(), suite, steps * len(suite), seed, rules=[JointSum()], recorder=curves(), **common
        )
        rows["Uni. Weight (Final)"].add(uniform)
        rows["Uni. Weight (Best)"].add(uniform, best_checkpoint_test(uniform.curves))
        easy = convergence_order(joint.extra["converged"])
        for order, label in (("small", "Small"), ("large", "Large"), (easy, "Easy")):
            rules = make_kd_rules("sequential", order, suite, config=config)
            rows[f"Seq-KD ({label})"].add(
                run_schedule(FirstAllowed(), suite, setup.budget, seed, rules=rules, **common)
            )
        if seed == seeds[0]:
            figure = {
                "uniform": uniform.curves,
                "joint": joint.curves,
                "converged": joint.extra["converged"],
                "easy_order": easy,
            }
    plot_curves(figure, suite.name, out / f"kd_curves_{suite.name}.png")
    return list(rows.values()), figure


def plot_curves(figure: dict, suite: str, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True)
    for ax, key, title in ((axes[0], "uniform", "(a) Uni. Weight"), (axes[1], "joint", "(b) Joint-KD")):
        points = figure[key]
        for index, name in enumerate(points[0]["dev_acc"]):
            color = f"C{index % 10}"
            ax.plot(
                [p["step"] for p in points],
                [100 * p["dev_acc"][name] for p in points],
                color=color,
                label=name,
            )
            step = figure["converged"].get(name)
            if key == "joint" and step is not None:
                ax.axvline(step, color=color, linestyle=":", linewidth=1)
        ax.set_title(title)
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("dev accuracy (%)")
    axes[1].legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.suptitle(f"{suite}: per-task dev accuracy (dotted: the step a task converged and switched to KD)")
    fig.tight_layout()
    with atomic_path(path) as temporary:
        fig.savefig(temporary, dpi=120)
    plt.close(fig)


def format_table(rows: list[Row], task_names: list[str], suite: str) -> str:
    base = np.array([[t[n] for n in task_names] for t in rows[0].test])
    short = [n[:9] for n in task_names]
    lines = [
        f"{'Name':<20}{'Train steps':>12}{'converged':>10}"
        + "".join(f"{s:>10}" for s in short)
        + f"{'Avg':>8}",
    ]
    for row in rows:
        values = np.array([[t[n] for n in task_names] for t in row.test])
        delta = 100 * (values - base).mean(axis=0)
        steps = f"{np.mean(row.steps):.0f}" if row.name != "Uni. Weight (Best)" else ""
        done = "" if row.converged_runs is None else f"{row.converged_runs}/{len(row.test)}"
        cells = "".join(f"{d:>+10.2f}" for d in delta)
        lines.append(f"{row.name:<20}{steps:>12}{done:>10}{cells}{delta.mean():>+8.2f}")
    absolute = 100 * base.mean(axis=0)
    lines.append(
        f"{'(Uni. Final, abs.)':<42}" + "".join(f"{a:>10.2f}" for a in absolute) + f"{absolute.mean():>8.2f}"
    )
    return f"{suite}\n" + "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--suites", default="synthetic,fsmtl", help="comma-separated, of: " + ", ".join(SETUPS)
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default="runs/kd_table", help="folder for the PNGs and results.json")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    record = {}
    for key in args.suites.split(","):
        setup = SETUPS[key]
        suite_start = time.perf_counter()
        suite = load_suite(setup.suite, args.data_dir, max_len=setup.max_len, **setup.options)
        sizes = ", ".join(f"{t.name} {len(t.train)}" for t in suite)
        print(
            f"{key}: {len(suite)} tasks (train sizes: {sizes}), max_len {setup.max_len}; model {setup.model.name} "
            f"{setup.model.embedding_dim}/{setup.model.hidden_dim}; batch 16; eval every {setup.eval_every} steps, "
            f"patience {setup.patience}; budget cap {setup.budget} task-minibatches; seeds {args.seeds}",
            flush=True,
        )
        rows, figure = run_suite(setup, suite, list(range(args.seeds)), out)
        print(format_table(rows, suite.names, key))
        print(
            "wall s per row (all seeds): " + ", ".join(f"{r.name} {r.wall_s:.0f}" for r in rows if r.wall_s)
        )
        print(
            f"{key} done in {time.perf_counter() - suite_start:.0f} s; curves in {out}/kd_curves_{suite.name}.png\n"
        )
        record[key] = {"setup": asdict(setup), "rows": [asdict(r) for r in rows], "figure": figure}
    atomic_write_text(out / "results.json", json.dumps(record, indent=2, default=str))
    print(f"total wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
