"""Train a scheduler agent (QLS, or PPO by ``algorithm``) on the scheduling env: ``mtl-gym train-agent``."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure

from mtl_gym.data import TaskSuite, load_suite, suite_objective
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.env.instances import InstanceSetEnv, SuiteSetEnv
from mtl_gym.io import atomic_write_json
from mtl_gym.spec import Settings
from mtl_gym.training import RunResult, check_device

from ..algorithms import algorithm, build_agent
from ..common.batched import BatchedVecEnv
from ..common.callbacks import ProgressBar
from ..common.contract import CONFIG_FILE, agent_env_config, observation_settings
from ..common.curves import CurveRecorder
from ..common.reward_baseline import RelativeReward, uniform_reward_curve
from ..common.serialization import save_agent
from .evaluation import BEST_AGENT, DeployedEvalCallback, schedule_runner
from .qls import LEARNING_RATE
from .scheduler import QLSScheduler

LAST_AGENT = "last_agent.zip"
"""The agent at the end of training, when evaluations chose another for agent.zip."""

EVALUATIONS = 10
"""Evaluations of the deployed policy over a fast-env QLS training when ``eval_every`` is left to
its default; the agent of the best dev score is kept."""

REWARD_BASELINES = (None, "uniform")
"""What :attr:`TrainAgentConfig.reward_baseline` may subtract from the reward."""

INSTANCE_SUITE = "synthetic-instances"
"""The suite name of an instance set: the agent trains over its instances, one per episode."""

AGENT_ENV_DEFAULTS: dict[str, Any] = {
    "reference": "auto",
    "reference_budget": "episode",
    "features": ("share", "since", "loss", "elapsed"),
    "refresh_every": 1000,
}
"""EnvConfig settings of agent training that differ from the env's paper-faithful defaults; the
settings a user gives (``TrainAgentConfig.env``, ``--env``, the bench's ``env``) override each key.

- ``reference="auto"``: the QLS penalty (-10 under 95% of the single-task accuracy) is on; the
  reference trains each task alone once (cached on disk) for ``reference_budget="episode"``, its
  fair share of an episode (episode_steps x steps_per_action / K minibatches). A reference trained
  for the env's default 1,000 minibatches per task kept every step of 200-step episodes under the
  threshold, so the penalty was a constant -10 (docs/agents.md, "QLS").
- ``features``: budget share, steps since chosen, per-task loss and elapsed fraction after the
  histograms, which alone cannot see a starved task (``mtl_gym.env.features``).
- ``refresh_every=1000`` (the env's default is 100): the hard samples are re-chosen (a full dev
  pass) every 1,000 training steps, so that a deployed agent spends about 4% of the training on
  them at the qls-paper preset rather than a third, and within an episode of up to 1,000 steps the
  histograms follow the same examples. Known-answer noise check, greedy, agent seeds 0-8: the
  noise task's share was 0 on all nine at 1,000, 0.53 on one of them at 100 (seed 4), and 1.0 on
  two when the hard samples are each pass's hardest reward samples (``hard_from="reward"``, which
  needs no dev pass at all; seeds 2 and 8); docs/results/learned-schedulers.md, "Observing at a fraction of
  the cost". With agents chosen on dev (``eval_every``), 1,000 against 100 on synthetic-noisy-aux:
  +1.5 and +1.5 points over uniform; on synthetic-imbalanced +0.0 and -1.7 ("The horizon").

The reward stays the paper's ``loss``: ``loss-normalized`` did no better in
``benchmarks/qls_observation`` (docs/results/studies.md). ``{"features": [], "reference": None}`` gives the paper's
observation and reward without the penalty, as before these defaults."""


@dataclass
class TrainAgentConfig(Settings):
    """Everything an agent's training run depends on; written next to the agent as config.json."""

    suite: str = "synthetic"
    """Suite the agent schedules; a comma list of suites with as many tasks (``a,b``) or
    ``synthetic-instances`` trains one agent over all of them, a suite drawn every episode."""
    data_dir: str | None = None
    """Real-data root, for suites that need files."""
    suite_options: dict = field(default_factory=dict)
    """Reader options of the suite."""
    model: dict = field(default_factory=lambda: {"name": "lstm"})
    """ModelConfig fields of the MTL model inside the env."""
    env: dict = field(default_factory=dict)
    """EnvConfig fields (episode_steps, bins, reward, ...), over :data:`AGENT_ENV_DEFAULTS` (penalty on
    with reference="auto", budget/neglect features)."""
    trainer: dict = field(default_factory=dict)
    """TrainerConfig fields of the MTL model's trainer inside the env (lr, batch_size, ...)."""
    timesteps: int = 5_000
    """Env steps of agent training."""
    exploration: str = "boltzmann-gumbel"
    """boltzmann-gumbel (paper), boltzmann or epsilon-greedy."""
    exploration_kwargs: dict = field(default_factory=dict)
    """Settings of the exploration strategy: for Boltzmann-Gumbel c (default 1) and scale
    (``q-spread``, the default: c in units of the running spread of Q across actions; ``absolute``:
    in units of Q, the paper's)."""
    learning_rate: float = LEARNING_RATE
    """Adam step size of the agent's networks (QLS: the Q-network; PPO: actor and critic)."""
    eval_every: int | None = None
    """Decisions (env steps over all envs of the fast env) between evaluations of the deployed
    policy; 0: none. Each trains a fresh MTL model for eval_budget task-minibatches per eval seed
    under the agent's scheduler, deployed as it will be (:func:`~mtl_gym.agents.common.contract.agent_env_config`),
    and scores its dev split under the env's objective; the agent of the best score is the one
    written to agent.zip (the last one to last_agent.zip). It costs about eval_budget x
    len(eval_seeds) full-env steps. None (the default): :data:`EVALUATIONS` evaluations over the
    training for QLS on the fast env, where they cost about twice the training itself (none
    otherwise, where each costs about as much as a training episode): agents trained to the end scored below uniform on synthetic-noisy-aux (-5.4 points,
    three agent seeds) where the selected ones scored +1.5 (docs/results/learned-schedulers.md,
    "The horizon")."""
    eval_budget: int | None = None
    """Task-minibatches of each evaluation run; None: the run length the agent trains on
    (episode_steps x steps_per_action)."""
    eval_seeds: list[int] = field(default_factory=lambda: [10_000, 10_001])
    """Seeds of the evaluation runs, away from the bench's evaluation seeds (0, 1, ...)."""
    deploy: dict = field(default_factory=dict)
    """Settings of the evaluated deployment (QLS: policy, temperature); its defaults if empty."""
    seed: int = 0
    """Seeds the agent, its exploration and the env's episodes."""
    fast: bool = False
    """Train on the batched env over frozen, cached encoder features (``mtl_gym.env.batched``,
    docs/environment.md, "Fast agent training"): ``num_envs`` runs of a small shared layer and heads stepped at
    once, ~100x the decisions per second of the full env. ``model`` is then the frozen encoder's."""
    num_envs: int = 64
    """Runs the fast env steps at once (each is one decision per step)."""
    features: dict = field(default_factory=dict)
    """FeatureConfig fields of the fast env (encoder_budget, seed, hidden_dim), over the algorithm's
    own (PPO: an encoder budget of 1,200; QLS: FeatureConfig's defaults)."""
    reward_baseline: str | None = None
    """``uniform``: on the fast env the agent learns from the env's reward minus round-robin's mean
    reward at the same decision of an episode (:mod:`~mtl_gym.agents.common.reward_baseline`; 16
    runs measured before training), which leaves every advantage as it was but takes the episode's
    loss curve out of Q. None: the env's reward."""
    algorithm: str = "qls"
    """qls (value-based, the paper's) or ppo (sb3-contrib's MaskablePPO); see mtl_gym.agents.algorithms."""
    algorithm_kwargs: dict = field(default_factory=dict)
    """Further constructor arguments of the agent, SB3's names (QLS: gamma, tau, batch_size,
    buffer_size, learning_starts, train_freq, target_update_interval, ...; PPO: n_steps,
    batch_size, n_epochs, ent_coef, ...). QLS's own defaults (soft target updates, tau = 0.1 every
    step) are documented on the class."""
    device: str = "auto"
    """Where the agent's networks and the env's MTL model train (the fast env's tensors too):
    ``auto`` (CUDA when torch sees a GPU, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``; a
    ``device`` in ``trainer`` overrides it for the env. Not part of the agent's identity: a bench or
    tuning folder resumed on another device keeps its agents."""

    def __post_init__(self) -> None:
        try:
            self.device = check_device(self.device)
        except ValueError as err:
            raise ValueError(f"TrainAgentConfig.device: {err}") from None
        if self.reward_baseline not in REWARD_BASELINES:
            raise ValueError(
                f"TrainAgentConfig.reward_baseline must be one of {REWARD_BASELINES}, got {self.reward_baseline!r}"
            )
        if self.reward_baseline and not self.fast:
            raise ValueError("TrainAgentConfig.reward_baseline needs the fast env (fast=True)")

    @classmethod
    def over(cls, base: dict, overrides: dict) -> TrainAgentConfig:
        """The config of ``base``'s fields with ``overrides``' over them; an ``env`` in ``overrides``
        adds to ``base``'s env a key at a time instead of replacing it, so that overriding one env
        setting keeps the caller's objective and episode length."""
        env = {**base.get("env", {}), **overrides.get("env", {})}
        return cls.of({**base, **overrides, "env": env})

    def evaluation_interval(self) -> int:
        """Decisions between evaluations (0: none): ``eval_every``, or its default (see there)."""
        if self.eval_every is not None:
            return self.eval_every
        return max(1, self.timesteps // EVALUATIONS) if self.fast and self.algorithm == "qls" else 0

    def evaluation_budget(self) -> int:
        """Task-minibatches of each evaluation run: ``eval_budget``, or the training run's length."""
        if self.eval_budget is not None:
            return self.eval_budget
        env = self.env_config()
        return env.episode_steps * env.steps_per_action

    def evaluation_runner(self, suite: TaskSuite) -> Callable[[QLSScheduler, int], RunResult]:
        """One evaluation run on ``suite``: the deployed env (:func:`agent_env_config`), the MTL
        model and trainer of training, :meth:`evaluation_budget` task-minibatches."""
        return schedule_runner(
            suite,
            self.evaluation_budget(),
            model=self.model,
            env_config=agent_env_config(None, self.env_config()),
            trainer=self.trainer_settings(),
        )

    def trainer_settings(self) -> dict:
        """TrainerConfig fields of the env's MTL model: ``trainer``, on ``device`` unless it names its own."""
        return {"device": self.device, **self.trainer}

    def identity(self) -> dict:
        """The settings a trained agent depends on (every field but ``device``, which changes only
        where it trained and the float rounding), for checks that a folder holds this config's agent."""
        settings = asdict(self)
        del settings["device"]
        return settings

    def env_config(self) -> EnvConfig:
        """The env's settings: :data:`AGENT_ENV_DEFAULTS` overridden by ``env``, the same for the
        full and the fast env."""
        return EnvConfig.of({**AGENT_ENV_DEFAULTS, "objective": suite_objective(self.suite), **self.env})

    def fast_env_features(self) -> dict:
        """FeatureConfig fields of the fast env: ``features`` over the algorithm's own."""
        return {**algorithm(self.algorithm).fast_env_features, **self.features}

    def make_env(
        self, suite: TaskSuite | None = None
    ) -> MTLSchedulingEnv | BatchedVecEnv | RelativeReward | SuiteSetEnv:
        if self.suite == INSTANCE_SUITE or "," in self.suite:
            return self.suite_set_env()
        suite = suite or load_suite(self.suite, self.data_dir, **self.suite_options)
        if self.fast:
            settings = dict(
                suite=suite,
                model=self.model,
                config=self.env_config(),
                trainer=self.trainer_settings(),
                features=self.fast_env_features(),
            )
            env = BatchedVecEnv(num_envs=self.num_envs, **settings)
            if self.reward_baseline == "uniform":
                return RelativeReward(env, uniform_reward_curve(settings["config"].episode_steps, **settings))
            return env
        return MTLSchedulingEnv(suite, self.model, self.env_config(), self.trainer_settings())

    def evaluation_suite(self) -> TaskSuite:
        """The suite deployed evaluations run on: ``suite``, the first of a comma list, or the
        instance that ``suite_options`` names of an instance set."""
        return load_suite(self.suite.split(",")[0].strip(), self.data_dir, **self.suite_options)

    def suite_set_env(self) -> SuiteSetEnv:
        """One agent over several suites, a new one drawn every episode: an instance set (the
        instances of ``suite_options["split"]``, default train) or a comma list of suites, each
        read with ``suite_options``. The full env only: the fast env caches one suite's features."""
        if self.fast:
            raise ValueError(
                f"suite {self.suite!r} is a set of suites, which trains on the full env: drop fast (--fast)"
            )
        if self.suite == INSTANCE_SUITE:
            options = {k: v for k, v in self.suite_options.items() if k not in ("split", "instance")}
            split = self.suite_options.get("split", "train")
            return InstanceSetEnv(split, options, self.model, self.env_config(), self.trainer_settings())
        names = [name.strip() for name in self.suite.split(",") if name.strip()]
        first = load_suite(names[0], self.data_dir, **self.suite_options)

        def loader(name: str):
            return lambda: (
                first if name == names[0] else load_suite(name, self.data_dir, **self.suite_options)
            )

        return SuiteSetEnv(
            [loader(n) for n in names], len(first), self.model, self.env_config(), self.trainer_settings()
        )


def train_agent(
    config: TrainAgentConfig,
    out: str | Path,
    progress_bar: bool | None = True,
    suite: TaskSuite | None = None,
    callbacks: list[BaseCallback] | tuple = (),
) -> dict:
    """Train, then write ``agent.zip``, ``curves.csv``, ``curves.png`` and ``config.json`` to ``out``,
    with SB3's log (``progress.csv``; TensorBoard event files when tensorboard is installed) and,
    when the deployed policy is evaluated (:meth:`TrainAgentConfig.evaluation_interval`),
    ``evaluations.csv``, with ``agent.zip`` the agent of the best evaluation and ``last_agent.zip``
    the last. ``callbacks`` run
    beside them (one returning False ends training early). ``progress_bar``: a bar of the decisions
    trained on stderr (:class:`~mtl_gym.agents.common.callbacks.ProgressBar`); None draws it only
    when stderr is a terminal.

    ``config.json`` holds the training settings, the env's observation settings (``observation``,
    the contract deployment checks) and, for QLS, the final exploration statistics; it is written
    last, so a folder without it is an interrupted training."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    suite = suite or config.evaluation_suite()
    env = config.make_env(suite)
    agent = build_agent(config, env)
    agent.set_logger(configure(str(out), log_formats()))
    recorder = CurveRecorder()
    bar = ProgressBar(progress_bar)
    listeners = [bar, recorder, *callbacks]
    interval = config.evaluation_interval()
    if interval:
        if config.algorithm != "qls":
            raise ValueError(
                "eval_every evaluates the QLS deployment; it is not available for " + config.algorithm
            )
        listeners.append(
            DeployedEvalCallback(
                config.evaluation_runner(suite),
                out,
                interval,
                config.eval_seeds,
                config.deploy,
                config.env_config().objective,
            )
        )
    start = time.perf_counter()
    try:
        agent.learn(config.timesteps, callback=CallbackList(listeners), log_interval=1)
    finally:
        bar.close()
    wall_s = time.perf_counter() - start
    if agent.logger.name_to_value:
        agent.logger.dump(agent.num_timesteps)
    agent.logger.close()
    if interval:
        # The agent to deploy is the one that scheduled best on dev; the last one is kept beside it.
        save_agent(agent, out / LAST_AGENT)
        (out / BEST_AGENT).replace(out / "agent.zip")
    else:
        save_agent(agent, out / "agent.zip")
    recorder.write_csv(out / "curves.csv")
    recorder.plot(out / "curves.png", env.suite.names)
    record = {
        "config": asdict(config),
        "observation": observation_settings(config.env_config()),
        "wall_s": wall_s,
    }
    if hasattr(agent, "explorer"):
        record["exploration"] = agent.explorer.stats()
    atomic_write_json(out / CONFIG_FILE, record, allow_nan=True)  # written last: marks the folder complete
    return record


def log_formats() -> list[str]:
    """SB3 logger outputs: CSV always, TensorBoard when it is installed (the ``tb`` extra)."""
    return ["csv"] + (["tensorboard"] if importlib.util.find_spec("tensorboard") else [])
