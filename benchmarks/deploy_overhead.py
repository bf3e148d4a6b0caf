"""What a deployed QLS agent costs over uniform: wall time of whole runs, side by side, same seeds.

    python -m benchmarks.deploy_overhead [--budget 200] [--data-dir DIR] [--json]

Two settings: ``preset`` is the qls-paper preset's model and data (FS-MTL, 300-d LSTM, length 128,
minibatches of 16; ``mtl-gym bench --preset qls-paper``) and ``cnn`` the fast one (cnn 64/64,
length 64), each on the fsmtl16 suite for ``--budget`` task-minibatches. Uniform runs without
observations (as the bench runs it);
both evaluate the dev split once, at the end (a bench run's 10 evaluations would add the same time
to both sides and dilute the ratio); QLS deploys an untrained agent (the cost does not depend on
its weights) with the agent's observation (histograms plus the share, since, loss and elapsed
features) under each observation setting of ``OBSERVATIONS``, from every probe pass at every
decision (``full``, today's deployment) to the amortised ones (``EnvConfig.observe_every``,
``observe_tasks``, ``refresh_every``). Each run is timed twice, the rounds interleaved, and the
faster kept. Prints ``preset_ratio`` and ``cnn_ratio`` (QLS / uniform wall time) under
``DEPLOYMENT``, the ratio of every setting, and the settings used. Goal: preset_ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from mtl_gym.agents import QLS, QLSScheduler
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
AGENT_OBSERVATION = {"features": ["share", "since", "loss", "elapsed"]}
OBSERVATIONS = {
    "full": {},
    "every-4": {"observe_every": 4},
    "every-16": {"observe_every": 16},
    "every-16-refresh-800": {"observe_every": 16, "refresh_every": 800},
    "tasks-1-every-4": {"observe_tasks": 1, "observe_every": 4},
}
"""Observation settings of the QLS runs. ``refresh_every`` (the full dev pass that re-selects the
hard samples) is an observation setting of the agent, so the last one deploys only agents trained
with it; ``observe_every`` can change at deployment."""
DEPLOYMENT = "every-16"
"""The setting behind preset_ratio and cnn_ratio."""


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
    parser.add_argument("--budget", type=int, default=200, help="task-minibatches per run")
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
