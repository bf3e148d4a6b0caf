"""QLS against uniform and random on the synthetic suite: train one agent, deploy it greedily.

    python -m benchmarks.qls_synthetic [--timesteps 4000] [--episode-steps 400] [--budget 400]
                                       [--seeds 3] [--reward loss] [--env KEY=VALUE ...]
                                       [--out runs/qls_synthetic]

Trains a QLS agent (Boltzmann-Gumbel exploration) on the synthetic suite with the fast cnn MTL
model and the agent-training env defaults (``AGENT_ENV_DEFAULTS``: penalty on, budget features;
``--env features=[] --env reference=null`` gives the paper's setting), then trains fresh MTL models for ``budget`` task-minibatches under QLS (greedy), uniform
and random on each evaluation seed (seeds the agent never trained on). Prints mean +- 95% CI of
average test accuracy, per-task test accuracy, the learned policy's action histogram and the wall
time of agent training, and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.bench.stats import format_ci
from mtl_gym.data import load_suite
from mtl_gym.methods.run import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.spec import parse_assignments


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timesteps", type=int, default=4000, help="agent training env steps")
    parser.add_argument("--episode-steps", type=int, default=400, help="env steps per training episode")
    parser.add_argument("--budget", type=int, default=400, help="task-minibatches per evaluation run")
    parser.add_argument("--seeds", type=int, default=3, help="evaluation seeds (100, 101, ...)")
    parser.add_argument(
        "--reward",
        default=None,
        help="EnvConfig.reward (loss, loss-decrease, loss-normalized); none: the agent default",
    )
    parser.add_argument("--env", action="append", default=[], help="EnvConfig KEY=VALUE of agent training")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--out", default="runs/qls_synthetic")
    args = parser.parse_args()
    torch.set_num_threads(2)

    suite = load_suite("synthetic")
    model = {"name": args.model}
    env = {**parse_assignments(args.env, "--env"), "episode_steps": args.episode_steps}
    if args.reward is not None:
        env["reward"] = args.reward
    config = TrainAgentConfig(model=model, env=env, timesteps=args.timesteps, seed=0)
    record = train_agent(config, args.out, progress_bar=False, suite=suite)

    seeds = list(range(100, 100 + args.seeds))
    results = {
        method: [
            run_method(
                method,
                suite,
                args.budget,
                seed,
                model=ModelConfig(**model),
                # the agent's observation settings are taken from its config.json by run_method
                agent=f"{args.out}/agent.zip",
            )
            for seed in seeds
        ]
        for method in ("qls", "uniform", "random")
    }
    report = {
        "suite": suite.name,
        "tasks": suite.names,
        "agent_training": {
            "timesteps": args.timesteps,
            "episode_steps": args.episode_steps,
            "env": record["env_config"],
            "wall_s": round(record["wall_s"], 1),
        },
        "budget": args.budget,
        "seeds": seeds,
        "methods": {
            method: {
                "avg_test_acc": [r.avg_test_acc for r in runs],
                "test_acc": {n: [r.tasks[n]["test_acc"] for r in runs] for n in suite.names},
                "action_counts": {n: sum(r.action_counts[n] for r in runs) for n in suite.names},
            }
            for method, runs in results.items()
        },
    }
    Path(args.out, "report.json").write_text(json.dumps(report, indent=2))
    print(
        f"agent: {args.timesteps} env steps ({args.episode_steps}-step episodes, "
        f"reward {record['env_config']['reward']}, features {record['env_config']['features']}) "
        f"in {record['wall_s']:.0f} s; evaluation budget {args.budget}, seeds {seeds}"
    )
    header = "| method | avg test acc (%) | " + " | ".join(suite.names) + " | tasks chosen |"
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    for method, data in report["methods"].items():
        cells = [format_ci(data["avg_test_acc"])] + [format_ci(data["test_acc"][n]) for n in suite.names]
        counts = ", ".join(f"{n} {c}" for n, c in data["action_counts"].items())
        print(f"| {method} | " + " | ".join(cells) + f" | {counts} |")


if __name__ == "__main__":
    main()
