"""How faithful is the fast env to a suite? Every static schedule of a finished ``mtl-gym headroom``
folder rerun on the fast env that agents train on (``python -m benchmarks.fast_fidelity``, whose
docstring describes the report), and optionally the folder's agent deployed there."""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from pathlib import Path

import numpy as np
import scipy.stats
from gymnasium.vector import AutoresetMode

from ..agents import QLS
from ..agents.common.contract import agent_env_config, recorded_deployment
from ..agents.common.masking import masked_argmax, sample_rows, standardized_softmax
from ..agents.common.serialization import load_agent
from ..agents.qls import QLSScheduler, TrainAgentConfig
from ..data import load_suite
from ..env.batched import BatchedMTLEnv, RunTrainer
from ..objective import bind_objective
from .headroom import HeadroomConfig, agent_settings, headroom
from .tables import average_score

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


AGENT_POLICIES = {"agent": "softmax", "agent:greedy": "greedy"}
"""Rows of an agent deployed on the fast env: as ``--method qls`` deploys it, and greedily."""


@dataclasses.dataclass
class FastRuns:
    """Per method, one entry per seed: test score x100 under the objective, the agent's reward at the
    run's end (minus the objective's loss over the whole dev split), the env's reward (the agent's,
    penalty included) averaged over the run's decisions (what an agent that looks to the run's end maximises) and the task shares."""

    scores: dict[str, list[float]]
    rewards: dict[str, list[float]]
    returns: dict[str, list[float]]
    shares: dict[str, list[np.ndarray]]


def agent_actions(agent: QLS, policy: str, temperature: float, observations, masks, rng) -> np.ndarray:
    q_values, _ = agent.q_values(observations)
    if policy == "greedy":
        return masked_argmax(q_values, masks)
    return sample_rows(standardized_softmax(q_values, masks, temperature), rng)


def fast_runs(
    folder: Path,
    methods: list[str],
    seeds: list[int],
    features: dict | None = None,
    agent_path: Path | None = None,
    env: dict | None = None,
) -> FastRuns:
    """Each static method, and the agent at ``agent_path`` (:data:`AGENT_POLICIES`), run on the fast
    env for the folder's budget on each seed: the env the folder's agents train on (its penalty
    included), with ``env``'s EnvConfig fields over it."""
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text()))
    settings = agent_settings(config)
    if not settings["fast"]:
        raise ValueError(f"{folder}: the fast env holds classification suites only")
    training = TrainAgentConfig.over({**settings, "features": features or {}}, {"env": env or {}})
    suite = load_suite(config.suite, config.data_dir, **config.suite_options)
    env_config = training.env_config()
    if agent_path is not None:
        # The agent observes as it is deployed; a static schedule's training is the same under it.
        env_config = agent_env_config(str(agent_path), env_config)
        agent = load_agent(QLS, agent_path)
        deployment = QLSScheduler(agent=str(agent_path)).hyperparameters.resolved(
            recorded_deployment(agent_path)
        )
        methods = methods + list(AGENT_POLICIES)
    # One episode longer than the budget, so that no run resets before it is scored.
    env_config = dataclasses.replace(env_config, episode_steps=config.budget + 1)
    runs = [(method, seed) for method in methods for seed in seeds]
    env = BatchedMTLEnv(
        len(runs),
        suite=suite,
        model=training.model,
        config=env_config,
        trainer=training.trainer_settings(),
        features=training.fast_env_features(),
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    observations, _ = env.reset(seed=[seed for _, seed in runs])
    # An agent's rows take round-robin's place here; their actions are the agent's (below).
    weights = [None if m in AGENT_POLICIES else schedule_weights(m, suite.names) for m, _ in runs]
    generators = [np.random.default_rng(seed) for _, seed in runs]
    agent_rows = {
        policy: np.array([i for i, (method, _) in enumerate(runs) if method == label])
        for label, policy in AGENT_POLICIES.items()
        if label in methods
    }
    agent_rng = np.random.default_rng(0)
    counts = np.zeros((len(runs), len(suite.names)))
    returns = np.zeros(len(runs))
    for step in range(config.budget):
        actions = np.array(
            [
                step % len(suite.names) if w is None else rng.choice(len(w), p=w)
                for w, rng in zip(weights, generators, strict=True)
            ]
        )
        for policy, rows in agent_rows.items():
            actions[rows] = agent_actions(
                agent, policy, deployment.temperature, observations[rows], env.action_masks()[rows], agent_rng
            )
        counts[np.arange(len(runs)), actions] += 1
        observations, rewards, *_ = env.step(actions)
        returns += rewards / config.budget
    objective = bind_objective(config.resolved_objective, suite.names)
    result = FastRuns(*({m: [] for m in methods} for _ in dataclasses.fields(FastRuns)))
    for run, (method, _) in enumerate(runs):
        trainer = RunTrainer(env, run)
        test, dev = trainer.evaluate("test"), trainer.evaluate("dev")
        result.scores[method].append(100 * float(objective.score({t: m.accuracy for t, m in test.items()})))
        result.rewards[method].append(-float(objective.loss({t: m.loss for t, m in dev.items()})))
        result.returns[method].append(float(returns[run]))
        result.shares[method].append(counts[run] / counts[run].sum())
    return result


def fidelity(
    folder: Path,
    fast_seeds: int | None = None,
    features: dict | None = None,
    agent: bool = False,
    env: dict | None = None,
) -> dict:
    """The report of one folder (module docstring); with ``agent``, its QLS agent
    (``FOLDER/agents/qls/agent.zip``, trained by ``headroom_capture``) deployed on the fast env too;
    ``env``: EnvConfig fields over the agents' training env (:func:`fast_runs`)."""
    config = HeadroomConfig.of(json.loads((folder / "config.json").read_text()))
    report = json.loads((folder / "headroom.json").read_text())
    names = load_suite(config.suite, config.data_dir, **config.suite_options).names
    objective = bind_objective(config.resolved_objective, names)
    seeds = report["seeds"]
    records = {m: r for m, r in static_records(folder).items() if all(s in r for s in seeds)}
    full, full_dev = (
        {
            method: [100 * average_score(runs[s], split, config.metric, objective) for s in seeds]
            for method, runs in records.items()
        }
        for split in ("test", "dev")
    )
    methods = list(full)
    agent_path = folder / "agents" / "qls" / "agent.zip" if agent else None
    if agent_path is not None and not agent_path.is_file():
        raise FileNotFoundError(f"{folder}: no agent at {agent_path} (benchmarks.headroom_capture trains it)")
    start = time.perf_counter()
    fast = fast_runs(
        folder, methods, list(range(fast_seeds)) if fast_seeds else seeds, features, agent_path, env
    )

    def best(scores: dict[str, list[float]]) -> str:
        return max(methods, key=lambda m: statistics.fmean(scores[m]))

    def rho(scores: dict[str, list[float]]) -> float:
        means = [[statistics.fmean(side[m]) for m in methods] for side in (full, scores)]
        # scipy averages tied ranks (test scores on a few hundred examples tie).
        return round(float(scipy.stats.spearmanr(*means).statistic), 2)

    # The folder's best static schedule is chosen on dev, as ``mtl-gym headroom`` chooses it.
    best_full = best(full_dev)
    row = {
        "folder": folder.name,
        "suite": config.suite,
        "objective": config.resolved_objective,
        "budget": config.budget,
        "schedules": len(methods),
        "rank_correlation": rho(fast.scores),
        "reward_rank_correlation": rho(fast.rewards),
        "static_headroom": report["static_headroom"],
        "full_best": best_full,
        "fast_headroom": headroom(fast.scores[best_full], fast.scores["uniform"]),
        "fast_best": best(fast.scores),
        "fast_best_headroom": headroom(fast.scores[best(fast.scores)], fast.scores["uniform"]),
        "reward_headroom": headroom(fast.rewards[best_full], fast.rewards["uniform"], digits=4),
        "reward_best": best(fast.rewards),
        "return_headroom": headroom(fast.returns[best_full], fast.returns["uniform"], digits=4),
        "return_best": best(fast.returns),
    }
    for label in AGENT_POLICIES if agent else ():
        row[label] = {
            "test": headroom(fast.scores[label], fast.scores["uniform"]),
            "reward": headroom(fast.rewards[label], fast.rewards["uniform"], digits=4),
            "shares": dict(
                zip(names, np.round(np.mean(fast.shares[label], axis=0), 3).tolist(), strict=True)
            ),
        }
    row["fast_s"] = round(time.perf_counter() - start, 1)
    return row
