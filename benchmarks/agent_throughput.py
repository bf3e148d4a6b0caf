"""Decisions per second of QLS agent training (``QLS.learn``) on the full env and on the batched env:

    python -m benchmarks.agent_throughput [--suite fsmtl] [--sizes 16,64,256] [--run 100000] [--device cuda] [--json]

On fsmtl16 (12 tasks, length <= 64) with the ``cnn`` model (64-d embeddings and filters), default
EnvConfig and QLS settings, side by side in one run:

- ``full``: :class:`MTLSchedulingEnv` in one process;
- ``subproc2``: two of them in ``SubprocVecEnv`` workers;
- ``batched_N``: :class:`BatchedMTLEnv` with N runs, through the SB3 adapter, for each N of ``--sizes``.

Each measurement runs in a fresh interpreter with one torch thread (workers one each), so that
its peak resident memory (VmHWM, the workers' added for ``subproc2``) is its own: the agent learns
``--warmup`` decisions first (past QLS's 100 random warm-up steps), then is timed over the next
``--decisions`` (``--full-decisions`` for the full env, which span a hard-sample refresh). Every
setting is measured in ``--rounds`` rounds that visit all settings in turn, and keeps its best
round, so that a burst of other load on the machine does not land on one side only. The frozen-encoder features are built
(or read from the cache) before the timed runs. ``--run D`` also times one whole agent training
of D decisions on the batched env at the best N. ``--device`` (auto, cpu, cuda, cuda:N; default
cpu, the setting of the numbers below) places the agent, the env's MTL model and the batched env's
tensors, and the encoder behind the features when they are not cached yet; peak memory is the
host's only. JSON keys: ``full_decisions_per_s``, ``batched_decisions_per_s`` (best N), ``speedup``
(their ratio), ``runs`` (every measurement), ``device`` (as resolved).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ENCODER = {"name": "cnn", "embedding_dim": 64, "hidden_dim": 64}
SUITE_OPTIONS = {"max_len": 64}


def peak_kib(pid: str = "self") -> int:
    """VmHWM of a process, in KiB (see benchmarks.throughput for why not ru_maxrss)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for process {pid}")


def measure(spec: dict) -> dict:
    """One measurement, in this process: build the env, learn ``warmup`` decisions, time ``decisions``."""
    import torch

    torch.set_num_threads(1)
    from mtl_gym.agents import QLS
    from mtl_gym.agents.common.batched import BatchedVecEnv
    from mtl_gym.agents.common.vec_env import make_vec_env
    from mtl_gym.data import load_suite
    from mtl_gym.env import MTLSchedulingEnv
    from mtl_gym.training import resolve_device

    kind, suite_kwargs = spec["kind"], {"data_dir": spec["data_dir"], "suite_options": SUITE_OPTIONS}
    trainer = {"device": spec["device"]}
    if kind == "full":
        env = MTLSchedulingEnv(spec["suite"], ENCODER, {"torch_threads": 1}, trainer, **suite_kwargs)
    elif kind == "subproc":
        env = make_vec_env(
            spec["num_envs"],
            subprocess=True,
            suite=spec["suite"],
            model=ENCODER,
            trainer=trainer,
            **suite_kwargs,
        )
    else:
        suite = load_suite(spec["suite"], spec["data_dir"], **SUITE_OPTIONS)
        env = BatchedVecEnv(num_envs=spec["num_envs"], suite=suite, model=ENCODER, trainer=trainer)
    agent = QLS("MlpPolicy", env, seed=0, device=resolve_device(spec["device"]))
    if spec["warmup"]:
        agent.learn(spec["warmup"])
    start = time.perf_counter()
    agent.learn(spec["decisions"], reset_num_timesteps=False)
    wall = time.perf_counter() - start
    decisions = agent.num_timesteps - spec["warmup"]
    memory = peak_kib()
    if kind == "subproc":
        memory += sum(peak_kib(str(process.pid)) for process in env.processes)
        env.close()
    return {
        **spec,
        "decisions": decisions,
        "wall_s": round(wall, 2),
        "decisions_per_s": decisions / wall,
        "peak_memory_mib": round(memory / 1024, 1),
    }


def child(spec: dict) -> dict:
    """:func:`measure` in a fresh interpreter, so that peak memory is this measurement's alone."""
    command = [sys.executable, "-m", "benchmarks.agent_throughput", "--child", json.dumps(spec)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"measurement {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prepare_features(suite: str, data_dir: str | None, device: str) -> float:
    """Build (or read) the cached encoder features once, outside every timed run; seconds taken."""
    from mtl_gym.agents.common.batched import BatchedVecEnv
    from mtl_gym.data import load_suite

    start = time.perf_counter()
    BatchedVecEnv(
        num_envs=1,
        suite=load_suite(suite, data_dir, **SUITE_OPTIONS),
        model=ENCODER,
        trainer={"device": device},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suite", default="fsmtl")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--sizes", default="16,64,256", help="runs of the batched env to measure")
    parser.add_argument("--warmup", type=int, default=128, help="decisions learnt before timing")
    parser.add_argument("--full-decisions", type=int, default=100, help="timed decisions on the full env")
    parser.add_argument("--decisions", type=int, default=8192, help="timed decisions on the batched env")
    parser.add_argument(
        "--run", type=int, default=0, help="also time one agent training of this many decisions"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds over every setting; each keeps its best"
    )
    parser.add_argument(
        "--device",
        default="cpu",
        help="auto, cpu, cuda or cuda:N: where agents and envs train (default: cpu)",
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(json.loads(args.child))))
        return
    from mtl_gym.training import resolve_device

    try:
        device = str(resolve_device(args.device))  # a bad name fails here, in one line
    except ValueError as err:
        parser.error(f"--device: {err}")
    common = {"suite": args.suite, "data_dir": args.data_dir, "warmup": args.warmup, "device": device}
    start = time.perf_counter()
    features_s = prepare_features(args.suite, args.data_dir, device)
    specs = {
        "full": {**common, "kind": "full", "num_envs": 1, "decisions": args.full_decisions},
        "subproc2": {**common, "kind": "subproc", "num_envs": 2, "decisions": 2 * args.full_decisions},
    }
    for size in map(int, args.sizes.split(",")):
        specs[f"batched_{size}"] = {
            **common,
            "kind": "batched",
            "num_envs": size,
            "decisions": args.decisions,
            "warmup": max(args.warmup, 2 * size),
        }
    runs: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, spec in specs.items():
            run = child(spec)
            if name not in runs or run["decisions_per_s"] > runs[name]["decisions_per_s"]:
                runs[name] = run
    batched = {name: run for name, run in runs.items() if name.startswith("batched_")}
    best = max(batched, key=lambda name: batched[name]["decisions_per_s"])
    full = runs["full"]["decisions_per_s"]
    rate = batched[best]["decisions_per_s"]
    result = {
        "suite": args.suite,
        "model": ENCODER,
        "device": device,
        "full_decisions_per_s": round(full, 2),
        "subproc2_decisions_per_s": round(runs["subproc2"]["decisions_per_s"], 2),
        "batched_decisions_per_s": round(rate, 1),
        "best_num_envs": batched[best]["num_envs"],
        "speedup": round(rate / full, 1),
        "speedup_over_subproc2": round(rate / runs["subproc2"]["decisions_per_s"], 1),
        "minutes_per_100k_decisions": {
            "full": round(1e5 / full / 60, 1),
            "batched": round(1e5 / rate / 60, 2),
        },
        "runs": {
            name: {k: run[k] for k in ("num_envs", "decisions", "wall_s", "peak_memory_mib")}
            | {"decisions_per_s": round(run["decisions_per_s"], 2)}
            for name, run in runs.items()
        },
        "features_s": round(features_s, 1),
    }
    if args.run:
        spec = {
            **common,
            "kind": "batched",
            "num_envs": batched[best]["num_envs"],
            "decisions": args.run,
            "warmup": 0,
        }
        whole = child(spec)
        result["run"] = {
            "decisions": whole["decisions"],
            "num_envs": whole["num_envs"],
            "wall_s": whole["wall_s"],
            "peak_memory_mib": whole["peak_memory_mib"],
        }
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=2) if args.json else table(result))


def table(result: dict) -> str:
    lines = [
        f"{result['suite']}, QLS.learn on {result['device']}, one torch thread per process "
        f"({result['seconds']} s in all)"
    ]
    for name, run in result["runs"].items():
        lines.append(
            f"{name:>12}: {run['decisions_per_s']:9.1f} decisions/s, peak {run['peak_memory_mib']} MiB"
        )
    lines.append(
        f"batched (N={result['best_num_envs']}) over full: {result['speedup']}x; "
        f"100K decisions: {result['minutes_per_100k_decisions']['batched']} min batched, "
        f"{result['minutes_per_100k_decisions']['full']} min full"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
