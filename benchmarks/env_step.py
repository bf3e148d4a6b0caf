"""Cost of an env step against the work it cannot avoid, side by side in one run.

    python -m benchmarks.env_step --suite fsmtl [--data-dir DIR] [--steps 60] [--json]

For the FS-MTL LSTM at batch 16 on the suite (the 12 fsmtl16 domains by default), it measures:

- ``train_ms``: a plain trainer step;
- ``floor_ms``: the same train step plus one batched inference pass of the same model over the
  env's probe samples, written here as bare torch code, divided by ``observe_every`` (a pass every
  k steps);
- ``env_ms``: ``env.step``, hard-set refreshes included (amortised over ``refresh_every``), timed
  over a whole number of probe periods;
- ``env_step_ratio`` = env_ms / train_ms and ``overhead_ratio`` = env_ms / floor_ms;

at the default EnvConfig (the paper's env), at a documented fast setting and at an agent's deployed
observation (``DEPLOYED``), with a breakdown of where an env step's time goes.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from mtl_gym.agents.common.contract import DEPLOYED_OBSERVE_EVERY
from mtl_gym.agents.qls.train import AGENT_ENV_DEFAULTS
from mtl_gym.data import load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, seed_everything

FAST = {"reward_set": "hard", "steps_per_action": 4, "refresh_every": 400}
"""The fast setting: the reward is read off the hard samples (no extra probes), each decision
covers 4 minibatches, so one probe pass serves 4 training steps, and the hard set is re-chosen
every 400 training steps (100 decisions) rather than 100."""
DEPLOYED = {
    "features": AGENT_ENV_DEFAULTS["features"],
    "refresh_every": AGENT_ENV_DEFAULTS["refresh_every"],
    "observe_every": DEPLOYED_OBSERVE_EVERY,
}
"""The observation of a trained agent at deployment: the agents' default features and hard-sample
refresh, a probe pass every DEPLOYED_OBSERVE_EVERY decisions."""


def timed(function, repeats: int, rounds: int = 3) -> float:
    """Milliseconds per call: the best of ``rounds`` means, so a burst of other load on the machine
    does not land on one side of a ratio only."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for index in range(repeats):
            function(index)
        best = min(best, (time.perf_counter() - start) / repeats * 1000)
    return best


def bare_probe_pass(model, probes) -> None:
    """The unavoidable inference: every probe through encoder and its task's head, no env code."""
    model.eval()
    with torch.inference_mode():
        for chunk in probes.chunks:
            tokens = probes.tokens[chunk.start : chunk.stop, : chunk.width]
            features = model.encode(tokens, probes.lengths[chunk.start : chunk.stop])
            for part in chunk.parts:
                rows = (
                    features
                    if part.rows_in_chunk is None
                    else type(features)(
                        *(None if f is None else f.index_select(0, part.rows_in_chunk) for f in features)
                    )
                )
                model.head(part.task, rows).softmax(-1)
    model.train()


def measure(suite, model: ModelConfig, config: EnvConfig, steps: int) -> dict:
    seed_everything(0)
    trainer = Trainer(model(suite), suite, TrainerConfig())
    k = len(suite)
    for step in range(10):
        trainer.step([step % k])
    train_ms = timed(lambda i: trainer.step([i % k]), steps)

    env = MTLSchedulingEnv(suite, model, config)
    env.reset(seed=0)
    per_decision = config.steps_per_action
    for step in range(3):
        env.step(step % k)
    every = config.probe_every
    probe_ms = timed(lambda i: bare_probe_pass(env.trainer.model, env.probes), steps)
    floor_ms = per_decision * train_ms + probe_ms / every
    observe_ms = timed(lambda i: env._measure(np.arange(k)), steps)
    refresh_ms = timed(lambda i: env._refresh_probes(), 1) if config.hard_from == "dev" else 0.0
    env_ms = timed(lambda i: env.step(i % k), every * -(-steps // every))
    return {
        "config": {
            k: v
            for k, v in vars(config).items()
            if k
            in (
                "hard_samples",
                "hard_from",
                "reward_set",
                "reward_samples",
                "steps_per_action",
                "refresh_every",
                "observe_every",
            )
        },
        "probes": int(len(env.probes.tokens)),
        "train_ms": round(train_ms, 2),
        "floor_ms": round(floor_ms, 2),
        "env_ms": round(env_ms, 2),
        "env_step_ratio": round(env_ms / (per_decision * train_ms), 2),
        "overhead_ratio": round(env_ms / floor_ms, 3),
        "breakdown_ms": {
            "train_steps": round(per_decision * train_ms, 2),
            "probe_pass_bare": round(probe_ms, 2),
            "probe pass + histograms + reward": round(observe_ms, 2),
            "probe pass amortised per env step": round(observe_ms / every, 2),
            "refresh hard set (full dev pass)": round(refresh_ms, 2),
            "refresh amortised per env step": round(refresh_ms * per_decision / config.refresh_every, 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="fsmtl")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=20, help="calls per timing round (3 rounds, best kept)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    suite = load_suite(args.suite, args.data_dir)
    model = ModelConfig(name="lstm")
    result = {
        "suite": suite.name,
        "tasks": len(suite),
        "torch_threads": torch.get_num_threads(),
        "default": measure(suite, model, EnvConfig(), args.steps),
        "fast": measure(suite, model, EnvConfig(**FAST), args.steps),
        "deployed": measure(suite, model, EnvConfig(**DEPLOYED), args.steps),
    }
    # Top-level figures are those at the defaults; env_step_ratio per training step is also given fast.
    result.update(
        {
            key: result["default"][key]
            for key in ("train_ms", "floor_ms", "env_ms", "env_step_ratio", "overhead_ratio")
        }
    )
    print(json.dumps(result, indent=2) if args.json else _table(result))


def _table(result: dict) -> str:
    lines = [f"{result['suite']}: {result['tasks']} tasks, {result['torch_threads']} torch threads"]
    for setting in ("default", "fast", "deployed"):
        r = result[setting]
        lines.append(
            f"{setting:>8}: train {r['train_ms']} ms, floor {r['floor_ms']} ms, env {r['env_ms']} ms, "
            f"env/train {r['env_step_ratio']}x per training step, env/floor {r['overhead_ratio']}x, {r['probes']} probes"
        )
        lines += [f"          {name}: {ms} ms" for name, ms in r["breakdown_ms"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
