"""What each observation feature group and reward setting adds to QLS on the synthetic suite.

    python -m benchmarks.qls_observation [--timesteps 2000] [--budget 200] [--seeds 2] [--json]
                                         [--variants hist,all,...] [--out runs/qls_observation]

For each variant (below) trains a small QLS agent (cnn MTL model, Boltzmann-Gumbel exploration,
agent seed 1000, episodes as long as the evaluation budget), deploys it greedily on evaluation seeds
100, 101, ... (which it never trained on) and reports mean average test accuracy, the largest budget
share any task got (a starved task shows up as a large share elsewhere), the fraction of training
steps the penalty fired, and wall times. Uniform is run on the same seeds for reference. Variants:

- ``hist``: the paper's K x 20 histograms, reward ``loss``, no penalty;
- ``+share``, ``+since``, ``+loss``, ``+elapsed``: the histograms and one feature group;
- ``+all``: the histograms and all four groups;
- ``+all norm``: the same with the per-task normalised reward (``loss-normalized``);
- ``hist pen``, ``+all norm pen``: with the penalty on (``reference="auto"``; the agent-training
  defaults, ``mtl_gym.agents.qls.AGENT_ENV_DEFAULTS``, are ``+all`` with the penalty);
- ``+all norm pen matched``: the reference trained for budget / K minibatches per task (uniform's
  share of an episode) instead of reference_budget's 1,000.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.data import load_suite
from mtl_gym.methods.run import run_method
from mtl_gym.models import ModelConfig

ALL = ["share", "since", "loss", "elapsed"]
PAPER = {"features": [], "reward": "loss", "reference": None}
VARIANTS = {
    "hist": PAPER,
    **{f"+{group}": {**PAPER, "features": [group]} for group in ALL},
    "+all": {**PAPER, "features": ALL},
    "+all norm": {**PAPER, "features": ALL, "reward": "loss-normalized"},
    "hist pen": {**PAPER, "reference": "auto"},
    "+all norm pen": {"features": ALL, "reward": "loss-normalized", "reference": "auto"},
    "+all norm pen matched": {
        "features": ALL,
        "reward": "loss-normalized",
        "reference": "auto",
        "matched": True,
    },
}


def run_variant(name: str, env: dict, args, suite, seeds: list[int]) -> dict:
    folder = Path(args.out, name.replace(" ", "_").replace("+", "p"))
    env = dict(env)
    if env.pop("matched", False):
        env["reference_budget"] = args.budget // len(suite)
    config = TrainAgentConfig(
        model={"name": args.model},
        env={**env, "episode_steps": args.budget},
        timesteps=args.timesteps,
        seed=1000,
    )
    start = time.perf_counter()
    train_agent(config, folder, progress_bar=False, suite=suite)
    train_s = time.perf_counter() - start
    rewards = np.loadtxt(folder / "curves.csv", delimiter=",", skiprows=1, usecols=4, ndmin=1)
    runs = [
        run_method(
            "qls:policy=greedy",  # the figures in docs/results/studies.md were measured with greedy deployment
            suite,
            args.budget,
            seed,
            model=ModelConfig(name=args.model),
            agent=str(folder / "agent.zip"),
        )
        for seed in seeds
    ]
    return {
        "env": config.env_config().to_dict(),
        "avg_test_acc": [r.avg_test_acc for r in runs],
        "max_share": [max(r.action_counts.values()) / sum(r.action_counts.values()) for r in runs],
        "action_counts": {n: sum(r.action_counts[n] for r in runs) for n in suite.names},
        "penalty_rate": float(np.mean(rewards == -10.0)),
        "train_s": round(train_s, 1),
        "deploy_s": round(sum(r.wall_s for r in runs), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timesteps", type=int, default=2000, help="agent training env steps per variant")
    parser.add_argument(
        "--budget", type=int, default=200, help="task-minibatches per run = training episode steps"
    )
    parser.add_argument("--seeds", type=int, default=2, help="evaluation seeds (100, 101, ...)")
    parser.add_argument("--variants", default=",".join(VARIANTS), help="comma list of variant names")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--out", default="runs/qls_observation")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    torch.set_num_threads(1)

    suite = load_suite("synthetic")
    seeds = list(range(100, 100 + args.seeds))
    names = [v.strip() for v in args.variants.split(",")]
    if unknown := set(names) - set(VARIANTS):
        parser.error(f"unknown variants {sorted(unknown)}; expected from {list(VARIANTS)}")
    uniform = [
        run_method("uniform", suite, args.budget, seed, model=ModelConfig(name=args.model)) for seed in seeds
    ]
    report = {
        "suite": suite.name,
        "tasks": suite.names,
        "timesteps": args.timesteps,
        "budget": args.budget,
        "seeds": seeds,
        "uniform": {"avg_test_acc": [r.avg_test_acc for r in uniform]},
        "variants": {},
    }
    for name in names:
        report["variants"][name] = run_variant(name, VARIANTS[name], args, suite, seeds)
        Path(args.out, "report.json").write_text(json.dumps(report, indent=2))  # partial results survive
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"QLS, {args.timesteps} training steps, greedy on seeds {seeds}, budget {args.budget}")
    print(f"uniform: avg test acc {100 * np.mean(report['uniform']['avg_test_acc']):.1f}")
    print("| variant | avg test acc (%) | max budget share | penalty rate (training) | train s |")
    print("|---|---|---|---|---|")
    for name, data in report["variants"].items():
        accuracy = ", ".join(f"{100 * a:.1f}" for a in data["avg_test_acc"])
        print(
            f"| {name} | {100 * np.mean(data['avg_test_acc']):.1f} ({accuracy}) | {np.mean(data['max_share']):.2f} "
            f"| {data['penalty_rate']:.2f} | {data['train_s']:.0f} |"
        )


if __name__ == "__main__":
    main()
