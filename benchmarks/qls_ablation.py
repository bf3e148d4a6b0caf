"""What each issue-11 change does for a deployed QLS agent: one ablation table, and the deployment
temperature chosen by dev accuracy.

    python -m benchmarks.qls_ablation [--suite synthetic] [--model cnn] [--budget 400]
        [--timesteps 100000] [--num-envs 64] [--seeds 3] [--agent-seeds 1]
        [--temperatures 0.5,1,2,4,8] [--variants default,no-penalty,...] [--out runs/qls_ablation]
        [--threads 1] [--json]

Each variant trains QLS agents (``--agent-seeds`` of them, seeds 1000, 1001, ...) on the fast env
(``TrainAgentConfig(fast=True)``: ``--num-envs`` runs over the frozen ``--model`` encoder's cached
features, episodes of ``--budget`` decisions, ``--timesteps`` decisions in all) with the
agent-training defaults except what the variant switches off:

- ``default``: penalty on (``reference="auto"``, budget-matched), histograms + share, since, loss and
  elapsed features, Boltzmann-Gumbel C in units of the Q spread, soft target updates (tau = 0.1);
- ``no-penalty``: ``reference=None``;
- ``histograms``: the paper's observation (``features=[]``);
- ``absolute-exploration``: Boltzmann-Gumbel C in units of Q (the paper's);
- ``hard-targets``: target copied every 500 steps (SB3's default, tau = 1);
- ``paper``: all four switched off at once;
- ``steps-per-action-2`` and ``-4``: decisions of 2 or 4 minibatches (timesteps and episodes
  rescaled so that agents and deployments see the same minibatches).

Every agent is then deployed on the full env (``--model``, real encoder) through ``run_method``
for ``--budget`` task-minibatches on unseen seeds 100, 101, ..., greedily (``qls:policy=greedy``)
and with the default softmax; the ``default`` agents also at each ``--temperatures`` value, and the
temperature of highest mean *dev* accuracy is reported with its test accuracy (the bench tunes a
learning rate the same way). ``uniform`` runs on the same seeds.

Each row: mean ± 95% t-CI over all (agent seed, deployment seed) runs of the average test accuracy
(%), mean dev accuracy, and the largest and smallest task share of the budget (extremes over runs).
``OUT/report.json`` is rewritten as results come in; ``--json`` prints it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mtl_gym.bench.stats import format_ci

from .agent_transfer import deploy

PAPER = {
    "env": {"reference": None, "features": []},
    "exploration_kwargs": {"scale": "absolute"},
    "algorithm_kwargs": {"tau": 1.0, "target_update_interval": 500},
}
VARIANTS: dict[str, dict] = {
    "default": {},
    "no-penalty": {"env": {"reference": None}},
    "histograms": {"env": {"features": []}},
    "absolute-exploration": {"exploration_kwargs": {"scale": "absolute"}},
    "hard-targets": {"algorithm_kwargs": PAPER["algorithm_kwargs"]},
    "paper": PAPER,
    "steps-per-action-2": {"steps_per_action": 2},
    "steps-per-action-4": {"steps_per_action": 4},
}
"""Each variant's changes to the agent-training defaults."""


def agent_config(variant: str, args, agent_seed: int):
    """The TrainAgentConfig of one agent of ``variant``."""
    from mtl_gym.agents.qls import TrainAgentConfig
    from mtl_gym.agents.tuning.space import rescale

    change = VARIANTS[variant]
    config = TrainAgentConfig(
        suite=args.suite,
        model={"name": args.model},
        env={"episode_steps": args.budget, **change.get("env", {})},
        timesteps=args.timesteps,
        seed=agent_seed,
        fast=True,
        num_envs=args.num_envs,
        exploration_kwargs=change.get("exploration_kwargs", {}),
        algorithm_kwargs=change.get("algorithm_kwargs", {}),
    )
    if "steps_per_action" in change:
        config = rescale(config, change["steps_per_action"])
    return config


def train(variant: str, args, suite, out: Path) -> list[str]:
    """Train (or reuse, when its folder is complete) each agent of ``variant``; their agent.zip paths."""
    from mtl_gym.agents.common.contract import CONFIG_FILE
    from mtl_gym.agents.qls import train_agent

    paths = []
    for agent_seed in range(1000, 1000 + args.agent_seeds):
        folder = out / "agents" / f"{variant}-{agent_seed}"
        config = agent_config(variant, args, agent_seed)
        recorded = folder / CONFIG_FILE
        # Where it trained (device) is not what it is: an agent recorded before that field, or on
        # another device, is reused.
        record = json.loads(recorded.read_text())["config"] if recorded.exists() else None
        if record is None or {k: v for k, v in record.items() if k != "device"} != config.identity():
            train_agent(config, folder, progress_bar=False, suite=suite)
        paths.append(str(folder / "agent.zip"))
    return paths


def measure(method: str, agents: list[str | None], suite, args, seeds: list[int]) -> dict:
    """``method`` deployed with each agent on every seed, pooled."""
    runs = [deploy(method, agent, suite, {"name": args.model}, args, seeds) for agent in agents]
    shares = [share for run in runs for share in run["min_share"]]
    return {
        "avg_test_acc": [acc for run in runs for acc in run["avg_test_acc"]],
        "avg_dev_acc": [acc for run in runs for acc in run["avg_dev_acc"]],
        "max_share": max(share for run in runs for share in run["max_share"]),
        "min_share": min(shares),
    }


def row(label: str, data: dict) -> str:
    return (
        f"| {label} | {format_ci(data['avg_test_acc'])} | {100 * np.mean(data['avg_dev_acc']):.1f} "
        f"| {data['max_share']:.2f} | {data['min_share']:.3f} |"
    )


def table(report: dict) -> str:
    lines = [
        f"{report['suite']}, {report['model']}: agents of {report['timesteps']:,} fast-env decisions "
        f"({report['agent_seeds']} agent seed(s)), deployed for {report['budget']} task-minibatches on "
        f"seeds {report['seeds']}; 1/(4K) = {report['quarter_uniform']:.3f}",
        "",
        "| variant | avg test acc (%) | dev acc (%) | largest share | smallest share |",
        "|---|---|---|---|---|",
    ]
    lines += [row(label, data) for label, data in report["rows"].items()]
    if report.get("chosen_temperature") is not None:
        lines += ["", f"temperature chosen by dev accuracy: {report['chosen_temperature']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="synthetic")
    parser.add_argument("--model", default="cnn", help="the fast env's encoder and the deployed model")
    parser.add_argument("--budget", type=int, default=400, help="task-minibatches per episode and deployment")
    parser.add_argument("--timesteps", type=int, default=100_000, help="fast-env decisions per agent")
    parser.add_argument("--num-envs", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=3, help="deployment seeds (100, 101, ...)")
    parser.add_argument("--agent-seeds", type=int, default=1, help="agents per variant (seeds 1000, ...)")
    parser.add_argument(
        "--temperatures", default="0.5,1,2,4,8", help="softmax temperatures of the default agents"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {list(VARIANTS)}")
    parser.add_argument("--out", default="runs/qls_ablation")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; expected some of {list(VARIANTS)}")
    temperatures = [float(t) for t in args.temperatures.split(",") if t.strip()]

    import torch

    torch.set_num_threads(args.threads)
    from mtl_gym.data import load_suite
    from mtl_gym.io import atomic_write_json

    started = time.perf_counter()
    suite = load_suite(args.suite)
    seeds = list(range(100, 100 + args.seeds))
    out = Path(args.out)
    report = {
        "suite": suite.name,
        "model": args.model,
        "budget": args.budget,
        "timesteps": args.timesteps,
        "agent_seeds": args.agent_seeds,
        "seeds": seeds,
        "quarter_uniform": 1 / (4 * len(suite)),
        "rows": {},
        "chosen_temperature": None,
    }

    def record(label: str, data: dict) -> None:
        report["rows"][label] = data
        report["wall_s"] = round(time.perf_counter() - started, 1)
        atomic_write_json(out / "report.json", report)

    out.mkdir(parents=True, exist_ok=True)
    record("uniform", measure("uniform", [None], suite, args, seeds))
    for variant in variants:
        agents = train(variant, args, suite, out)
        record(f"{variant}, greedy", measure("qls:policy=greedy", agents, suite, args, seeds))
        if variant != "default":
            record(f"{variant}, softmax", measure("qls", agents, suite, args, seeds))
            continue
        sweep = {t: measure(f"qls:temperature={t:g}", agents, suite, args, seeds) for t in temperatures}
        for t, data in sweep.items():
            record(f"default, softmax T = {t:g}", data)
        report["chosen_temperature"] = max(sweep, key=lambda t: np.mean(sweep[t]["avg_dev_acc"]))
        record(
            f"default, softmax T = {report['chosen_temperature']:g} (chosen by dev)",
            sweep[report["chosen_temperature"]],
        )
    print(json.dumps(report, indent=2) if args.json else table(report))


if __name__ == "__main__":
    main()
