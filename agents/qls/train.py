"""Train a QLS agent on the scheduling env: ``mtl-gym train-agent``."""

from __future__ import annotations

import importlib.util
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stable_baselines3.common.callbacks import CallbackList
from stable_baselines3.common.logger import configure

from mtl_gym.data import TaskSuite, load_suite
from mtl_gym.env import EnvConfig, MTLSchedulingEnv
from mtl_gym.spec import Settings

from ..common.curves import CurveRecorder
from .contract import CONFIG_FILE, observation_settings
from .evaluation import DeployedEvalCallback, schedule_runner
from .qls import QLS, TAU


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
    """Settings of the exploration strategy: for Boltzmann-Gumbel c (default 1) and scale
    (``q-spread``, the default: c in units of the running spread of Q across actions; ``absolute``:
    in units of Q, the paper's)."""
    learning_rate: float = 1e-3
    """Adam step size of the Q-network."""
    gamma: float = 0.99
    """Discount (QLS §4.4: 0.99)."""
    tau: float = TAU
    """Soft target update rate: the target net moves this fraction towards the online net every
    target_update_interval env steps (1: a hard copy). Measured: benchmarks/qls_td.py."""
    target_update_interval: int = 1
    """Env steps between target updates."""
    batch_size: int = 32
    """Transitions per gradient step (SB3's default)."""
    buffer_size: int = 100_000
    """Replay buffer capacity, more transitions than any run here (SB3's default is 1M)."""
    learning_starts: int = 100
    """Env steps of uniformly random allowed actions before learning starts."""
    train_freq: int = 4
    """Env steps between gradient steps (SB3's default)."""
    eval_every: int = 0
    """Env steps between evaluations of the deployed policy (0: none). Each trains a fresh MTL model
    for eval_budget task-minibatches per eval seed under QLSScheduler and keeps best_agent.zip by mean
    dev accuracy; it costs about eval_budget x len(eval_seeds) env steps."""
    eval_budget: int = 200
    """Task-minibatches of each evaluation run."""
    eval_seeds: list[int] = field(default_factory=lambda: [10_000])
    """Seeds of the evaluation runs, away from the bench's evaluation seeds (0, 1, ...)."""
    deploy: dict = field(default_factory=dict)
    """QLSScheduler settings of the evaluated policy (policy, temperature); its defaults if empty."""
    seed: int = 0
    """Seeds the agent, its exploration and the env's episodes."""

    def make_env(self, suite: TaskSuite | None = None) -> MTLSchedulingEnv:
        suite = suite or load_suite(self.suite, self.data_dir, **self.suite_options)
        return MTLSchedulingEnv(suite, self.model, EnvConfig.of(self.env), self.trainer)


def train_agent(
    config: TrainAgentConfig, out: str | Path, progress_bar: bool = True, suite: TaskSuite | None = None
) -> dict:
    """Train, then write ``agent.zip``, ``curves.csv``, ``curves.png`` and ``config.json`` to ``out``,
    with SB3's log (``progress.csv``; TensorBoard event files when tensorboard is installed) and,
    when ``config.eval_every`` is set, ``best_agent.zip`` and ``evaluations.csv``.

    ``config.json`` holds the training settings, the env's observation settings (``observation``,
    the contract deployment checks) and the final exploration statistics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if suite is None:
        suite = load_suite(config.suite, config.data_dir, **config.suite_options)
    env = config.make_env(suite)
    agent = QLS(
        "MlpPolicy",
        env,
        exploration=config.exploration,
        exploration_kwargs=config.exploration_kwargs,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        tau=config.tau,
        target_update_interval=config.target_update_interval,
        batch_size=config.batch_size,
        buffer_size=config.buffer_size,
        learning_starts=config.learning_starts,
        train_freq=config.train_freq,
        seed=config.seed,
    )
    agent.set_logger(configure(str(out), log_formats()))
    recorder = CurveRecorder()
    callbacks = [recorder]
    if config.eval_every:
        run = schedule_runner(
            suite, config.eval_budget, model=config.model, env_config=config.env, trainer=config.trainer
        )
        callbacks.append(DeployedEvalCallback(run, out, config.eval_every, config.eval_seeds, config.deploy))
    start = time.perf_counter()
    agent.learn(config.timesteps, callback=CallbackList(callbacks), log_interval=1, progress_bar=progress_bar)
    wall_s = time.perf_counter() - start
    if agent.logger.name_to_value:
        agent.logger.dump(agent.num_timesteps)
    agent.logger.close()
    agent.save(out / "agent.zip")
    recorder.write_csv(out / "curves.csv")
    recorder.plot(out / "curves.png", env.suite.names)
    record = {
        "config": asdict(config),
        "observation": observation_settings(env.config),
        "wall_s": wall_s,
        "exploration": agent.explorer.stats(),
    }
    (out / CONFIG_FILE).write_text(json.dumps(record, indent=2))
    return record


def log_formats() -> list[str]:
    """SB3 logger outputs: CSV always, TensorBoard when it is installed (the ``tb`` extra)."""
    return ["csv"] + (["tensorboard"] if importlib.util.find_spec("tensorboard") else [])
