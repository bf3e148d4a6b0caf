"""QLS against uniform and random on the synthetic suite: train one agent, deploy it.

    python -m benchmarks.qls_synthetic [--timesteps 4000] [--episode-steps 400] [--budget 400]
                                       [--seeds 3] [--reward loss] [--env KEY=VALUE ...] [--out runs/qls_synthetic]
                                       [--methods qls,uniform,random]

Trains a QLS agent (Boltzmann-Gumbel exploration) on the synthetic suite with the fast cnn MTL
model and the agent-training env defaults (``AGENT_ENV_DEFAULTS``: penalty on, budget features;
``--env features=[] --env reference=null`` gives the paper's setting), then trains fresh MTL models for ``budget`` task-minibatches under each method (``qls`` is
the agent deployed with its default policy; ``qls:policy=greedy``, ``qls:temperature=0.5`` compare
deployments) on each evaluation seed (seeds the agent never trained on). Prints mean +- 95% CI of
average test accuracy, per-task test accuracy, the learned policy's action histogram and the wall
time of agent training, and writes them as JSON.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.bench.stats import format_ci
from mtl_gym.data import load_suite
from mtl_gym.io import atomic_write_json
from mtl_gym.methods.run import run_method
from mtl_gym.models import ModelConfig
from mtl_gym.spec import parse_assignments, split_spec_list


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
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument(
        "--methods", default="qls,uniform,random", help="method specs to deploy, comma-separated"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

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
        for method in split_spec_list(args.methods)
    }
    report = {
        "suite": suite.name,
        "tasks": suite.names,
        "agent_training": {
            "timesteps": args.timesteps,
            "episode_steps": args.episode_steps,
            "env": config.env_config().to_dict(),
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
    atomic_write_json(Path(args.out, "report.json"), report, allow_nan=True)
    print(
        f"agent: {args.timesteps} env steps ({args.episode_steps}-step episodes, "
        f"reward {config.env_config().reward}, features {config.env_config().features}) "
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
