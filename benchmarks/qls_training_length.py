"""Does a sharper deployment of an agent pay once the agent has trained longer?

    python -m benchmarks.qls_training_length CONFIG [--decisions 200000] [--every 50000]
        [--temperatures 1,2,4,8] [--seed 7] [--out runs/qls-training-length] [--json]

Trains one agent from CONFIG (a TrainAgentConfig JSON, e.g. tune-agent's best_config.json) for
``--decisions`` decisions and, every ``--every``, deploys it at each temperature as tune-agent's
evaluation with ``--eval-runs 2`` does: mean dev accuracy (%) of two runs, on seeds 12345 and
12346, of ``--budget`` task-minibatches each. The agent's preferences pay if accuracy at a low
temperature rises with training towards or past the flat policies' (high temperatures).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from statistics import mean

from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.agents.tuning import PeriodicEvaluation, TuneConfig, deployed_dev_accuracy
from mtl_gym.data import load_suite

EVAL_SEEDS = TuneConfig(eval_runs=2).eval_seeds
"""tune-agent's evaluation seeds with ``--eval-runs 2``."""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="a TrainAgentConfig JSON (tune-agent's best_config.json)")
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--every", type=int, default=50_000, help="decisions between evaluations")
    parser.add_argument("--temperatures", default="1,2,4,8")
    parser.add_argument("--budget", type=int, default=400, help="task-minibatches of an evaluation run")
    parser.add_argument("--seed", type=int, default=7, help="agent seed")
    parser.add_argument("--out", default="runs/qls-training-length")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with open(args.config) as file:
        config = TrainAgentConfig.of(json.load(file))
    config = dataclasses.replace(config, timesteps=args.decisions, seed=args.seed)
    temperatures = [float(t) for t in args.temperatures.split(",")]
    suite = load_suite(config.suite, config.data_dir, **config.suite_options)
    rows = []

    def evaluate(agent) -> float:
        row = {"decisions": agent.num_timesteps}
        for temperature in temperatures:
            deployed = dataclasses.replace(config, deploy={**config.deploy, "temperature": temperature})
            accuracy = mean(deployed_dev_accuracy(agent, deployed, suite, args.budget, s) for s in EVAL_SEEDS)
            row[f"T={temperature:g}"] = round(100 * accuracy, 1)
        rows.append(row)
        if not args.json:
            print(row, flush=True)
        return 0.0

    start = time.perf_counter()
    train_agent(config, args.out, False, suite, callbacks=[PeriodicEvaluation(evaluate, args.every)])
    report = {"config": args.config, "rows": rows, "wall_s": round(time.perf_counter() - start, 1)}
    print(json.dumps(report, indent=2) if args.json else f"wall time {report['wall_s']} s")


if __name__ == "__main__":
    main()
