"""Throughput of the stack, side by side in one run (a few minutes on 2 idle cores; ``seconds`` in the
output says where they went):

    python -m benchmarks.throughput [--suite fsmtl] [--data-dir DIR] [--methods equal,pcgrad,...] [--json]

- ``env_step``: the env step against a trainer step (``benchmarks.env_step.measure``, default EnvConfig);
- ``joint``: milliseconds per joint step of each joint method, and its cost relative to ``equal``
  (the plain weighted sum of the task losses) on the same suite, model and minibatches;
- ``vec_env``: env samples per second of ``make_vec_env(2)`` over ``make_vec_env(1)``, both in
  subprocesses of one torch thread, stepped with random allowed actions;
- ``peak_memory_mib``: peak resident memory (VmHWM) of a fresh process that builds the env on the
  suite with the LSTM and steps it a few times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import torch

from benchmarks.env_step import measure, timed
from mtl_gym.agents.common.vec_env import make_vec_env
from mtl_gym.baselines.joint import JointMethod, make_joint_method
from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import EnvConfig
from mtl_gym.models import ModelConfig
from mtl_gym.training import Trainer, TrainerConfig, build_trainer

LSTM = ModelConfig(name="lstm")


def joint_step_ms(suite: TaskSuite, names: list[str], steps: int, rounds: int = 2) -> dict[str, float]:
    """Milliseconds per joint step (K minibatches, one per task) of each method after a warm-up step,
    the best of ``rounds`` rounds that visit every method in turn, so that a burst of other load on
    the machine does not land on one method only."""
    runs = {}
    for name in names:
        trainer = build_trainer(suite, LSTM, TrainerConfig(), 0)
        method = make_joint_method(name)
        method.attach(trainer)
        method.step(trainer)
        runs[name] = partial(_joint_step, method, trainer)
    best = dict.fromkeys(names, float("inf"))
    for _ in range(rounds):
        for name, step in runs.items():
            best[name] = min(best[name], timed(step, steps, rounds=1))
    return best


def _joint_step(method: JointMethod, trainer: Trainer, _index: int) -> None:
    method.step(trainer)


def vec_samples_per_s(
    n_envs: int, suite: str, data_dir: str | None, steps: int, backend: str = "subprocess", **env_kwargs
) -> float:
    """Env steps per second over all ``n_envs`` envs (subprocess ones by default), each picking a
    random allowed task."""
    env_kwargs = {"model": {"name": "lstm"}, **env_kwargs}
    vec = make_vec_env(n_envs, backend=backend, suite=suite, data_dir=data_dir, **env_kwargs)
    try:
        rng = np.random.default_rng(0)
        vec.reset()

        def step() -> None:
            masks = vec.env_method("action_masks")
            vec.step(np.array([rng.choice(np.flatnonzero(mask)) for mask in masks]))

        step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return n_envs * steps / (time.perf_counter() - start)
    finally:
        vec.close()


PEAK_MEMORY = """
import sys
from mtl_gym.env import MTLSchedulingEnv
env = MTLSchedulingEnv(sys.argv[1], {"name": "lstm"}, data_dir=sys.argv[2] or None)
env.reset(seed=0)
for step in range(5):
    env.step(step % env.num_tasks)
print(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])
"""
"""Builds the env with the LSTM and steps it in a fresh interpreter that imports nothing else, and
prints its peak resident memory in KiB. VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss
over fork and exec, so a child of a large process would report at least its parent's size."""


def peak_memory_mib(suite: str, data_dir: str | None) -> float:
    child = [sys.executable, "-c", PEAK_MEMORY, suite, data_dir or ""]
    return int(subprocess.run(child, capture_output=True, text=True, check=True).stdout.split()[-1]) / 1024


@contextmanager
def stopwatch(seconds: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    seconds[name] = round(time.perf_counter() - start, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="fsmtl")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--methods", default="equal,pcgrad,mgda,gradnorm,nash-mtl", help="joint methods")
    parser.add_argument("--env-steps", type=int, default=5, help="calls per timing round of env_step")
    parser.add_argument("--joint-steps", type=int, default=1, help="joint steps per timing round")
    parser.add_argument("--vec-steps", type=int, default=10, help="vector-env steps per measurement")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds: dict[str, float] = {}
    with stopwatch(seconds, "load"):
        suite = load_suite(args.suite, args.data_dir)
    with stopwatch(seconds, "env_step"):
        env_step = measure(suite, LSTM, EnvConfig(), args.env_steps)
    with stopwatch(seconds, "joint"):
        joint = joint_step_ms(suite, args.methods.split(","), args.joint_steps)
    with stopwatch(seconds, "vec_env"):
        rates = {n: vec_samples_per_s(n, args.suite, args.data_dir, args.vec_steps) for n in (1, 2)}
    with stopwatch(seconds, "memory"):
        memory = peak_memory_mib(args.suite, args.data_dir)
    result = {
        "suite": suite.name,
        "tasks": len(suite),
        "torch_threads": torch.get_num_threads(),
        "env_step": {
            key: env_step[key] for key in ("train_ms", "env_ms", "env_step_ratio", "overhead_ratio")
        },
        "joint": {
            "ms_per_step": {m: round(ms, 1) for m, ms in joint.items()},
            "cost_vs_equal": {m: round(ms / joint["equal"], 2) for m, ms in joint.items()},
        },
        "vec_env": {
            "samples_per_s": {str(n): round(rate, 2) for n, rate in rates.items()},
            "scaling_2_over_1": round(rates[2] / rates[1], 2),
        },
        "peak_memory_mib": round(memory, 1),
        "seconds": seconds,
    }
    print(json.dumps(result, indent=2) if args.json else _table(result))


def _table(result: dict) -> str:
    env = result["env_step"]
    lines = [
        f"{result['suite']}: {result['tasks']} tasks, {result['torch_threads']} torch threads, "
        f"{sum(result['seconds'].values()):.0f} s",
        f"env step {env['env_ms']} ms vs train step {env['train_ms']} ms: {env['env_step_ratio']}x",
        "joint step cost vs equal: "
        + ", ".join(
            f"{m} {r}x ({result['joint']['ms_per_step'][m]} ms)"
            for m, r in result["joint"]["cost_vs_equal"].items()
        ),
        f"vector env, 2 workers over 1: {result['vec_env']['scaling_2_over_1']}x samples/s",
        f"peak memory of one env: {result['peak_memory_mib']} MiB",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
