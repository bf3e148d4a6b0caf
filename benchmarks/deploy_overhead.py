"""What a deployed QLS agent costs over uniform: wall time of whole runs, side by side, same seeds.

    python -m benchmarks.deploy_overhead [--budget 600] [--data-dir DIR] [--json]

Two settings: ``preset`` is the qls-paper preset's model and data (FS-MTL, 300-d LSTM, length 128,
minibatches of 16; ``mtl-gym bench --preset qls-paper``) and ``cnn`` the fast one (cnn 64/64,
length 64), each on the fsmtl16 suite for ``--budget`` task-minibatches. Uniform runs without
observations (as the bench runs it). Both evaluate the dev split once, at the end (a bench run's 10
evaluations would add the same time to both sides and dilute the ratio). QLS deploys an untrained
agent (the cost does not depend on its weights) with a default agent's observation
(``AGENT_OBSERVATION``) under each setting of ``OBSERVATIONS``, from a probe pass at every decision
(``full``, the paper's) to the amortised ones (``EnvConfig.observe_every``, ``observe_tasks``,
``refresh_every``, ``hard_from``). Each run is timed twice, the rounds interleaved, and the faster
kept. Prints ``preset_ratio`` and ``cnn_ratio`` (QLS / uniform wall time) under ``DEPLOYMENT`` (a
default agent's deployment), the ratio of every setting, and the settings used. Goal:
preset_ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mtl_gym.agents import QLS, QLSScheduler
from mtl_gym.agents.common.contract import DEPLOYED_OBSERVE_EVERY
from mtl_gym.agents.qls.train import AGENT_ENV_DEFAULTS
from mtl_gym.data import load_suite
from mtl_gym.env import MTLSchedulingEnv, run_schedule
from mtl_gym.methods import run_method

SETTINGS = {
    "preset": {
        "model": {"name": "lstm", "embedding_dim": 300, "hidden_dim": 100},
        "max_len": 128,
        "trainer": {"batch_size": 16},
    },
    "cnn": {"model": {"name": "cnn", "embedding_dim": 64, "hidden_dim": 64}, "max_len": 64, "trainer": {}},
}
AGENT_OBSERVATION = {key: AGENT_ENV_DEFAULTS[key] for key in ("features", "refresh_every")}
"""What a default agent observes: its feature groups and its hard-sample refresh (every 1,000 steps)."""
OBSERVATIONS = {
    "full": {"observe_every": 1},
    "every-16": {"observe_every": 16},
    "every-64": {"observe_every": DEPLOYED_OBSERVE_EVERY},
    "every-64-refresh-100": {"observe_every": 64, "refresh_every": 100},
    "every-64-hard-from-reward": {"observe_every": 64, "hard_from": "reward"},
    "tasks-1-every-4": {"observe_tasks": 1, "observe_every": 4},
}
"""Observation settings of the QLS runs, over AGENT_OBSERVATION. ``refresh_every`` (the full dev
pass that re-selects the hard samples; 100 is the env's default) and ``hard_from`` are observation
settings of an agent, so those rows deploy only agents trained with them; ``observe_every`` can
change at deployment."""
DEPLOYMENT = "every-64"
"""The setting behind preset_ratio and cnn_ratio: a default agent's deployment."""


def wall_s(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def ratios(setting: dict, suite, budget: int) -> dict:
    model, trainer = setting["model"], setting["trainer"]
    agent = QLS("MlpPolicy", MTLSchedulingEnv(suite, model, AGENT_OBSERVATION, trainer), seed=0)

    def uniform() -> None:
        run_method("uniform", suite, budget, 0, model=model, trainer=trainer, evaluations=1)

    def qls(observation: dict):
        config = {**AGENT_OBSERVATION, **observation}
        return lambda: run_schedule(
            QLSScheduler(agent),
            suite,
            budget,
            0,
            model=model,
            env_config=config,
            trainer=trainer,
            evaluations=1,
        )

    runs = {"uniform": uniform} | {name: qls(o) for name, o in OBSERVATIONS.items()}
    rounds = [{name: wall_s(run) for name, run in runs.items()} for _ in range(2)]
    best = {name: min(r[name] for r in rounds) for name in runs}
    return {"uniform_s": round(best["uniform"], 2)} | {
        name: round(best[name] / best["uniform"], 3) for name in OBSERVATIONS
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=int, default=600, help="task-minibatches per run")
    parser.add_argument(
        "--data-dir", default=None, help="real data root; none: $MTL_GYM_DATA, else ../shared/data"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    measured = {
        name: ratios(setting, load_suite("fsmtl", args.data_dir, max_len=setting["max_len"]), args.budget)
        for name, setting in SETTINGS.items()
    }
    report = {
        "preset_ratio": measured["preset"][DEPLOYMENT],
        "cnn_ratio": measured["cnn"][DEPLOYMENT],
        "deployment": {DEPLOYMENT: OBSERVATIONS[DEPLOYMENT]},
        "ratios": measured,
        "settings": {"suite": "fsmtl", "budget": args.budget, "threads": args.threads, **SETTINGS},
    }
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
