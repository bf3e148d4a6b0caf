"""The agents that ``train_agent`` trains, by ``TrainAgentConfig.algorithm``: how each is built on the
env and which scheduler deploys it (``mtl-gym run --method NAME --agent agent.zip``).

- ``qls``: value-based, :class:`~mtl_gym.agents.qls.QLS` (DQN with Boltzmann-Gumbel exploration);
  ``exploration``, ``exploration_kwargs`` apply;
- ``ppo``: policy gradient, sb3-contrib's MaskablePPO (:mod:`mtl_gym.agents.ppo`); exploration comes
  from its stochastic policy (and ``ent_coef``), so ``exploration`` is ignored.

``algorithm_kwargs`` go to the agent's constructor under SB3's names. The agent is built on
``TrainAgentConfig.device``, resolved here (``auto``: CUDA when torch sees a GPU), unless
``algorithm_kwargs`` names a ``device`` of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sb3_contrib import MaskablePPO
from stable_baselines3.common.base_class import BaseAlgorithm

from mtl_gym.training import resolve_device

from .ppo import PPO_DEFAULTS, PPOScheduler, make_ppo
from .qls.qls import QLS
from .qls.scheduler import QLSScheduler


@dataclass(frozen=True)
class Algorithm:
    name: str
    build: Callable[[Any, Any], BaseAlgorithm]
    """(config, env) -> the untrained agent."""
    scheduler: type
    """The method (a Configurable of kind agent) that deploys a trained one: ``scheduler(agent)``."""
    cls: type[BaseAlgorithm]
    """The SB3 class whose saved agents ``load_agent`` rebuilds."""
    fast_env_features: dict = field(default_factory=dict)
    """FeatureConfig fields of the fast env this algorithm trains on unless ``features`` sets them:
    each algorithm's by measurement (docs/agents.md)."""


def constructor_kwargs(config: Any) -> dict[str, Any]:
    """``algorithm_kwargs`` with the agent's ``device``: the config's, resolved, unless they name one."""
    return {"device": resolve_device(config.device), **config.algorithm_kwargs}


def _qls(config: Any, env: Any) -> QLS:
    return QLS(
        "MlpPolicy",
        env,
        exploration=config.exploration,
        exploration_kwargs=config.exploration_kwargs,
        learning_rate=config.learning_rate,
        seed=config.seed,
        **constructor_kwargs(config),
    )


def _ppo(config: Any, env: Any) -> BaseAlgorithm:
    if config.exploration_kwargs:
        raise ValueError("exploration_kwargs are QLS settings; PPO explores through its policy (ent_coef)")
    kwargs = constructor_kwargs(config)
    if "n_steps" not in kwargs and config.timesteps < PPO_DEFAULTS["n_steps"]:
        # A short run still updates the policy: one rollout of the whole run, not of 128 steps.
        kwargs["n_steps"] = max(2, config.timesteps)
        kwargs.setdefault("batch_size", min(PPO_DEFAULTS["batch_size"], kwargs["n_steps"]))
    return make_ppo(env, learning_rate=config.learning_rate, seed=config.seed, **kwargs)


ALGORITHMS: dict[str, Algorithm] = {
    "qls": Algorithm("qls", _qls, QLSScheduler, QLS),
    # PPO keeps the 1,200-minibatch encoder: with QLS's 50 its deterministic agents collapsed onto one
    # task on three of four headroom suites (-28 to -36 points; docs/agents.md, "A second agent: PPO").
    "ppo": Algorithm("ppo", _ppo, PPOScheduler, MaskablePPO, {"encoder_budget": 1200}),
}


def algorithm(name: str) -> Algorithm:
    if name not in ALGORITHMS:
        raise ValueError(f"unknown agent algorithm {name!r}; expected one of {sorted(ALGORITHMS)}")
    return ALGORITHMS[name]


def build_agent(config: Any, env: Any) -> BaseAlgorithm:
    """The untrained agent of ``config`` (a TrainAgentConfig) on ``env``."""
    try:
        return algorithm(config.algorithm).build(config, env)
    except TypeError as err:  # an algorithm_kwargs key the constructor does not take
        raise ValueError(f"algorithm {config.algorithm!r}: {err}") from None
