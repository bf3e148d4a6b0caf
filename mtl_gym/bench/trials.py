"""One trial: a method at one learning rate and seed, run by :func:`mtl_gym.methods.run_method`,
and its record in ``DIR/trials/<key>.json``."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.io import atomic_write_json
from mtl_gym.methods import METHODS, run_method
from mtl_gym.models import ModelConfig
from mtl_gym.training import RunResult, TrainerConfig

from ..provenance import provenance
from .config import BenchConfig


@dataclass(frozen=True)
class Trial:
    """One method at one learning rate and seed, trained to the budget on the whole suite."""

    method: str
    lr: float
    seed: int
    agent: str | None = None
    """The agent.zip of a trial of an agent method (qls, ppo); other methods ignore it."""

    folder: ClassVar[str] = "trials"

    @property
    def key(self) -> str:
        """File name stem: the method spec made path-safe, then lr and seed."""
        return f"{path_safe(self.method)}_lr{self.lr:g}_seed{self.seed}"

    @property
    def uses_agent(self) -> bool:
        return uses_agent(self.method)

    def params(self, config: BenchConfig) -> dict:
        """Everything the trial's result depends on; a file whose params differ is not this trial's."""
        params = {"method": self.method, "lr": self.lr, "seed": self.seed, **config.setup()}
        if self.uses_agent:
            params["agent"] = self.agent
        return params

    def run(self, config: BenchConfig) -> dict:
        """Train one model; the record is ``RunResult.to_json(full=True)`` plus ``params``. Runs in a worker."""
        result = self.train(config, suite_of(config))
        return {
            **json.loads(result.to_json(full=True)),
            "params": self.params(config),
            "provenance": provenance(),
        }

    def train(self, config: BenchConfig, suite: TaskSuite, after_training=None) -> RunResult:
        return run_method(
            self.method,
            suite,
            config.budget,
            self.seed,
            model=ModelConfig.of(config.model),
            trainer=TrainerConfig.of({"device": config.device, **config.trainer, "lr": self.lr}),
            env_config=config.env,
            optimizer=config.optimizer,
            agent=self.agent,
            evaluations=config.evaluations,
            after_training=after_training,
        )


def path_safe(text: str) -> str:
    return re.sub(r"[^\w.+-]+", "_", text)


def uses_agent(method: str) -> bool:
    """Whether ``method`` deploys a trained agent (under any optimizer)."""
    return METHODS.parse(method).kind == "agent"


def agent_algorithm(method: str) -> str | None:
    """The agent (TrainAgentConfig.algorithm: qls, ppo) that ``method`` deploys, or None."""
    parsed = METHODS.parse(method)
    return parsed.spec.name if parsed.kind == "agent" else None


def check_methods(config: BenchConfig) -> None:
    """Fail before the sweep, rather than in its workers, on any method spec, hyperparameter or
    optimizer the registry rejects."""
    for method in [*config.methods, *config.pareto_methods()]:
        METHODS.parse(method, config.optimizer)
    if config.transfer:
        for method in config.transfer_methods or config.methods:
            if agent_algorithm(method) not in (None, "qls"):
                raise ValueError(
                    f"transfer trains QLS agents only; drop {method!r} from the transfer methods"
                )


def trial_grid(config: BenchConfig, agents: dict[str, str] | None = None) -> list[Trial]:
    """Every trial; ``agents`` maps an agent algorithm (qls, ppo) to the agent.zip its method deploys."""
    methods = dict.fromkeys([*config.methods, *config.pareto_methods()])
    agents = agents or {}
    return [
        Trial(m, lr, seed, agents.get(agent_algorithm(m)))
        for m in methods
        for lr in config.lr_grid
        for seed in range(config.seeds)
    ]


def suite_of(config: BenchConfig) -> TaskSuite:
    return _suite(config.suite, config.data_dir, json.dumps(config.suite_options, sort_keys=True))


@functools.cache
def _suite(name: str, data_dir: str | None, options: str) -> TaskSuite:
    # Cached per worker process: a pool or Ray worker runs many trials on the same suite.
    return load_suite(name, data_dir, **json.loads(options))


def trial_path(out: Path, trial: Trial) -> Path:
    return out / trial.folder / f"{trial.key}.json"


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
    # Written whole to a unique temporary file, then renamed, so an interrupted write never leaves a
    # file a rerun would skip, and concurrent writers (threads, processes, Ray) never share a name.
    # A run stopped by a non-finite loss records the NaN (``extra.non_finite.value``), hence allow_nan.
    atomic_write_json(trial_path(out, trial), record, indent=1, allow_nan=True)
