"""Leave-one-out transfer, the QLS paper's Table 3: for each held-out task and method, train the
shared encoder on every other task (at the method's tuned lr, with the same budget and seeds as
the table), freeze it, and fit a new head on the held-out task by k-fold cross-validation
(:func:`mtl_gym.training.cross_validate_head`). Records go to ``DIR/transfer/<key>.json`` and the
table to ``transfer.md|csv|json`` (one column per held-out task, plus the average)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mtl_gym.agents.qls import train_agent
from mtl_gym.data import TaskSuite
from mtl_gym.models import ModelConfig
from mtl_gym.training import TransferConfig, cross_validate_head

from .config import BenchConfig
from .execute import run_trials
from .tables import AVERAGE, cell, write_tables
from .trials import Trial, path_safe, suite_of, uses_agent


@dataclass(frozen=True)
class TransferTrial(Trial):
    held_out: str = ""

    folder: ClassVar[str] = "transfer"

    def __post_init__(self) -> None:
        if not self.held_out:
            raise ValueError("a TransferTrial needs the held-out task")

    @property
    def key(self) -> str:
        return f"{super().key}_without_{path_safe(self.held_out)}"

    def params(self, config: BenchConfig) -> dict:
        return {**super().params(config), "held_out": self.held_out, "transfer": _transfer_config(config, 0)}

    def run(self, config: BenchConfig) -> dict:
        suite = suite_of(config)
        trained = []
        result = self.train(
            config, others(suite, self.held_out), lambda trainer: trained.append(trainer.model)
        )
        transfer = cross_validate_head(
            trained[0],
            ModelConfig(**config.model),
            suite.subset([self.held_out]),
            TransferConfig(**_transfer_config(config, self.seed)),
        )
        return {
            **transfer.to_dict(),
            "source_avg_test_acc": result.avg_test_acc,
            "train_wall_s": result.wall_s,
            "params": self.params(config),
        }


@dataclass(frozen=True)
class AgentTrial:
    """Trains, in a worker like a trial, the QLS agent of one held-out task: on the other tasks, for
    the observation has one histogram per task trained. Its files go to ``root/<key>/``."""

    held_out: str
    root: str

    folder: ClassVar[str] = "transfer"

    @property
    def key(self) -> str:
        return f"agent_without_{path_safe(self.held_out)}"

    @property
    def directory(self) -> Path:
        return Path(self.root) / self.key

    def params(self, config: BenchConfig) -> dict:
        return {"held_out": self.held_out, "agent": config.agent_config().identity()}

    def run(self, config: BenchConfig) -> dict:
        suite = others(suite_of(config), self.held_out)
        trained = train_agent(config.agent_config(), self.directory, progress_bar=False, suite=suite)
        return {
            "agent": str(self.directory / "agent.zip"),
            "wall_s": trained["wall_s"],
            "params": self.params(config),
        }


def _transfer_config(config: BenchConfig, seed: int) -> dict:
    return {"folds": config.transfer_folds, "epochs": config.transfer_epochs, "seed": seed}


def others(suite: TaskSuite, held_out: str) -> TaskSuite:
    return suite.subset([name for name in suite.names if name != held_out])


def held_out_tasks(config: BenchConfig, suite: TaskSuite) -> list[str]:
    if config.transfer == ["all"]:
        return suite.names
    for name in config.transfer or ():
        suite.index(name)  # a KeyError naming the suite's tasks
    return list(config.transfer or ())


def run_transfer(config: BenchConfig, summary: dict, out: Path, progress: bool) -> str:
    """Run (or finish) the transfer trials, after the QLS agents they need, and write the table;
    returns its Markdown."""
    held_out = held_out_tasks(config, suite_of(config))
    methods = config.transfer_methods or config.methods
    agents = dict.fromkeys(held_out)
    if any(map(uses_agent, methods)):
        root = str((out / AgentTrial.folder).resolve())
        agent_trials = [AgentTrial(task, root) for task in held_out]
        for trial, record in zip(
            agent_trials, run_trials(config, agent_trials, out, progress, "agents"), strict=True
        ):
            agents[trial.held_out] = record["agent"]
    trials = [
        TransferTrial(m, summary["methods"][m]["lr"], seed, agents[task], held_out=task)
        for task in held_out
        for m in methods
        for seed in range(config.seeds)
    ]
    records = run_trials(config, trials, out, progress, desc="transfer")
    table = {"tasks": held_out, "columns": [*held_out, AVERAGE], "lr_grid": config.lr_grid, "methods": {}}
    for method in methods:
        accuracy = {
            task: [
                r["accuracy"]
                for t, r in zip(trials, records, strict=True)
                if (t.method, t.held_out) == (method, task)
            ]
            for task in held_out
        }
        # Each seed's average over the held-out tasks, so the CI is over seeds as in the main table.
        accuracy[AVERAGE] = [sum(seed) / len(seed) for seed in zip(*accuracy.values(), strict=True)]
        table["methods"][method] = {
            "lr": summary["methods"][method]["lr"],
            "cells": {column: cell(values) for column, values in accuracy.items()},
        }
    return write_tables(
        table,
        methods,
        out,
        stem="transfer",
        metric=f"leave-one-out transfer accuracy, {config.transfer_folds}-fold CV of a new head on the "
        "frozen encoder trained on the other tasks at the method's tuned lr",
    )
