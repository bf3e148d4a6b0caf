"""The search spaces of ``mtl-gym tune-agent``, one frozen dataclass per algorithm, in the style of
rl-baselines3-zoo's ``hyperparams_opt.py``: each field is a range (``(low, high)``, sampled on a log
scale where the name says so) or a tuple of choices, documented with the reasoning behind it.

A space samples one trial's :class:`TrainAgentConfig` from the base config of the command line.
Budgets are held in task-minibatches: when a trial samples another ``steps_per_action`` (training
steps per decision), its ``timesteps`` and ``episode_steps`` (counted in decisions) are rescaled, so
that every trial trains the MTL model for as many minibatches as the base config says.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from mtl_gym.env import EnvConfig

from ..qls.train import TrainAgentConfig


def _log_float(trial: Any, name: str, bounds: tuple[float, float]) -> float:
    return trial.suggest_float(name, *bounds, log=True)


def _choice(trial: Any, name: str, choices: tuple) -> Any:
    return trial.suggest_categorical(name, list(choices))


def rescale(base: TrainAgentConfig, steps_per_action: int) -> TrainAgentConfig:
    """``base`` at ``steps_per_action`` training steps per decision, with its timesteps and episode
    length (both in decisions) rescaled to the same task-minibatches."""
    env = EnvConfig.of(base.env)
    ratio = env.steps_per_action / steps_per_action
    return dataclasses.replace(
        base,
        env={
            **base.env,
            "steps_per_action": steps_per_action,
            "episode_steps": max(1, math.ceil(env.episode_steps * ratio)),
        },
        timesteps=max(1, math.ceil(base.timesteps * ratio)),
    )


@dataclass(frozen=True)
class QLSSpace:
    """QLS (DQN + Boltzmann-Gumbel exploration). Runs here are thousands of steps, not millions, so
    the ranges sit lower than rl-zoo's DQN ranges for Atari."""

    learning_rate: tuple[float, float] = (1e-4, 3e-3)
    """Log scale; QLS's default 1e-3 sits inside."""
    gamma: tuple[float, ...] = (0.9, 0.95, 0.98, 0.99)
    """Discount; the paper uses 0.99, but the reward (dev loss) is dense and episodes short."""
    c: tuple[float, float] = (0.1, 10.0)
    """Log scale; Boltzmann-Gumbel's exploration scale (beta_a = c / sqrt(N_a), in the units the
    base config's ``exploration_kwargs`` say: the running spread of Q by default)."""
    batch_size: tuple[int, ...] = (16, 32, 64, 128)
    """Replay minibatch."""
    learning_starts: tuple[int, int] = (10, 500)
    """Log scale; random warm-up steps before the first update (capped at half the timesteps)."""
    tau: tuple[float, float] = (0.005, 1.0)
    """Log scale; the soft target update's rate, applied every env step (QLS's default: 0.1;
    1 copies the Q-network to its target every step). The interval stays QLS's 1: an interval of N
    with tau < 1 would move the target by only about tau / N a step."""
    train_freq: tuple[int, ...] = (1, 4, 8)
    """Env steps between updates."""
    steps_per_action: tuple[int, ...] = (1, 2, 4)
    """Env setting: training steps on the chosen task per decision."""
    temperature: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
    """Deployment: the softmax temperature (``qls:temperature=``) of the evaluations, so the study
    picks it by dev accuracy; it lands in ``deploy`` of best_config.json, and an agent trained from
    that config deploys with it by default."""

    def sample(self, trial: Any, base: TrainAgentConfig) -> TrainAgentConfig:
        config = rescale(base, _choice(trial, "steps_per_action", self.steps_per_action))
        deploy = {**base.deploy, "temperature": _choice(trial, "temperature", self.temperature)}
        learning_starts = trial.suggest_int("learning_starts", *self.learning_starts, log=True)
        kwargs = {
            "gamma": _choice(trial, "gamma", self.gamma),
            "batch_size": _choice(trial, "batch_size", self.batch_size),
            "learning_starts": min(learning_starts, max(1, config.timesteps // 2)),
            "tau": _log_float(trial, "tau", self.tau),
            "train_freq": _choice(trial, "train_freq", self.train_freq),
        }
        return dataclasses.replace(
            config,
            algorithm="qls",
            learning_rate=_log_float(trial, "learning_rate", self.learning_rate),
            exploration="boltzmann-gumbel",
            exploration_kwargs={**base.exploration_kwargs, "c": _log_float(trial, "c", self.c)},
            algorithm_kwargs={**base.algorithm_kwargs, **kwargs},
            deploy=deploy,
        )


@dataclass(frozen=True)
class PPOSpace:
    """MaskablePPO. Rollouts are short (tens to hundreds of decisions) so that a small budget still
    holds several policy updates."""

    learning_rate: tuple[float, float] = (1e-5, 3e-3)
    """Log scale."""
    gamma: tuple[float, ...] = (0.9, 0.95, 0.98, 0.99)
    """Discount."""
    gae_lambda: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98, 1.0)
    """GAE's bias-variance trade-off."""
    n_steps: tuple[int, ...] = (16, 32, 64, 128)
    """Env steps per rollout (one policy update per rollout)."""
    batch_size: tuple[int, ...] = (8, 16, 32, 64)
    """Minibatch of the update; capped at n_steps."""
    n_epochs: tuple[int, ...] = (1, 3, 5, 10)
    """Passes over each rollout."""
    clip_range: tuple[float, ...] = (0.1, 0.2, 0.3)
    """PPO's ratio clip."""
    ent_coef: tuple[float, float] = (1e-4, 0.1)
    """Log scale; the entropy bonus, PPO's exploration."""
    steps_per_action: tuple[int, ...] = (1, 2, 4)
    """Env setting: training steps on the chosen task per decision."""

    def sample(self, trial: Any, base: TrainAgentConfig) -> TrainAgentConfig:
        config = rescale(base, _choice(trial, "steps_per_action", self.steps_per_action))
        n_steps = _choice(trial, "n_steps", self.n_steps)
        kwargs = {
            "gamma": _choice(trial, "gamma", self.gamma),
            "gae_lambda": _choice(trial, "gae_lambda", self.gae_lambda),
            "n_steps": n_steps,
            "batch_size": min(_choice(trial, "batch_size", self.batch_size), n_steps),
            "n_epochs": _choice(trial, "n_epochs", self.n_epochs),
            "clip_range": _choice(trial, "clip_range", self.clip_range),
            "ent_coef": _log_float(trial, "ent_coef", self.ent_coef),
        }
        return dataclasses.replace(
            config,
            algorithm="ppo",
            learning_rate=_log_float(trial, "learning_rate", self.learning_rate),
            exploration_kwargs={},
            algorithm_kwargs={**base.algorithm_kwargs, **kwargs},
        )


SPACES: dict[str, Any] = {"qls": QLSSpace(), "ppo": PPOSpace()}
"""The search space of each algorithm."""
