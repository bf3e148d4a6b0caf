"""``mtl-gym tune-agent``: hyperparameter search for the scheduler agents on Optuna, in the style of
rl-baselines3-zoo: a TPE sampler, a median pruner fed by the intermediate evaluation of
:mod:`.evaluation`, and the study in SQLite, so that a rerun of the same command resumes it.

Each trial samples a :class:`TrainAgentConfig` from the algorithm's space (:mod:`.space`), trains it
with :func:`train_agent` into ``OUT/trials/NNNN/`` and, every ``eval_every`` agent steps, deploys
the agent on the fixed evaluation seed for ``eval_budget`` task-minibatches; the mean dev accuracy
goes to ``trial.report``, and a trial the pruner stops is recorded as pruned. A trial's value is
that accuracy after its last training step. ``OUT/best_config.json`` (rewritten after every
finished trial) is the best trial's TrainAgentConfig, which ``mtl-gym train-agent --config`` reads.

Resuming: ``trials`` counts the finished (complete or pruned) trials of the whole study, so a
rerun runs only the missing ones. A trial still marked running when the tuner starts was cut off by
a kill: it is marked failed and its parameters are queued to be tried first. This assumes one tuner
per study at a time (parallel workers on one storage would see each other's trials as cut off).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from mtl_gym.data import TaskSuite
from mtl_gym.io import atomic_write_text
from mtl_gym.spec import Settings

from ..qls.train import TrainAgentConfig, train_agent
from .evaluation import PeriodicEvaluation, deployed_dev_accuracy
from .space import SPACES

FINISHED = ("COMPLETE", "PRUNED")


@dataclass
class TuneConfig(Settings):
    """How a study searches; the base TrainAgentConfig says what each trial trains on."""

    algorithm: str = "qls"
    """qls or ppo: which agent, and which search space of :data:`SPACES`."""
    trials: int = 10
    """Finished trials the study should hold; a rerun adds only the missing ones."""
    timeout: float | None = None
    """Stop starting new trials after this many seconds of this run."""
    eval_every: int = 50
    """Agent steps between intermediate evaluations (at the base config's steps_per_action)."""
    eval_budget: int = 100
    """Task-minibatches of each evaluation run."""
    eval_seed: int = 12345
    """Seed of the evaluation's MTL model: fixed, and away from the training seeds."""
    eval_runs: int = 1
    """Evaluation runs averaged, on seeds eval_seed, eval_seed + 1, ...: one run's dev accuracy
    varies by a point or two with the seed, as much as many settings' effect."""
    startup_trials: int = 5
    """Trials sampled at random before TPE, and finished before the pruner prunes."""
    warmup_evaluations: int = 1
    """The first evaluation at which a trial may be pruned (evaluations count 1, 2, ...)."""
    sampler_seed: int = 0
    """Seed of the TPE sampler."""
    study_name: str = "tune-agent"
    """Name of the study in the storage."""
    space: dict = field(default_factory=dict)
    """Overrides of the search space's fields, e.g. {"steps_per_action": [1]} to fix one."""

    @property
    def eval_seeds(self) -> range:
        """The seeds of one evaluation's runs."""
        return range(self.eval_seed, self.eval_seed + self.eval_runs)


def _optuna():
    try:
        import optuna
    except ImportError:  # an optional extra
        raise ImportError("tune-agent needs Optuna: pip install 'mtl-gym[tune]'") from None
    return optuna


def storage_url(out: str | Path, storage: str | None = None) -> str:
    """``storage`` if given, else a SQLite file ``OUT/study.db``."""
    return storage or f"sqlite:///{(Path(out) / 'study.db').resolve()}"


def search_space(tune: TuneConfig) -> Any:
    if tune.algorithm not in SPACES:
        raise ValueError(
            f"no search space for algorithm {tune.algorithm!r}; expected one of {sorted(SPACES)}"
        )
    base = SPACES[tune.algorithm]
    known = {f.name for f in dataclasses.fields(base)}
    if unknown := sorted(set(tune.space) - known):
        raise ValueError(f"the {tune.algorithm} search space has no {unknown}; it has {sorted(known)}")
    return dataclasses.replace(base, **{k: tuple(v) for k, v in tune.space.items()})


def open_study(tune: TuneConfig, url: str):
    """Create the study, or load it (same name, same storage) to resume it. The sampler's seed is
    offset by the trials the study holds, so a resumed run does not draw its random start-up trials
    again."""
    optuna = _optuna()
    study = optuna.create_study(
        study_name=tune.study_name,
        storage=optuna.storages.RDBStorage(url),
        direction="maximize",
        pruner=optuna.pruners.MedianPruner(
            n_startup_trials=tune.startup_trials, n_warmup_steps=tune.warmup_evaluations
        ),
        load_if_exists=True,
    )
    seed = tune.sampler_seed + len(study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(n_startup_trials=tune.startup_trials, seed=seed)
    return study


def check_settings(study, base: TrainAgentConfig, tune: TuneConfig) -> None:
    """Record what the study's trials train on at its creation; refuse to resume it with other
    settings (the trial count and timeout may change), whose trials would not compare."""
    settings = {"base": base.identity(), "tune": dataclasses.asdict(tune)}
    for key in ("trials", "timeout"):
        del settings["tune"][key]
    settings = json.loads(json.dumps(settings))
    recorded = study.user_attrs.get("settings")
    if recorded is None:
        study.set_user_attr("settings", settings)
    elif recorded != settings:
        changed = sorted(
            f"{part}.{key}"
            for part in settings
            for key in settings[part].keys() | recorded[part].keys()
            if settings[part].get(key) != recorded[part].get(key)
        )
        raise ValueError(
            f"study {study.study_name!r} holds trials of other settings (changed: {', '.join(changed)}); "
            "use a new --out or --study-name"
        )


def recover_cut_off_trials(study) -> list[int]:
    """Mark the trials a killed run left running as failed, queue their parameters again, and return
    their numbers."""
    optuna = _optuna()
    storage = study._storage  # Optuna has no public call that fails a trial of another process
    cut_off = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in cut_off:
        trial_id = storage.get_trial_id_from_study_id_trial_number(
            storage.get_study_id_from_name(study.study_name), trial.number
        )
        storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL)
        if trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
    return [t.number for t in cut_off]


def finished_trials(study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED]


def write_best(study, out: Path) -> dict | None:
    """``OUT/best_config.json`` from the best complete trial, if any."""
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    if not complete:
        return None
    best = max(complete, key=lambda t: t.value)
    atomic_write_text(out / "best_config.json", json.dumps(best.user_attrs["config"], indent=2) + "\n")
    return {"number": best.number, "value": best.value, "params": best.params}


def tune_agent(
    base: TrainAgentConfig,
    tune: TuneConfig,
    out: str | Path,
    storage: str | None = None,
    suite: TaskSuite | None = None,
    progress_bar: bool = False,
) -> dict:
    """Run (or resume) the study; returns the trial counts and the best trial so far."""
    optuna = _optuna()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    space = search_space(tune)
    if min(tune.eval_every, tune.eval_budget, tune.eval_runs) < 1:
        raise ValueError("eval_every, eval_budget and eval_runs must be at least 1")
    suite = suite or base.evaluation_suite()
    study = open_study(tune, storage_url(out, storage))
    check_settings(study, base, tune)
    recovered = recover_cut_off_trials(study)
    base_steps_per_action = base.env.get("steps_per_action", 1)

    def objective(trial) -> float:
        config = space.sample(trial, base)
        if config.eval_every is None:
            # The study scores the live agent with its own evaluations; a trial does not also pick
            # among its checkpoints (train_agent's default on the fast env), so the trial's config,
            # best_config.json included, trains the agent the study measured.
            config = dataclasses.replace(config, eval_every=0)
        trial.set_user_attr("config", dataclasses.asdict(config))

        def evaluate(agent) -> float:
            return mean(
                deployed_dev_accuracy(agent, config, suite, tune.eval_budget, s) for s in tune.eval_seeds
            )

        def report(score: float, index: int) -> bool:
            trial.report(score, index)
            return trial.should_prune()

        # Evaluations fall on the same task-minibatches in every trial, whatever its steps_per_action.
        every = max(1, round(tune.eval_every * base_steps_per_action / config.env["steps_per_action"]))
        evaluation = PeriodicEvaluation(evaluate, every, report)
        train_agent(
            config, out / "trials" / f"{trial.number:04d}", progress_bar, suite, callbacks=[evaluation]
        )
        if evaluation.stopped:
            raise optuna.TrialPruned()
        if evaluation.scores and evaluation.scores[-1][0] == evaluation.model.num_timesteps:
            return evaluation.scores[-1][1]
        return evaluate(evaluation.model)

    def after_trial(study, trial) -> None:
        write_best(study, out)

    remaining = max(0, tune.trials - len(finished_trials(study)))
    if remaining:
        study.optimize(
            objective,
            n_trials=remaining,
            timeout=tune.timeout,
            callbacks=[after_trial],
            catch=(FloatingPointError,),
        )
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state.name == state for t in trials) for state in ("COMPLETE", "PRUNED", "FAIL")}
    return {
        "study": tune.study_name,
        "storage": storage_url(out, storage),
        "trials": len(trials),
        **{state.lower(): count for state, count in counts.items()},
        "recovered": recovered,
        "ran": remaining,
        "best": write_best(study, out),
    }
