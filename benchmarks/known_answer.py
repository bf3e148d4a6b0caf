"""Known-answer checks of the scheduler agents: does an agent learn what is known to be optimal?

    python -m benchmarks.known_answer [--timesteps 20000] [--json]

- ``bandit_optimal_states``: QLS at its defaults on ``MaskedContextualBandit`` (continuing, gamma
  0.99), trained 4,000 steps: the scored states (of 3) whose greedy action is the rewarded one,
  the minimum over seeds 0-2. Goal: 3.
- ``noise_share``: QLS trained on the fast env of a two-task suite, a target and a pure-noise
  auxiliary (coin-flip train/dev labels), under ``objective=target:target``; then deployed as
  ``mtl-gym run --method qls`` deploys it (its default softmax policy) for 200 task-minibatches on
  three fresh seeds: the noise task's share of the budget, the maximum over agent seeds 0-2.
  Goal: at most 0.10. ``noise_share_greedy`` is the same agent deployed greedily.

Finishes in a few minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mtl_gym.agents import QLS
from mtl_gym.agents.common.known_answer import MaskedContextualBandit, optimal_states
from mtl_gym.agents.qls import TrainAgentConfig, train_agent
from mtl_gym.data import load_suite
from mtl_gym.methods import run_method

SEEDS = (0, 1, 2)
NOISY_SUITE = {
    "domains": [
        {"name": "target", "train_size": 1000, "difficulty": 0.3, "label_noise": 0.0},
        {"name": "noise", "train_size": 1000, "difficulty": 0.3, "label_noise": 0.5},
    ],
    "dev_size": 200,
    "test_size": 200,
}
MODEL = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 32}
OBJECTIVE = {"objective": "target:target"}


def bandit(seed: int) -> int:
    agent = QLS("MlpPolicy", MaskedContextualBandit(), seed=seed)
    agent.learn(4000)
    return optimal_states(agent)


def noise_shares(seed: int, timesteps: int, folder: Path) -> dict[str, float]:
    config = TrainAgentConfig(
        suite="synthetic",
        suite_options=NOISY_SUITE,
        model=MODEL,
        env={**OBJECTIVE, "episode_steps": 200},
        timesteps=timesteps,
        fast=True,
        seed=seed,
    )
    train_agent(config, folder, progress_bar=False)
    suite = load_suite("synthetic", **NOISY_SUITE)
    shares = {}
    for name, method in (("default", "qls"), ("greedy", "qls:policy=greedy")):
        counts = [
            run_method(
                method,
                suite,
                200,
                100 + s,
                model=MODEL,
                agent=str(folder / "agent.zip"),
                env_config=OBJECTIVE,
            ).action_counts
            for s in range(3)
        ]
        shares[name] = sum(c["noise"] for c in counts) / sum(sum(c.values()) for c in counts)
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timesteps", type=int, default=20_000, help="agent training decisions (fast env)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    states = {seed: bandit(seed) for seed in SEEDS}
    with tempfile.TemporaryDirectory() as folder:
        shares = {seed: noise_shares(seed, args.timesteps, Path(folder) / str(seed)) for seed in SEEDS}
    report = {
        "bandit_optimal_states": min(states.values()),
        "bandit_per_seed": states,
        "noise_share": max(s["default"] for s in shares.values()),
        "noise_share_greedy": max(s["greedy"] for s in shares.values()),
        "noise_per_seed": shares,
        "timesteps": args.timesteps,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
