"""Known-answer checks of the scheduler agents: does an agent learn what is known to be optimal?

    python -m benchmarks.known_answer [--timesteps 20000] [--agent-config JSON] [--seeds 0,1,2] [--json]

- ``bandit_optimal_states``: QLS at its defaults on ``MaskedContextualBandit`` (continuing, gamma
  0.99), trained 4,000 steps: the scored states (of 3) whose greedy action is the rewarded one,
  the minimum over seeds 0-2. Goal: 3.
- ``noise_share``: QLS trained on the fast env of a two-task suite, a target and a pure-noise
  auxiliary (coin-flip train/dev labels), under ``objective=target:target``; then deployed as
  ``mtl-gym run --method qls`` deploys it (its default softmax policy) for 200 task-minibatches on
  three fresh seeds: the noise task's share of the budget, the maximum over agent seeds 0-2.
  Goal: at most 0.10. ``noise_share_greedy`` is the same agent deployed greedily.
- ``imbalanced_distance``: QLS trained 50,000 decisions on the fast env of ``synthetic-imbalanced``
  (train sizes 2,000 / 800 / 1,000 / 24, mean objective), then deployed by default for 600
  task-minibatches on three fresh seeds: the L1 distance of its task shares from the suite's best
  static mixture (known from ``headroom``), the maximum over agent seeds 0-2. Goal: below
  ``uniform_distance``, uniform's distance from that mixture (the shares move towards it).

Seeds 0-2 are the goals' seeds; ``--seeds`` runs every check on others (the keys keep their
names: the minimum or maximum over the seeds given). Finishes in a few minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from mtl_gym.agents import QLS
from mtl_gym.agents.common.known_answer import (
    IMBALANCED_ANSWER,
    MaskedContextualBandit,
    imbalanced_shares,
    imbalanced_training,
    noise_share,
    noise_training,
    optimal_states,
    share_distance,
)
from mtl_gym.agents.qls import train_agent

SEEDS = (0, 1, 2)
DEPLOYMENTS = {"default": {}, "greedy": {"policy": "greedy"}}


def bandit(seed: int) -> int:
    agent = QLS("MlpPolicy", MaskedContextualBandit(), seed=seed)
    agent.learn(4000)
    return optimal_states(agent)


def noise_shares(seed: int, timesteps: int, folder: Path, agent_config: dict) -> dict[str, float]:
    train_agent(noise_training(seed, timesteps, **agent_config), folder, progress_bar=False)
    return {name: noise_share(folder / "agent.zip", settings) for name, settings in DEPLOYMENTS.items()}


def imbalanced(seed: int, timesteps: int, folder: Path, agent_config: dict) -> dict[str, float]:
    train_agent(imbalanced_training(seed, timesteps, **agent_config), folder, progress_bar=False)
    return imbalanced_shares(folder / "agent.zip")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timesteps", type=int, default=20_000, help="agent training decisions (fast env)")
    parser.add_argument(
        "--imbalanced-timesteps",
        type=int,
        default=50_000,
        help="agent training decisions of the imbalanced check",
    )
    parser.add_argument(
        "--agent-config",
        type=json.loads,
        default={},
        help="TrainAgentConfig fields over the defaults of the two scheduling checks (an env is merged "
        "into each check's), as JSON, "
        'e.g. \'{"reward_baseline": "uniform"}\' (the bandit check is QLS\'s defaults alone)',
    )
    parser.add_argument(
        "--seeds",
        default=",".join(map(str, SEEDS)),
        help="agent seeds of every check, comma-separated (default: %(default)s, the goals' seeds)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    states = {seed: bandit(seed) for seed in seeds}
    with tempfile.TemporaryDirectory() as folder:
        shares = {
            seed: noise_shares(seed, args.timesteps, Path(folder) / f"noise{seed}", args.agent_config)
            for seed in seeds
        }
        mixtures = {
            seed: imbalanced(
                seed, args.imbalanced_timesteps, Path(folder) / f"imbalanced{seed}", args.agent_config
            )
            for seed in seeds
        }
    uniform = {task: 1 / len(IMBALANCED_ANSWER) for task in IMBALANCED_ANSWER}
    report = {
        "bandit_optimal_states": min(states.values()),
        "bandit_per_seed": states,
        "noise_share": max(s["default"] for s in shares.values()),
        "noise_share_greedy": max(s["greedy"] for s in shares.values()),
        "noise_per_seed": shares,
        "imbalanced_distance": round(max(share_distance(m) for m in mixtures.values()), 3),
        "uniform_distance": round(share_distance(uniform), 3),
        "imbalanced_per_seed": {
            seed: {"distance": round(share_distance(m), 3), "shares": {t: round(v, 3) for t, v in m.items()}}
            for seed, m in mixtures.items()
        },
        "imbalanced_answer": IMBALANCED_ANSWER,
        "seeds": seeds,
        "agent_config": args.agent_config,
        "timesteps": args.timesteps,
        "imbalanced_timesteps": args.imbalanced_timesteps,
        "wall_s": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
