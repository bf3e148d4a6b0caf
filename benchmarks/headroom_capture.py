"""How much of a suite's headroom do schedulers capture? Each method runs on the seeds, model, budget
and objective of a finished ``mtl-gym headroom`` folder, and is compared with that folder's uniform
runs seed by seed.

    python -m benchmarks.headroom_capture FOLDER [--methods odm,proportional:temperature=3,qls]
        [--agent-timesteps 50000] [--agent-config JSON] [--json]

``qls``/``ppo`` and ``qls:...``/``ppo:...`` deploy one agent of that algorithm trained first on the
suite's fast env (batched, cached features; the full env for tagging suites; seed 1000, away from
the evaluation seeds) under the folder's objective; on the fast env QLS keeps the agent of its best
dev evaluation (``TrainAgentConfig.eval_every``). Per method: the paired test difference from
uniform with its bootstrap 95% CI, the fraction of the static headroom it captures (difference /
static headroom), its paired difference from the folder's best static mixture (``vs_static``: above
0, a schedule no mixture of the search matched), and its largest and smallest task share. The runs
are trials of the folder (``FOLDER/trials``), so a rerun only trains what is new.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.bench.execute import run_trials
from mtl_gym.bench.headroom import HeadroomConfig, agent_settings, headroom
from mtl_gym.bench.tables import average_score
from mtl_gym.bench.trials import Trial, suite_of
from mtl_gym.objective import bind_objective

AGENT_SEED = 1000
AGENTS = ("qls", "ppo")
"""Methods that deploy an agent, trained first (one per algorithm) under ``FOLDER/agents``."""


def agent_for(algorithm: str, config: HeadroomConfig, folder: Path, timesteps: int, options: dict) -> str:
    path = folder / "agents" / algorithm
    if not (path / "agent.zip").is_file():
        settings = agent_settings(config, algorithm, timesteps, AGENT_SEED)
        train_agent(TrainAgentConfig.over(settings, options), path, progress_bar=False)
    return str(path / "agent.zip")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folder", help="a finished mtl-gym headroom folder")
    parser.add_argument("--methods", default="odm,proportional:temperature=3,qls,qls:policy=greedy")
    parser.add_argument("--agent-timesteps", type=int, default=50_000)
    parser.add_argument(
        "--agent-config",
        type=json.loads,
        default={},
        help="TrainAgentConfig fields over the defaults, as JSON, e.g. '{\"fast\": false}' to train on the full env",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(args.folder)
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text()))
    report = json.loads((folder / "headroom.json").read_text())
    bench = config.bench()
    suite = suite_of(bench)
    objective = bind_objective(config.resolved_objective, suite.names)
    seeds = report["seeds"]
    uniform = report["uniform"]["test_per_seed"]
    best_static = report["best_static"]["test_per_seed"]
    static = report["static_headroom"]["mean"]
    rows = {}
    for method in args.methods.split(","):
        algorithm = method.partition(":")[0]
        agent = (
            agent_for(algorithm, config, folder, args.agent_timesteps, args.agent_config)
            if algorithm in AGENTS
            else None
        )
        records = run_trials(
            bench, [Trial(method, config.lr, s, agent) for s in seeds], folder, not args.json
        )
        scores = [100 * average_score(r, "test", config.metric, objective) for r in records]
        shares = [
            statistics.fmean(r["action_counts"][t] / sum(r["action_counts"].values()) for r in records)
            for t in suite.names
        ]
        difference = headroom(scores, uniform)
        rows[method] = {
            "test": round(statistics.fmean(scores), 2),
            "paired": difference,
            "captured": round(difference["mean"] / static, 2) if static > 0 else None,
            "vs_static": headroom(scores, best_static),
            "largest_share": round(max(shares), 3),
            "smallest_share": round(min(shares), 3),
        }
    result = {"suite": config.suite, "objective": objective.objective.text, "budget": config.budget,
              "static_headroom": report["static_headroom"], "methods": rows}  # fmt: skip
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{config.suite} ({result['objective']}, budget {config.budget}): static headroom {static:+.1f}")
    for method, row in rows.items():
        paired = row["paired"]
        print(
            f"{method:<32} {row['test']:6.1f}  {paired['mean']:+.1f} [{paired['ci_low']:+.1f}, "
            f"{paired['ci_high']:+.1f}]  captured {row['captured']}  vs best static {row['vs_static']['mean']:+.1f}  "
            f"shares {row['smallest_share']}-{row['largest_share']}"
        )


if __name__ == "__main__":
    main()
