"""What QLS's learning adds to an env step: ``learn()`` wall time per env step against ``env.step`` alone.

    python -m benchmarks.agent_overhead [--steps 300] [--model lstm] [--json]

Both sides run the same env (synthetic suite, default EnvConfig) for the same number of steps in
one process; each side is timed in two rounds, interleaved, and the faster round kept, so a burst
of other load does not land on one side only. Goal: learn / env <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from mtl_gym.agents import QLS
from mtl_gym.data import load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv


def env_only_ms(env: MTLSchedulingEnv, steps: int) -> float:
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        env.step(int(rng.choice(np.flatnonzero(env.action_masks()))))
    return (time.perf_counter() - start) / steps * 1000


def learn_ms(env: MTLSchedulingEnv, steps: int) -> float:
    agent = QLS("MlpPolicy", env, seed=0)
    start = time.perf_counter()
    agent.learn(steps)
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--model", default="lstm")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    env = MTLSchedulingEnv(
        load_suite("synthetic"), {"name": args.model}, EnvConfig(episode_steps=10 * args.steps)
    )
    rounds = [(env_only_ms(env, args.steps), learn_ms(env, args.steps)) for _ in range(2)]
    env_ms, agent_ms = min(r[0] for r in rounds), min(r[1] for r in rounds)
    result = {
        "model": args.model,
        "steps": args.steps,
        "env_step_ms": round(env_ms, 2),
        "learn_ms_per_step": round(agent_ms, 2),
        "learn_over_env": round(agent_ms / env_ms, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"env.step {env_ms:.2f} ms, QLS.learn {agent_ms:.2f} ms per step: {agent_ms / env_ms:.3f}x (goal <= 1.05)"
        )


if __name__ == "__main__":
    main()
