"""One trial: a method at one learning rate and seed, run by :func:`benchmarks.methods.run_method`,
and its record in ``DIR/trials/<key>.json``."""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from benchmarks.methods import all_methods, run_method, split_optimizer
from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.models import ModelConfig
from mtl_gym.training import TrainerConfig

from .config import BenchConfig


@dataclass(frozen=True)
class Trial:
    method: str
    lr: float
    seed: int

    @property
    def key(self) -> str:
        """File name stem: the method spec made path-safe, then lr and seed."""
        method = re.sub(r"[^\w.+-]+", "_", self.method)
        return f"{method}_lr{self.lr:g}_seed{self.seed}"

    @property
    def uses_agent(self) -> bool:
        return split_optimizer(self.method)[0] == "qls"

    def params(self, config: BenchConfig, agent: str | None) -> dict:
        """Everything the trial's result depends on; a file whose params differ is not this trial's."""
        params = {"method": self.method, "lr": self.lr, "seed": self.seed, **config.setup()}
        if self.uses_agent:
            params["agent"] = agent
        return params


def check_methods(config: BenchConfig) -> None:
    """Fail before the sweep rather than in its workers on a method or optimizer `mtl-gym methods`
    does not list (a spec's arguments are checked when its trials run)."""
    listed = all_methods()
    optimizers = {m["name"] for m in listed if m["kind"] == "optimizer"}
    if config.optimizer not in optimizers:
        raise ValueError(f"unknown optimizer {config.optimizer!r}; known: {sorted(optimizers)}")
    names = {m["name"].partition(":")[0] for m in listed} - optimizers
    methods = [split_optimizer(m)[0] for m in config.methods]
    if unknown := [m for m in methods if m.partition(":")[0] not in names]:
        raise ValueError(f"unknown method(s) {unknown}; `mtl-gym methods` lists the known ones")


def trial_grid(config: BenchConfig) -> list[Trial]:
    methods = dict.fromkeys([*config.methods, *config.pareto_methods()])
    return [Trial(m, lr, seed) for m in methods for lr in config.lr_grid for seed in range(config.seeds)]


@functools.cache
def _suite(name: str, data_dir: str | None, options: str) -> TaskSuite:
    # Cached per worker process: a pool or Ray worker runs many trials on the same suite.
    return load_suite(name, data_dir, **json.loads(options))


def run_trial(config: BenchConfig, trial: Trial, agent: str | None) -> dict:
    """Train one model; the record is ``RunResult.to_json(full=True)`` plus ``params``. Runs in a worker."""
    suite = _suite(config.suite, config.data_dir, json.dumps(config.suite_options, sort_keys=True))
    result = run_method(
        trial.method,
        suite,
        config.budget,
        trial.seed,
        model=ModelConfig(**config.model),
        trainer=TrainerConfig(lr=trial.lr),
        optimizer=config.optimizer,
        agent=agent,
        evaluations=config.evaluations,
    )
    return {**json.loads(result.to_json(full=True)), "params": trial.params(config, agent)}


def trial_path(out: Path, trial: Trial) -> Path:
    return out / "trials" / f"{trial.key}.json"


def load_record(out: Path, trial: Trial, params: dict) -> dict | None:
    """The finished trial's record, or None if it has not run; a file from other settings is an error."""
    path = trial_path(out, trial)
    if not path.exists():
        return None
    record = json.loads(path.read_text())
    if record["params"] != params:
        raise ValueError(
            f"{path} was run with other settings ({record['params']}, now {params}); use a new output folder"
        )
    return record


def save_record(out: Path, trial: Trial, record: dict) -> None:
    # Written whole then renamed, so an interrupted write never leaves a file a rerun would skip.
    path = trial_path(out, trial)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(record, indent=1))
    os.replace(partial, path)
