"""Train a QLS agent on the scheduling env: ``mtl-gym train-agent``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.spec import Settings

from ..common.curves import CurveRecorder
from .qls import QLS

AGENT_ENV_DEFAULTS: dict[str, Any] = {
    "reference": "auto",
    "features": ("share", "since", "loss", "elapsed"),
}
"""EnvConfig settings of agent training that differ from the env's paper-faithful defaults; the
settings a user gives (``TrainAgentConfig.env``, ``--env``, the bench's ``env``) override each key.

- ``reference="auto"``: the QLS penalty (-10 under 95% of the single-task accuracy) is on; the
  reference trains each task alone for ``reference_budget`` minibatches once, cached on disk.
- ``features``: budget share, steps since chosen, per-task loss and elapsed fraction after the
  histograms, which alone cannot see a starved task (``mtl_gym.env.features``).

The reward stays the paper's ``loss``: ``loss-normalized`` did no better in
``benchmarks/qls_observation`` (README). ``{"features": [], "reference": None}`` gives the paper's
observation and reward without the penalty, as before these defaults."""

OBSERVATION_SETTINGS = (
    "bins",
    "uncertainty",
    "hard_samples",
    "refresh_every",
    "features",
    "reward",
    "reward_set",
    "reward_samples",
)
"""EnvConfig settings that shape what an agent observes (``reward`` and ``reward_set`` through the
``loss`` features); deployment must match the agent's training on these."""


@dataclass
class TrainAgentConfig(Settings):
    """Everything a QLS training run depends on; written next to the agent as config.json."""

    suite: str = "synthetic"
    """Suite the agent schedules."""
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
    """Settings of the exploration strategy (c for Boltzmann-Gumbel)."""
    learning_rate: float = 1e-3
    """Adam step size of the Q-network."""
    seed: int = 0
    """Seeds the agent, its exploration and the env's episodes."""

    def env_config(self) -> EnvConfig:
        """The env's settings: :data:`AGENT_ENV_DEFAULTS` overridden by ``env``."""
        return EnvConfig.of({**AGENT_ENV_DEFAULTS, **self.env})

    def make_env(self, suite: TaskSuite | None = None) -> MTLSchedulingEnv:
        suite = suite or load_suite(self.suite, self.data_dir, **self.suite_options)
        return MTLSchedulingEnv(suite, self.model, self.env_config(), self.trainer)


def deployment_env(agent: Any, env_config: EnvConfig | dict | None = None) -> EnvConfig:
    """``env_config`` with the observation settings (:data:`OBSERVATION_SETTINGS`) of the env the
    agent trained in, read from the ``config.json`` that :func:`train_agent` wrote next to its
    ``agent.zip``; unchanged for an agent object or a file without one (the scheduler then checks
    the observation shape)."""
    config = EnvConfig.of(env_config)
    if not isinstance(agent, (str, Path)):
        return config
    path = Path(agent).parent / "config.json"
    if not path.is_file():
        return config
    record = json.loads(path.read_text())
    # Agents trained before "env_config" was recorded used their env settings alone.
    trained = record.get("env_config") or dict(record["config"].get("env", {}))
    if trained.pop("extra_features", False):
        trained["features"] = ("loss", "elapsed")
    return EnvConfig.of({**config.to_dict(), **{k: trained[k] for k in OBSERVATION_SETTINGS if k in trained}})


def train_agent(
    config: TrainAgentConfig, out: str | Path, progress_bar: bool = True, suite: TaskSuite | None = None
) -> dict:
    """Train, then write ``agent.zip``, ``curves.csv``, ``curves.png`` and ``config.json`` to ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env = config.make_env(suite)
    agent = QLS(
        "MlpPolicy",
        env,
        exploration=config.exploration,
        exploration_kwargs=config.exploration_kwargs,
        learning_rate=config.learning_rate,
        seed=config.seed,
    )
    recorder = CurveRecorder()
    start = time.perf_counter()
    agent.learn(config.timesteps, callback=recorder, progress_bar=progress_bar)
    wall_s = time.perf_counter() - start
    agent.save(out / "agent.zip")
    recorder.write_csv(out / "curves.csv")
    recorder.plot(out / "curves.png", env.suite.names)
    record = {
        "config": asdict(config),
        "env_config": env.config.to_dict(),
        "wall_s": wall_s,
        "exploration": agent.explorer.stats(),
    }
    (out / "config.json").write_text(json.dumps(record, indent=2))
    return record
