"""Collection rate of the vector-env backends side by side in one run: env samples per second of 2
envs in this process (``dummy``), in 2 subprocesses and in 2 local Ray actors, on the synthetic suite
with the small CNN, one torch thread per env, stepped with random allowed actions (about a minute on 2 idle cores):

    python -m benchmarks.ray_collection [--steps 150] [--json]

Each backend's start-up (workers, suite loading) is left out; the first step is a warm-up.
"""

from __future__ import annotations

import argparse
import json

import ray
import torch

from benchmarks.throughput import vec_samples_per_s

CNN = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 32}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150, help="vector steps per backend (2 samples each)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as each worker runs: the dummy backend steps here
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        rates = {
            backend: vec_samples_per_s(2, "synthetic", None, args.steps, backend=backend, model=CNN)
            for backend in ("dummy", "subprocess", "ray")
        }
    finally:
        ray.shutdown()
    if args.json:
        print(json.dumps(rates))
    else:
        for backend, rate in rates.items():
            print(f"{backend:>10}: {rate:6.1f} samples/s")


if __name__ == "__main__":
    main()
