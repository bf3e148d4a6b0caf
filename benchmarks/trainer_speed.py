"""Trainer step time of the FS-MTL LSTM on the 12 fsmtl16 domains, and suite load time.

    python -m benchmarks.trainer_speed [--data-dir DIR] [--steps 100] [--json]

Measures, in one run: the time to read, tokenize and pad all 12 domains; and milliseconds per
trainer step (batch 16, length <= 128, round-robin over domains) for each way of updating the
30K x 300 embedding, so their ratio is taken on the same machine at the same moment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from mtl_gym.data import load_suite
from mtl_gym.models import ModelConfig
from mtl_gym.training import EMBEDDING_UPDATES, Trainer, TrainerConfig, seed_everything


def time_load(data_dir: str | None, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        load_suite("fsmtl", data_dir)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_steps(suite, embedding_update: str, steps: int, warmup: int = 10) -> float:
    seed_everything(0)
    trainer = Trainer(
        ModelConfig(name="lstm")(suite), suite, TrainerConfig(embedding_update=embedding_update)
    )
    for step in range(warmup):
        trainer.step([step % len(suite)])
    start = time.perf_counter()
    for step in range(steps):
        trainer.step([step % len(suite)])
    return (time.perf_counter() - start) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--load-repeats", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    load_seconds = time_load(args.data_dir, args.load_repeats)
    suite = load_suite("fsmtl", args.data_dir)
    step_ms = {mode: time_steps(suite, mode, args.steps) for mode in EMBEDDING_UPDATES}
    result = {
        "torch_threads": torch.get_num_threads(),
        "domains": len(suite),
        "vocab_size": len(suite.vocab),
        "load_seconds": round(load_seconds, 3),
        "step_ms": {mode: round(ms, 2) for mode, ms in step_ms.items()},
        "dense_over_sparse": round(step_ms["dense"] / step_ms["sparse"], 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"load + tokenize {result['domains']} domains: {load_seconds:.2f} s (median of {args.load_repeats})"
    )
    for mode, ms in step_ms.items():
        print(f"trainer step, embedding {mode:<6}: {ms:6.1f} ms")
    print(f"dense / sparse: {result['dense_over_sparse']:.2f}x")


if __name__ == "__main__":
    main()
