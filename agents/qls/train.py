"""Train a QLS agent on the scheduling env: ``mtl-gym train-agent``."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.io import atomic_write_json
from mtl_gym.spec import Settings

from ..common.curves import CurveRecorder
from ..common.serialization import save_agent
from .qls import QLS


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
    """EnvConfig fields (episode_steps, bins, reward, ...)."""
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

    def make_env(self, suite: TaskSuite | None = None) -> MTLSchedulingEnv:
        suite = suite or load_suite(self.suite, self.data_dir, **self.suite_options)
        return MTLSchedulingEnv(suite, self.model, EnvConfig.of(self.env), self.trainer)


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
    save_agent(agent, out / "agent.zip")
    recorder.write_csv(out / "curves.csv")
    recorder.plot(out / "curves.png", env.suite.names)
    record = {"config": asdict(config), "wall_s": wall_s, "exploration": agent.explorer.stats()}
    atomic_write_json(out / "config.json", record, allow_nan=True)  # written last: marks the folder complete
    return record
