"""Does the fast env rank static mixtures as the full env does? An agent trained on the fast env can
only learn a suite's answer if the fast env holds it.

    python -m benchmarks.fast_fidelity FOLDER [FOLDER ...] [--json]

Each FOLDER is a finished ``mtl-gym headroom`` folder. Every static schedule it ran (uniform, each
mixture of its search, a target alone) is run again on the fast env that
``benchmarks.headroom_capture`` trains its agents on (frozen, cached encoder features; the folder's
suite, model, trainer, budget and objective), on the folder's seeds, and scored on test under the
objective. Per folder:

- ``rank_correlation``: Spearman's rho between the schedules' mean test scores on the two envs;
- ``fast_headroom``: on the fast env, the paired difference from uniform of the full env's best
  static mixture, with its bootstrap 95% CI (the full env's ``static_headroom`` beside it), over
  the folder's seeds or ``--fast-seeds``;
- ``fast_best``: the fast env's own best schedule and its paired difference from uniform;
- ``reward_*``: the same for what the agent learns from, its reward at the run's end (minus the
  objective's loss over the whole dev split): ``reward_rank_correlation`` against the full env's
  test scores, ``reward_headroom`` (the full env's best against uniform, in loss units) and
  ``reward_best``.

A suite whose full-env answer is not the fast env's is one that a fast-env agent cannot learn,
whatever its learning signal. Runs all schedules of a folder at once in one batched env: about a
minute and a half per 600-minibatch folder of 18 schedules x 5 seeds on one core.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time
from pathlib import Path

import numpy as np
from gymnasium.vector import AutoresetMode

from mtl_gym.agents.qls import TrainAgentConfig
from mtl_gym.bench.headroom import HeadroomConfig, headroom
from mtl_gym.bench.tables import average_score
from mtl_gym.data import load_suite
from mtl_gym.env.batched import BatchedMTLEnv, RunTrainer
from mtl_gym.objective import bind_objective
from mtl_gym.stats import paired_difference

from .headroom_capture import agent_settings

STATIC = ("uniform", "fixed-weights:", "single:")
"""Methods of a headroom folder whose schedule ignores the observation."""


def static_records(folder: Path) -> dict[str, dict[int, dict]]:
    """The folder's static schedules: method spec -> seed -> run record."""
    records: dict[str, dict[int, dict]] = {}
    for path in sorted((folder / "trials").glob("*.json")):
        record = json.loads(path.read_text())
        method = record["params"]["method"]
        if method == "uniform" or method.startswith(STATIC[1:]):
            records.setdefault(method, {})[record["params"]["seed"]] = record
    return records


def schedule_weights(method: str, names: list[str]) -> np.ndarray | None:
    """Sampling weights of a static method, or None for uniform's round-robin."""
    if method == "uniform":
        return None
    kind, _, argument = method.partition(":")
    if kind == "single":
        return np.array([float(name == argument) for name in names])
    weights = np.array([float(w) for w in argument.split(",")])
    return weights / weights.sum()


def fast_scores(
    folder: Path, methods: list[str], seeds: list[int], features: dict | None = None
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Of each method's fast-env run on each seed: the test score x100 under the folder's objective,
    and the agent's reward at the run's end, minus the objective's loss over the whole dev split."""
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text()))
    settings = agent_settings(config)
    if not settings["fast"]:
        raise ValueError(f"{folder}: the fast env holds classification suites only")
    env = {**settings["env"], "reference": None}
    agent = TrainAgentConfig.of({**settings, "env": env, "features": features or {}})
    suite = load_suite(config.suite, config.data_dir, **config.suite_options)
    # One episode longer than the budget, so that no run resets before it is scored.
    env_config = dataclasses.replace(agent.env_config(), episode_steps=config.budget + 1)
    runs = [(method, seed) for method in methods for seed in seeds]
    env = BatchedMTLEnv(
        len(runs),
        suite=suite,
        model=agent.model,
        config=env_config,
        trainer=agent.trainer_settings(),
        features=agent.features,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    env.reset(seed=[seed for _, seed in runs])
    weights = [schedule_weights(method, suite.names) for method, _ in runs]
    generators = [np.random.default_rng(seed) for _, seed in runs]
    for step in range(config.budget):
        actions = [
            step % len(suite.names) if w is None else rng.choice(len(w), p=w)
            for w, rng in zip(weights, generators, strict=True)
        ]
        env.step(np.array(actions))
    objective = bind_objective(config.resolved_objective, suite.names)
    scores: dict[str, list[float]] = {method: [] for method in methods}
    rewards: dict[str, list[float]] = {method: [] for method in methods}
    for run, (method, _) in enumerate(runs):
        trainer = RunTrainer(env, run)
        test, dev = trainer.evaluate("test"), trainer.evaluate("dev")
        scores[method].append(100 * float(objective.score({t: m.accuracy for t, m in test.items()})))
        rewards[method].append(-float(objective.loss({t: m.loss for t, m in dev.items()})))
    return scores, rewards


def loss_difference(scores: list[float], uniform: list[float]) -> dict:
    """Paired reward difference (loss units, so three decimals) with its bootstrap 95% interval."""
    estimate = paired_difference(scores, uniform)
    return {
        "mean": round(estimate.point, 4),
        "ci_low": round(estimate.low, 4),
        "ci_high": round(estimate.high, 4),
    }


def spearman(a: list[float], b: list[float]) -> float:
    ranks = [np.argsort(np.argsort(values)) for values in (a, b)]
    return float(np.corrcoef(*ranks)[0, 1])


def fidelity(folder: Path, fast_seeds: int | None = None, features: dict | None = None) -> dict:
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text()))
    report = json.loads((folder / "headroom.json").read_text())
    names = load_suite(config.suite, config.data_dir, **config.suite_options).names
    objective = bind_objective(config.resolved_objective, names)
    seeds = report["seeds"]
    records = {m: r for m, r in static_records(folder).items() if all(s in r for s in seeds)}
    full = {
        method: [100 * average_score(runs[s], "test", config.metric, objective) for s in seeds]
        for method, runs in records.items()
    }
    start = time.perf_counter()
    fast, reward = fast_scores(folder, list(full), list(range(fast_seeds)) if fast_seeds else seeds, features)
    methods = list(full)

    def best(scores: dict[str, list[float]]) -> str:
        return max(methods, key=lambda m: statistics.fmean(scores[m]))

    def rho(scores: dict[str, list[float]]) -> float:
        means = [[statistics.fmean(side[m]) for m in methods] for side in (full, scores)]
        return round(spearman(*means), 2)

    best_full = best(full)
    return {
        "suite": config.suite,
        "objective": config.resolved_objective,
        "budget": config.budget,
        "schedules": len(methods),
        "rank_correlation": rho(fast),
        "reward_rank_correlation": rho(reward),
        "static_headroom": report["static_headroom"],
        "full_best": best_full,
        "fast_headroom": headroom(fast[best_full], fast["uniform"]),
        "fast_best": best(fast),
        "fast_best_headroom": headroom(fast[best(fast)], fast["uniform"]),
        "reward_headroom": loss_difference(reward[best_full], reward["uniform"]),
        "reward_best": best(reward),
        "fast_s": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("folders", nargs="+", help="finished mtl-gym headroom folders")
    parser.add_argument(
        "--fast-seeds",
        type=int,
        help="seeds 0..N-1 of the fast-env runs (default: the folder's own seeds); the fast env is "
        "cheap, so more seeds narrow its intervals",
    )
    parser.add_argument(
        "--features",
        type=json.loads,
        default={},
        help="FeatureConfig fields of the fast env as JSON, e.g. '{\"encoder_budget\": 300}'",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [fidelity(Path(folder), args.fast_seeds, args.features) for folder in args.folders]
    if args.json:
        print(
            json.dumps({"features": args.features, "fast_seeds": args.fast_seeds, "folders": rows}, indent=2)
        )
        return
    for row in rows:
        full, fast, reward = row["static_headroom"], row["fast_headroom"], row["reward_headroom"]
        print(
            f"{row['suite']} ({row['objective']}, {row['budget']}): rho {row['rank_correlation']:+.2f}  "
            f"full {full['mean']:+.1f} [{full['ci_low']:+.1f}, {full['ci_high']:+.1f}]  "
            f"fast {fast['mean']:+.1f} [{fast['ci_low']:+.1f}, {fast['ci_high']:+.1f}]  "
            f"fast best {row['fast_best']} {row['fast_best_headroom']['mean']:+.1f}  "
            f"reward rho {row['reward_rank_correlation']:+.2f}  reward {reward['mean']:+.3f} "
            f"[{reward['ci_low']:+.3f}, {reward['ci_high']:+.3f}]  reward best {row['reward_best']}"
        )


if __name__ == "__main__":
    main()
