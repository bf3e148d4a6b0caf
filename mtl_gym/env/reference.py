"""Single-task reference accuracies for the reward's penalty (QLS §4.3: -10 when the mean MTL
accuracy falls under 95% of the single-task network).

Each task is trained alone with the same model factory, trainer settings and budget; its best
dev accuracy over regular evaluations is its reference. Results are cached on disk as JSON,
keyed by the suite's summary and a digest of its data, the model factory's repr, the trainer
config, budget and seed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from torch import nn

from ..data import TaskSuite
from ..io import atomic_write_json
from ..training import Trainer, TrainerConfig, seed_everything

ModelFactory = Callable[[TaskSuite], nn.Module]


def default_cache_dir() -> Path:
    return Path(os.environ.get("MTL_GYM_CACHE", Path.home() / ".cache" / "mtl-gym"))


def data_digest(suite: TaskSuite) -> str:
    """A digest of every split's token ids and labels: suites of equal sizes but other data (another
    synthetic difficulty, say) get other keys."""
    digest = hashlib.sha256()
    for task in suite:
        for split in (task.train, task.dev, task.test):
            for tensor in (split.tokens, split.lengths, split.labels):
                digest.update(tensor.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def cache_key(
    suite: TaskSuite, model_factory: ModelFactory, config: TrainerConfig, budget: int, seed: int
) -> str:
    """The key of a cached result. The trainer's ``device`` is left out: a cache computed on a GPU
    serves a CPU run and back (files hold CPU tensors or plain numbers), and keys written before
    the setting existed still match."""
    trainer = {key: value for key, value in config.to_dict().items() if key != "device"}
    described = {
        "suite": suite.summary(),
        "data": data_digest(suite),
        "model": repr(model_factory),
        "trainer": trainer,
        "budget": budget,
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def single_task_accuracy(
    suite: TaskSuite,
    task_index: int,
    model_factory: ModelFactory,
    config: TrainerConfig,
    budget: int,
    seed: int,
    eval_every: int,
) -> float:
    seed_everything(seed)
    trainer = Trainer(model_factory(suite), suite, config)
    best = 0.0
    for step in range(1, budget + 1):
        trainer.step([task_index])
        if step % eval_every == 0 or step == budget:
            best = max(best, trainer.evaluate("dev", [task_index])[suite[task_index].name].accuracy)
    return best


def reference_accuracies(
    suite: TaskSuite,
    model_factory: ModelFactory,
    config: TrainerConfig = TrainerConfig(),
    budget: int = 1000,
    seed: int = 0,
    eval_every: int = 100,
    cache_dir: str | Path | None = None,
) -> list[float]:
    """Best dev accuracy of each task trained alone for ``budget`` minibatches, cached on disk.

    A factory without a stable ``repr`` (a lambda, say) gets a new key every run; use a
    dataclass such as ``ModelConfig`` to benefit from the cache.
    """
    path = (
        Path(cache_dir or default_cache_dir())
        / f"reference-{suite.name}-{cache_key(suite, model_factory, config, budget, seed)}.json"
    )
    if path.is_file():
        return json.loads(path.read_text())["accuracies"]
    accuracies = [
        single_task_accuracy(suite, t, model_factory, config, budget, seed, eval_every)
        for t in range(len(suite))
    ]
    record = {
        "suite": suite.name,
        "tasks": suite.names,
        "model": repr(model_factory),
        "budget": budget,
        "accuracies": accuracies,
    }
    # Atomic: concurrent runs computing the same reference never read a half-written cache file.
    atomic_write_json(path, record, allow_nan=True)
    return accuracies
