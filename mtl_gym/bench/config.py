"""What one benchmark runs, as a dataclass that round-trips to JSON; its field docstrings are the
help of ``mtl-gym bench``'s flags."""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import json
import re
import textwrap
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..spec import Settings, parse_assignments, split_spec_list

if TYPE_CHECKING:
    from ..agents.qls import TrainAgentConfig


@dataclass(frozen=True)
class BenchConfig(Settings):
    """Every method x learning rate x seed, trained on one suite with one model to one budget."""

    suite: str = "synthetic"
    """Task suite (`mtl-gym info` lists its tasks)."""
    data_dir: str | None = None
    """Real data root or the suite's own folder; none: $MTL_GYM_DATA, else ../shared/data."""
    suite_options: dict = field(default_factory=dict)
    """Reader options of the suite, VALUE in JSON, e.g. dev_size=40, max_len=64 or domains=["books","dvd"]."""
    model: dict = field(default_factory=lambda: {"name": "lstm"})
    """ModelConfig fields of the MTL model every method trains: name (lstm or cnn), hidden_dim, ..."""
    env: dict = field(default_factory=dict)
    """EnvConfig fields of the scheduled runs and of the QLS agent's env (bins, reward, ...)."""
    trainer: dict = field(default_factory=dict)
    """TrainerConfig fields other than lr (the lr grid sets it), e.g. batch_size."""
    methods: list[str] = field(default_factory=lambda: ["uniform", "equal"])
    """Methods to compare, as `mtl-gym methods` names them: scheduler specs, joint methods, qls."""
    seeds: int = 3
    """Seeds per method and learning rate: 0, 1, ..., seeds - 1."""
    budget: int = 2000
    """Task-minibatches per run, the same for every method (a joint step over K tasks costs K)."""
    lr_grid: list[float] = field(default_factory=lambda: [3e-4, 1e-3, 3e-3])
    """Learning rates to try; each method reports test accuracy at its lr of best mean dev accuracy."""
    optimizer: str = "adam"
    """Optimizer of every method: adam or adatask."""
    evaluations: int = 10
    """Full dev evaluations per run, the points of the dev curves."""
    agent: str | None = None
    """A trained QLS agent.zip for method qls; none: train one on the same suite and model first."""
    agent_timesteps: int = 5000
    """Env steps of training each agent (qls, ppo) when none is given."""
    agent_seed: int = 1000
    """Seed of training the agents; away from the evaluation seeds, which it should not train on."""
    agent_options: dict = field(default_factory=dict)
    """TrainAgentConfig fields of the agents trained here, over the harness's own, e.g. fast=true
    num_envs=64 (the batched env; docs/environment.md, "Fast agent training") or exploration_kwargs={"c": 2};
    an env given here updates the bench's env for the agent only."""
    pareto: list[str] | None = None
    """Two tasks A,B: also sweep fixed-weights sampling over pareto_ratios; plot A's test accuracy vs B's."""
    pareto_ratios: list[float] = field(default_factory=lambda: [0.1, 0.3, 0.5, 0.7, 0.9])
    """A's share of A and B's sampling; together they keep uniform's share 2/K, so 0.5 is uniform."""
    transfer: list[str] | None = None
    """Leave-one-out transfer (QLS Table 3) to these held-out tasks, or ["all"]: per method, train the
    encoder on the other tasks (tuned lr, same budget and seeds), freeze it, fit a new head by k-fold CV."""
    transfer_methods: list[str] | None = None
    """Methods of the transfer runs; none: every method of the table."""
    transfer_folds: int = 5
    """Folds of the transfer's cross-validation (the paper's 5) over all of the held-out task's examples."""
    transfer_epochs: int = 30
    """Epochs of training the new head (Adam, lr 1e-3, batch 64) on the frozen encoder's features."""
    weightings: int = 1000
    """Random Dirichlet(1) task weightings of the utility-robust ranking."""
    ranking_seed: int = 0
    """Seed of the ranking's task weightings."""
    device: str = "auto"
    """Where every trial's model and the agents train: auto (CUDA when torch sees a GPU, else the CPU), cpu, cuda or cuda:N; workers share it. Not part of a trial's identity: a folder resumed on another device keeps its trials."""
    workers: int = 1
    """Trials at once: processes of the local pool, or the CPUs of a Ray started here."""
    ray: str | None = None
    """Run trials as Ray tasks: local starts Ray on this machine, else the address of a running cluster."""

    def __post_init__(self) -> None:
        # A named headroom suite is scored by its own objective unless --env objective=... says
        # otherwise; a suite scored by the mean leaves env as given, so older folders still resume.
        from ..data import suite_objective  # here: the CLI's --help must not load torch
        from ..training.device import check_device

        if "objective" not in self.env and (objective := suite_objective(self.suite)) != "mean":
            object.__setattr__(self, "env", {**self.env, "objective": objective})
        try:
            object.__setattr__(self, "device", check_device(self.device))
        except ValueError as err:
            raise ValueError(f"BenchConfig.device: {err}") from None
        for name in ("seeds", "budget", "evaluations", "weightings", "workers"):
            if getattr(self, name) < 1:
                raise ValueError(f"BenchConfig.{name} must be at least 1, got {getattr(self, name)}")
        if not self.methods or not self.lr_grid:
            raise ValueError("BenchConfig needs at least one method and one learning rate")
        if unknown := set(self.transfer_methods or ()) - set(self.methods):
            raise ValueError(f"BenchConfig.transfer_methods {sorted(unknown)} are not among the methods")
        if self.transfer_folds < 2 or self.transfer_epochs < 1:
            raise ValueError("BenchConfig.transfer_folds must be at least 2 and transfer_epochs at least 1")
        if self.pareto is not None and (len(self.pareto) != 2 or self.pareto[0] == self.pareto[1]):
            raise ValueError(f"BenchConfig.pareto takes two different tasks, got {self.pareto}")
        if self.agent_options:
            self.agent_config()  # a misspelt or ill-typed option fails here, before any trial

    def pareto_methods(self) -> list[str]:
        """The fixed-weights scalarization sweep over A and B, one spec per ratio; unnamed tasks weigh 1."""
        if self.pareto is None:
            return []
        a, b = self.pareto
        return [f"fixed-weights:{a}={2 * r:g},{b}={2 - 2 * r:g}" for r in self.pareto_ratios]

    def agent_config(self, algorithm: str = "qls") -> TrainAgentConfig:
        """How the harness trains an agent (qls, ppo): on this suite and model, episodes as long as the budget."""
        from ..agents.qls import TrainAgentConfig  # here, so that the CLI's parser imports no agents

        return TrainAgentConfig.over(
            {
                "suite": self.suite,
                "data_dir": self.data_dir,
                "suite_options": self.suite_options,
                "model": self.model,
                "timesteps": self.agent_timesteps,
                "seed": self.agent_seed,
                "algorithm": algorithm,
                "device": self.device,
                "env": {**self.env, "episode_steps": self.budget},
            },
            dict(self.agent_options),
        )

    def setup(self) -> dict:
        """The fields every trial's result depends on besides its method, lr and seed."""
        keys = ("suite", "suite_options", "model", "budget", "optimizer", "evaluations")
        setup = {key: getattr(self, key) for key in keys}
        # Only when set, so that records written before these settings existed stay valid.
        return setup | {key: getattr(self, key) for key in ("env", "trainer") if getattr(self, key)}

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> BenchConfig:
        """A config from its JSON, e.g. a bench folder's ``config.json`` (whose ``provenance``, the
        versions and commit that ran it, is a record, not a setting)."""
        values = json.loads(text)
        values.pop("provenance", None)
        return cls.of(values)


PRESETS: dict[str, dict] = {
    "qls-paper": {
        # QLS paper §4.4: the FS-MTL LSTM with 300-d embeddings (GloVe 840B when a vectors file is
        # given with --model-option vectors=FILE), Xavier init, length 128, minibatches of 16 from
        # one task; the MTL model is reset every 10K steps, so a run is 10,000 task-minibatches.
        # Evaluation points are not given in the paper; the harness's 10 per run are kept.
        "suite": "fsmtl",
        "model": {"name": "lstm", "embedding_dim": 300, "hidden_dim": 100},
        "suite_options": {"max_len": 128},
        "trainer": {"batch_size": 16},
        "budget": 10_000,
        "methods": ["uniform", "proportional", "equal", "dwa", "exp3s", "qls"],
        "seeds": 3,
        "lr_grid": [3e-4, 1e-3, 3e-3],
    }
}
"""Named settings that replace the defaults (or ``--config``); flags still override them."""


def field_docs(cls: type) -> dict[str, str]:
    """Each dataclass field's docstring: the string right after its annotation in the class body."""
    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body
    return {
        node.target.id: " ".join(after.value.value.split())
        for node, after in itertools.pairwise(body)
        if isinstance(node, ast.AnnAssign)
        and isinstance(after, ast.Expr)
        and isinstance(after.value, ast.Constant)
    }


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.split(",")]


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",")]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``mtl-gym bench``'s flags; only those given override ``--config`` (or the defaults)."""
    docs = field_docs(BenchConfig)
    defaults = BenchConfig()

    def add(flag: str, name: str, **kwargs) -> None:
        default = getattr(defaults, name)
        help_text = f"{docs[name]} (default: {'none' if default is None else json.dumps(default)})"
        help_text = help_text.replace("%", "%%")
        parser.add_argument(flag, dest=name, default=argparse.SUPPRESS, help=help_text, **kwargs)

    parser.add_argument(
        "--out", required=True, help="output folder: config.json, trials/, tables, ranking, plots"
    )
    parser.add_argument(
        "--config",
        default=None,
        help="a BenchConfig JSON file, e.g. an earlier DIR/config.json; flags override it",
    )
    parser.add_argument(
        "--preset",
        default=None,
        choices=sorted(PRESETS),
        help="named settings over the defaults or --config, flags still override them: qls-paper is the "
        "QLS paper's LSTM (300-d, hidden 100), length 128, batch 16, 10K minibatches per run, on fsmtl16",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add("--suite", "suite")
    add("--data-dir", "data_dir")
    add("--option", "suite_options", action="append", metavar="KEY=VALUE")
    parser.add_argument(
        "--max-len", type=int, default=None, help="words kept per example (a suite option; default: 128)"
    )
    add("--model", "model", metavar="NAME", type=lambda name: {"name": name})
    parser.add_argument(
        "--model-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another field of the model, e.g. hidden_dim=64",
    )
    add("--env", "env", action="append", metavar="KEY=VALUE")
    add("--trainer", "trainer", action="append", metavar="KEY=VALUE")
    add("--agent-option", "agent_options", action="append", metavar="KEY=VALUE")
    add("--methods", "methods", type=split_spec_list, metavar="A,B,...")
    add("--lr-grid", "lr_grid", type=_floats, metavar="LR,LR,...")
    add("--pareto", "pareto", type=_names, metavar="TASK_A,TASK_B")
    add("--transfer", "transfer", type=_names, metavar="TASK,TASK,...|all")
    add("--transfer-methods", "transfer_methods", type=split_spec_list, metavar="A,B,...")
    add("--pareto-ratios", "pareto_ratios", type=_floats, metavar="R,R,...")
    add("--ray", "ray", nargs="?", const="local", metavar="ADDRESS")
    for name in (
        "seeds",
        "budget",
        "evaluations",
        "agent_timesteps",
        "agent_seed",
        "weightings",
        "ranking_seed",
        "workers",
        "transfer_folds",
        "transfer_epochs",
    ):
        add(f"--{name.replace('_', '-')}", name, type=int)
    add("--optimizer", "optimizer")
    add("--agent", "agent")
    add("--device", "device")


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    base = BenchConfig.from_json(Path(args.config).read_text()) if args.config else BenchConfig()
    if args.preset:
        base = replace(base, **PRESETS[args.preset])
    given = {f.name: getattr(args, f.name) for f in fields(BenchConfig) if hasattr(args, f.name)}
    flags = {
        "suite_options": "--option",
        "env": "--env",
        "trainer": "--trainer",
        "agent_options": "--agent-option",
    }
    for name, flag in flags.items():
        if name in given:
            given[name] = {**getattr(base, name), **parse_assignments(given[name], flag)}
    if args.max_len is not None:
        given["suite_options"] = {**given.get("suite_options", base.suite_options), "max_len": args.max_len}
    model = {**base.model, **given.get("model", {}), **parse_assignments(args.model_option, "--model-option")}
    try:
        return replace(base, **{**given, "model": model})
    except ValueError as err:
        # Name the flag the user typed, not the field, for a value that came from a flag.
        def flag(match: re.Match) -> str:
            return f"--{match[1].replace('_', '-')}" if match[1] in given else match[0]

        raise ValueError(re.sub(r"BenchConfig\.(\w+)", flag, str(err))) from None
