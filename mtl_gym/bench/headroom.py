"""How much any schedule can gain over uniform on a suite, for a model, budget and objective.

A scheduler benchmark ranks methods only where the schedule changes the result. ``mtl-gym
headroom`` measures that first, with two oracles that see the dev split:

- **static**: the best fixed mixture. Optuna's TPE searches task weights (log-uniform in
  [``min_weight``, 1], one per task) for the best mean dev objective over the seeds, uniform's
  weights first; uniform's round-robin itself is a candidate, so the search never ends below
  uniform on dev, and under a ``target:TASK`` objective so is the target alone (``single:TASK``,
  a corner the weights' range cannot reach: on fsmtl-noisy-aux, synthetic-target-noise and
  ner-target it beat the best of 16 searched mixtures). The dev-selected schedule is then
  reported on test.
- **dynamic**: :class:`~mtl_gym.baselines.schedulers.Lookahead` (``lookahead:k=K``), which every
  ``k`` minibatches tries uniform's next turns and each task alone from a snapshot and follows the
  best by the dev objective.

Each headroom is the **paired** difference from uniform on test (same seed: same initialisation and
minibatch order), with a bootstrap 95% interval over the seeds, in percentage points. Every run is a
bench trial (``DIR/trials/``), so an interrupted measurement resumes where it stopped, and
``workers`` / ``ray`` spread the seeds of each step over processes as ``bench`` does.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from mtl_gym.data import suite_objective
from mtl_gym.io import atomic_write_json, atomic_write_text
from mtl_gym.objective import Objective, bind_objective
from mtl_gym.spec import Settings
from mtl_gym.stats import paired_difference

from .config import BenchConfig
from .execute import run_trials
from .tables import average_score
from .trials import Trial, suite_of


@dataclass(frozen=True)
class HeadroomConfig(Settings):
    """A headroom measurement: the suite, model and budget of a bench, one lr, and the oracles' sizes."""

    suite: str = "synthetic-noisy-aux"
    """Task suite; the named variants (``mtl-gym info``) carry their own objective."""
    data_dir: str | None = None
    """Real data root or the suite's own folder; none: $MTL_GYM_DATA, else ../shared/data."""
    suite_options: dict = field(default_factory=dict)
    """Reader options of the suite (as bench's ``--option``), e.g. max_len=64 or variant={...}."""
    model: dict = field(default_factory=lambda: {"name": "cnn", "embedding_dim": 64, "hidden_dim": 64})
    """ModelConfig fields of the MTL model."""
    objective: str | None = None
    """The objective scored (``mean``, ``target:TASK``, ``worst``, ``weighted:{...}``); none: the suite's."""
    env: dict = field(default_factory=dict)
    """Other EnvConfig fields of the runs."""
    trainer: dict = field(default_factory=dict)
    """TrainerConfig fields other than lr."""
    budget: int = 600
    """Task-minibatches per run: short enough that the runs have not plateaued, where a schedule matters."""
    lr: float = 3e-3
    """Learning rate of every run."""
    seeds: int = 5
    """Seeds 0 .. seeds - 1; every method runs on each, and differences are paired by seed."""
    trials: int = 20
    """Mixtures the static oracle tries (the first is uniform's)."""
    min_weight: float = 0.01
    """Smallest task weight the static search tries (weights are log-uniform in [min_weight, 1])."""
    lookahead_k: int = 20
    """Minibatches per commitment of the dynamic oracle; 0 skips it."""
    metric: str = "f1"
    """How a task is scored: ``f1`` scores IOB tagging tasks by chunk F1 and the others by accuracy
    (token accuracy of a NER task is mostly its O tags); ``acc`` scores every task by accuracy."""
    search_seed: int = 0
    """Seed of the TPE sampler."""
    workers: int = 1
    """Runs at once (processes), as bench's ``workers``."""
    ray: str | None = None
    """Run on Ray (``local`` or an address), as bench's ``--ray``."""

    def __post_init__(self) -> None:
        for name in ("budget", "seeds", "trials"):
            if getattr(self, name) < 1:
                raise ValueError(f"HeadroomConfig.{name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.min_weight < 1:
            raise ValueError(f"HeadroomConfig.min_weight must lie in (0, 1), got {self.min_weight}")
        if self.lookahead_k < 0:
            raise ValueError(f"HeadroomConfig.lookahead_k must be >= 0, got {self.lookahead_k}")
        if self.objective is not None:
            Objective.parse(self.objective)
        if self.metric not in ("f1", "acc"):
            raise ValueError(f"HeadroomConfig.metric must be f1 or acc, got {self.metric!r}")

    @property
    def resolved_objective(self) -> str:
        return self.objective or self.env.get("objective") or suite_objective(self.suite)

    def bench(self) -> BenchConfig:
        """The bench settings every run of the measurement is a trial of."""
        return BenchConfig(
            suite=self.suite,
            data_dir=self.data_dir,
            suite_options=self.suite_options,
            model=self.model,
            env={**self.env, "objective": self.resolved_objective},
            trainer=self.trainer,
            methods=["uniform"],
            seeds=self.seeds,
            budget=self.budget,
            lr_grid=[self.lr],
            evaluations=1,
            workers=self.workers,
            ray=self.ray,
        )


METRICS = {"f1": "chunk F1 of IOB tagging tasks, accuracy of the others", "acc": "accuracy"}


def agent_settings(
    config: HeadroomConfig, algorithm: str = "qls", timesteps: int = 50_000, seed: int = 0
) -> dict:
    """TrainAgentConfig fields of an agent for a headroom folder: its suite, model, trainer, budget
    and objective, on the fast env where the suite allows it."""
    return dict(
        suite=config.suite,
        data_dir=config.data_dir,
        suite_options=config.suite_options,
        model=config.model,
        trainer={**config.trainer, "lr": config.lr},
        env={"objective": config.resolved_objective, "episode_steps": config.budget},
        timesteps=timesteps,
        # The fast env caches one feature vector per example: classification suites only.
        fast=all(task.kind.value == "classification" for task in suite_of(config.bench())),
        seed=seed,
        algorithm=algorithm,
    )


def mixture_spec(weights: list[float]) -> str:
    return "fixed-weights:" + ",".join(f"{w:.4g}" for w in weights)


def measure_headroom(config: HeadroomConfig, out: str | Path, progress: bool = True) -> dict:
    """Run (or resume) the measurement under ``out``; write ``headroom.json`` and ``headroom.md`` there
    and return the JSON's content."""
    import optuna

    start = time.perf_counter()
    bench = config.bench()
    suite = suite_of(bench)
    objective = bind_objective(config.resolved_objective, suite.names)  # fails before any training
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "config.json", config.to_dict(), indent=2)
    seeds = list(range(config.seeds))
    run_seconds = []

    def scores(method: str, desc: str) -> dict[str, list[float]]:
        records = run_trials(bench, [Trial(method, config.lr, s) for s in seeds], out, progress, desc)
        run_seconds.extend(r["wall_s"] for r in records)
        return {
            split: [100 * average_score(r, split, config.metric, objective) for r in records]
            for split in ("dev", "test")
        }

    uniform = scores("uniform", "uniform")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=config.search_seed)
    )
    study.enqueue_trial({name: 1.0 for name in suite.names})
    mixtures = []
    for number in range(config.trials):
        trial = study.ask()
        weights = [trial.suggest_float(name, config.min_weight, 1.0, log=True) for name in suite.names]
        result = scores(mixture_spec(weights), f"mixture {number + 1}/{config.trials}")
        study.tell(trial, statistics.fmean(result["dev"]))
        mixtures.append({"weights": dict(zip(suite.names, weights, strict=True)), **result})
    # max keeps the first of equal dev scores: uniform's weights win a tie.
    best = max(mixtures, key=lambda m: statistics.fmean(m["dev"]))
    # Uniform's own schedule (round-robin) is a static schedule too: where no sampled mixture beats
    # it on dev, it is the best static schedule and the headroom is 0, not the sampling noise of
    # equal weights drawn at random.
    if statistics.fmean(uniform["dev"]) >= statistics.fmean(best["dev"]):
        best = {"weights": dict.fromkeys(suite.names, 1.0), **uniform}
    if objective.kind == "target":
        target = objective.counts()[0]
        alone = scores(f"single:{target}", f"{target} alone")
        if statistics.fmean(alone["dev"]) > statistics.fmean(best["dev"]):
            best = {"weights": {name: float(name == target) for name in suite.names}, **alone}
    report = {
        "suite": config.suite,
        "objective": objective.objective.text,
        "metric": config.metric,
        "budget": config.budget,
        "lr": config.lr,
        "seeds": seeds,
        "uniform": summary(uniform),
        "best_static": {"weights": normalised(best["weights"]), **summary(best)},
        "static_headroom": headroom(best["test"], uniform["test"]),
        "mixtures_tried": len(mixtures),
    }
    if config.lookahead_k:
        lookahead = scores(f"lookahead:k={config.lookahead_k}", "lookahead")
        report["lookahead"] = summary(lookahead)
        report["dynamic_headroom"] = headroom(lookahead["test"], uniform["test"])
    else:
        report["dynamic_headroom"] = None
    report["wall_s"] = round(time.perf_counter() - start, 1)
    # The runs' own training time, the same whether they ran now or in an interrupted earlier call.
    report["run_s"] = round(sum(run_seconds), 1)
    report["settings"] = config.to_dict()
    atomic_write_json(out / "headroom.json", report, indent=2)
    atomic_write_text(out / "headroom.md", render_headroom(report))
    return report


def summary(result: dict) -> dict:
    return {
        "dev": round(statistics.fmean(result["dev"]), 3),
        "test": round(statistics.fmean(result["test"]), 3),
        "test_per_seed": [round(v, 3) for v in result["test"]],
    }


def normalised(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {name: round(w / total, 4) for name, w in weights.items()}


def headroom(scores: list[float], uniform: list[float], digits: int = 3) -> dict:
    """The paired difference from uniform (test points here; a loss elsewhere), with its bootstrap
    95% interval, rounded to ``digits``."""
    estimate = paired_difference(scores, uniform)
    return {
        "mean": round(estimate.point, digits),
        "ci_low": round(estimate.low, digits),
        "ci_high": round(estimate.high, digits),
        "resolved": bool(estimate.low > 0 or estimate.high < 0),
    }


def render_headroom(report: dict) -> str:
    def row(name: str, entry: dict | None) -> str:
        if entry is None:
            return f"| {name} | not run | |"
        return f"| {name} | {entry['mean']:+.1f} | [{entry['ci_low']:+.1f}, {entry['ci_high']:+.1f}] |"

    weights = ", ".join(f"{t} {w:.2f}" for t, w in report["best_static"]["weights"].items())
    lines = [
        f"# Headroom of {report['suite']} (objective {report['objective']})",
        "",
        f"Budget {report['budget']} task-minibatches, lr {report['lr']:g}, seeds {report['seeds']}; "
        f"test score of the objective in % ({METRICS[report['metric']]}), uniform {report['uniform']['test']:.1f}.",
        "",
        "| headroom over uniform | paired mean (points) | bootstrap 95% CI |",
        "|---|---|---|",
        row(
            "static (best of " + str(report["mixtures_tried"]) + " mixtures on dev)",
            report["static_headroom"],
        ),
        row("dynamic (lookahead)", report["dynamic_headroom"]),
        "",
        f"Best static mixture (shares): {weights}.",
        "",
        f"Its runs took {report['run_s']:.0f} s of training in all ({report['wall_s']:.0f} s in this call).",
    ]
    return "\n".join(lines) + "\n"
