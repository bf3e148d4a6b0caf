"""Does a QLS agent trained on the fast (batched, cached-feature) env transfer to the real model?

    python -m benchmarks.agent_transfer [--suite synthetic] [--seconds 240] [--budget 400] [--seeds 3]
        [--models cnn,lstm] [--train-model cnn] [--model-option lstm.hidden_dim=64] [--env KEY=VALUE]
        [--num-envs 64] [--out runs/agent_transfer] [--threads 1] [--json]

The paper's case for histogram states is that they do not depend on the model. This measures it:

1. ``fast``: a QLS agent trained on the batched env (``TrainAgentConfig(fast=True)``, ``--num-envs``
   runs over the frozen ``--train-model`` encoder's cached features) for ``--seconds`` of wall time;
2. ``full``: a QLS agent trained on the full ``MTLSchedulingEnv`` (``--train-model``) for the same
   wall time.

Both stop at the wall-time budget through ``mtl_gym.agents.common.callbacks.WallTimeLimit``, an SB3 callback given to
``train_agent`` (timesteps are set far beyond what the time allows); the decisions each made are
reported. Setting up the envs (the fast env's encoder and features, the single-task references of
the penalty's ``reference="auto"``; cached on disk after the first run) is outside the budget and
reported apart. Both are then deployed on the full env through ``run_method``, which builds each
deployment env from the observation settings recorded in the agent's ``config.json``, with the
default deployment policy (softmax) and ``qls:policy=greedy``, next to ``uniform``, for
``--budget`` task-minibatches on unseen seeds 100, 101, ... with every model of ``--models``.

Both agents train with the same ``--env`` settings over the agent-training defaults
(``AGENT_ENV_DEFAULTS``: penalty on with ``reference="auto"``), by default ``features=loss,elapsed``,
the observation of the measurements in docs/results/studies.md (made when the fast env computed only those groups;
``--env features=share,since,loss,elapsed`` gives today's agent default). Training episodes are
``--budget`` decisions long unless ``--env episode_steps=...`` says otherwise.

``--model-option KEY=VALUE`` sets a ModelConfig field of every model (deployed and trained);
``--model-option lstm.KEY=VALUE`` of the lstm only (e.g. smaller lstm sizes to fit the time).

Reported per model and method: mean ± 95% CI (t over seeds) of the average test accuracy, and the
mean over seeds of the largest budget share any task got (a starved task shows as a large share
elsewhere). ``--json`` prints one JSON document; ``OUT/report.json`` is rewritten as results come in.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mtl_gym.agents.common.callbacks import WallTimeLimit
from mtl_gym.bench.stats import format_ci, mean_ci
from mtl_gym.spec import parse_assignments

DEFAULT_ENV = ["features=loss,elapsed"]
"""The ``--env`` settings when none are given: the fast env's observation, for both agents."""
UNBOUNDED_TIMESTEPS = 10**9
"""Timesteps of each training: far more than the wall-time budget allows, so the budget ends it."""


def model_config(name: str, options: dict) -> dict:
    """ModelConfig fields of ``name``: plain keys apply to every model, ``NAME.key`` to that one."""
    fields = {key: value for key, value in options.items() if "." not in key}
    fields.update(
        {key.split(".", 1)[1]: value for key, value in options.items() if key.startswith(name + ".")}
    )
    return {"name": name, **fields}


def train(kind: str, args, suite, env: dict, out: Path) -> dict:
    """Train one agent (``fast`` or ``full``) for ``args.seconds`` of wall time into ``out``."""
    from mtl_gym.agents.qls import TrainAgentConfig, train_agent

    config = TrainAgentConfig(
        suite=args.suite,
        suite_options=suite_options(args),
        model=model_config(args.train_model, args.model_options),
        env=env,
        timesteps=UNBOUNDED_TIMESTEPS,
        seed=args.agent_seed,
        fast=kind == "fast",
        num_envs=args.num_envs,
    )
    limit = WallTimeLimit(args.seconds)
    start = time.perf_counter()
    record = train_agent(config, out, progress_bar=False, suite=suite, callbacks=[limit])
    total = time.perf_counter() - start
    return {
        "agent": str(out / "agent.zip"),
        "observation": record["observation"],
        "decisions": limit.decisions,
        "decisions_per_s": round(limit.decisions / max(limit.wall_s, 1e-9), 1),
        "train_s": round(record["wall_s"], 1),
        "setup_s": round(total - record["wall_s"], 1),
    }


def suite_options(args) -> dict:
    return parse_assignments(args.option, "--option")


def deploy(method: str, agent: str | None, suite, model: dict, args, seeds: list[int]) -> dict:
    """Run ``method`` on the full env with ``model`` on every seed; accuracies and budget shares."""
    from mtl_gym.methods.run import run_method
    from mtl_gym.models import ModelConfig

    runs = [
        run_method(method, suite, args.budget, seed, model=ModelConfig(**model), agent=agent)
        for seed in seeds
    ]
    accuracy = [r.avg_test_acc for r in runs]
    shares = [
        [r.action_counts.get(name, 0) / sum(r.action_counts.values()) for name in suite.names] for r in runs
    ]
    mean, half = mean_ci(accuracy)
    return {
        "avg_test_acc": accuracy,
        "avg_dev_acc": [r.avg_dev_acc for r in runs],
        "mean": mean,
        "ci95": None if np.isnan(half) else half,
        "max_share": [max(run) for run in shares],
        "min_share": [min(run) for run in shares],
        "action_counts": {n: sum(r.action_counts.get(n, 0) for r in runs) for n in suite.names},
        "deploy_s": round(sum(r.wall_s for r in runs), 1),
    }


def table(report: dict) -> str:
    fast, full = report["agents"]["fast"], report["agents"]["full"]
    lines = [
        f"{report['suite']}: agents trained {report['seconds']} s each on {report['train_model']['name']} "
        f"(fast: {fast['decisions']:,} decisions, {fast['decisions_per_s']:,.0f}/s; "
        f"full: {full['decisions']:,} decisions, {full['decisions_per_s']:,.1f}/s), "
        f"deployed for {report['budget']} task-minibatches on seeds {report['seeds']}",
        "",
        "| model | method | avg test acc (%, mean ± 95% CI) | max budget share |",
        "|---|---|---|---|",
    ]
    for model, methods in report["results"].items():
        for label, data in methods.items():
            lines.append(
                f"| {model} | {label} | {format_ci(data['avg_test_acc'])} | {np.mean(data['max_share']):.2f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="synthetic")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="a reader option of the suite"
    )
    parser.add_argument("--seconds", type=float, default=240, help="wall time of each agent's training")
    parser.add_argument("--budget", type=int, default=400, help="task-minibatches per deployment run")
    parser.add_argument("--seeds", type=int, default=3, help="deployment seeds (100, 101, ...)")
    parser.add_argument("--models", default="cnn,lstm", help="comma list of models deployed on")
    parser.add_argument(
        "--train-model", default="cnn", help="the full agent's model and the fast env's encoder"
    )
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a ModelConfig field of every model, or NAME.KEY=VALUE of model NAME only; repeatable",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help=f"an EnvConfig field of both agents' training; repeatable (default: {' '.join(DEFAULT_ENV)})",
    )
    parser.add_argument("--num-envs", type=int, default=64, help="runs of the fast env")
    parser.add_argument("--agent-seed", type=int, default=1000)
    parser.add_argument("--out", default="runs/agent_transfer")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    args = parser.parse_args()
    args.model_options = parse_assignments(args.model_option, "--model-option")

    import torch

    torch.set_num_threads(args.threads)
    from mtl_gym.data import load_suite

    started = time.perf_counter()
    suite = load_suite(args.suite, **suite_options(args))
    env = {"episode_steps": args.budget, **parse_assignments(args.env or DEFAULT_ENV, "--env")}
    seeds = list(range(100, 100 + args.seeds))
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "suite": suite.name,
        "tasks": suite.names,
        "seconds": args.seconds,
        "budget": args.budget,
        "seeds": seeds,
        "train_model": model_config(args.train_model, args.model_options),
        "env": env,
        "models": {},
        "agents": {},
        "results": {},
    }

    def save() -> None:
        report["wall_s"] = round(time.perf_counter() - started, 1)
        (out / "report.json").write_text(json.dumps(report, indent=2))  # partial results survive

    for kind in ("fast", "full"):
        report["agents"][kind] = train(kind, args, suite, env, out / kind)
        save()
    for name in models:
        model = report["models"][name] = model_config(name, args.model_options)
        results = report["results"][name] = {}
        for label, method, agent in [
            ("uniform", "uniform", None),
            ("QLS fast-trained", "qls", report["agents"]["fast"]["agent"]),
            ("QLS fast-trained, greedy", "qls:policy=greedy", report["agents"]["fast"]["agent"]),
            ("QLS full-trained", "qls", report["agents"]["full"]["agent"]),
            ("QLS full-trained, greedy", "qls:policy=greedy", report["agents"]["full"]["agent"]),
        ]:
            results[label] = deploy(method, agent, suite, model, args, seeds)
            save()
    save()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(table(report))
    print(f"\nwall time {report['wall_s']:.0f} s")


if __name__ == "__main__":
    main()
