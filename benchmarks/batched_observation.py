"""What amortised observation saves in the batched env, where agents train: env steps per second of
:class:`BatchedMTLEnv` with a probe pass every step against every k steps, side by side in one run.

    python -m benchmarks.batched_observation [--suite fsmtl] [--runs 64] [--steps 200] [--json]

On fsmtl16 (12 tasks, length <= 64, cnn 64/64 frozen features; synthetic with ``--suite
synthetic``), with the agent's observation (histograms, share, since, loss, elapsed) and random
allowed actions, each setting of ``OBSERVE_EVERY`` is timed over ``--steps`` vector steps of
``--runs`` runs, in two interleaved rounds, keeping the faster. Prints decisions per second per
setting and the speedup of each over a pass every step.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from mtl_gym.env import BatchedMTLEnv

OBSERVE_EVERY = (1, 4, 16)
FEATURES = ("share", "since", "loss", "elapsed")


def decisions_per_s(env: BatchedMTLEnv, steps: int, rng: np.random.Generator) -> float:
    env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        masks = env.action_masks()
        env.step(np.array([rng.choice(np.flatnonzero(row)) for row in masks]))
    return env.num_envs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="fsmtl")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--runs", type=int, default=64, help="runs stepped at once")
    parser.add_argument("--steps", type=int, default=200, help="vector steps timed per setting")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    options = {"max_len": 64} if args.suite == "fsmtl" else {}
    envs = {
        k: BatchedMTLEnv(
            args.runs,
            args.suite,
            {"name": "cnn", "embedding_dim": 64, "hidden_dim": 64},
            {"features": FEATURES, "episode_steps": 10 * args.steps, "observe_every": k},
            data_dir=args.data_dir,
            suite_options=options,
        )
        for k in OBSERVE_EVERY
    }
    rng = np.random.default_rng(0)
    rounds = [{k: decisions_per_s(env, args.steps, rng) for k, env in envs.items()} for _ in range(2)]
    best = {k: max(r[k] for r in rounds) for k in OBSERVE_EVERY}
    report = {
        "suite": args.suite,
        "runs": args.runs,
        "decisions_per_s": {f"observe_every={k}": round(v) for k, v in best.items()},
        "speedup": {f"observe_every={k}": round(v / best[1], 2) for k, v in best.items()},
    }
    print(json.dumps(report, indent=2) if args.json else report)


if __name__ == "__main__":
    main()
