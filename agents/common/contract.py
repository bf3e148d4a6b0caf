"""The contract between a trained agent and the env it is deployed in: the env's observation settings.

``train_agent`` writes them into the ``config.json`` beside ``agent.zip`` (key ``observation``);
deployment builds its env with them and refuses, in one line, an env whose settings differ. An
agent run on histograms of another uncertainty, bin count, hard-sample count, feature set or
decision length would still get observations of the right shape, and act on noise.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from mtl_gym.env import EnvConfig

OBSERVATION_SETTINGS = (
    "uncertainty",
    "bins",
    "hard_samples",
    "refresh_every",
    "hard_from",
    "features",
    "reward",
    "reward_set",
    "reward_samples",
    "steps_per_action",
)
"""EnvConfig fields that define what an observation means (those EnvConfig has are used): the
histograms, the feature groups, the reward settings behind the ``loss`` feature, and the length of a
decision. The penalty and episode settings are not among them: they shape training, not what the
agent reads."""

CONFIG_FILE = "config.json"


def observation_settings(config: EnvConfig | dict | None) -> dict[str, Any]:
    """The observation settings of ``config``, as JSON values (tuples become lists)."""
    config = EnvConfig.of(config)
    names = {f.name for f in dataclasses.fields(config)}
    settings = {name: getattr(config, name) for name in OBSERVATION_SETTINGS if name in names}
    return json.loads(json.dumps(settings))


def _record(agent_path: str | Path) -> dict[str, Any] | None:
    """The ``config.json`` beside ``agent_path``, or None if there is none."""
    path = Path(agent_path).parent / CONFIG_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def recorded_settings(agent_path: str | Path) -> dict[str, Any] | None:
    """The observation settings in the ``config.json`` beside ``agent_path``; None if there is none.
    A config.json written before they were recorded gives those of its training env's settings."""
    record = _record(agent_path)
    if record is None:
        return None
    if "observation" in record:
        return record["observation"]
    return observation_settings(record.get("config", {}).get("env"))


def recorded_deployment(agent_path: str | Path) -> dict[str, Any]:
    """The deployment settings (``deploy`` of its TrainAgentConfig, e.g. a temperature tuned by
    ``tune-agent``) in the ``config.json`` beside ``agent_path``; empty if there are none."""
    record = _record(agent_path) or {}
    return dict(record.get("config", {}).get("deploy") or {})


def deployment_config(recorded: dict[str, Any] | None, requested: EnvConfig | dict | None) -> EnvConfig:
    """``requested`` with the agent's observation settings wherever ``requested`` leaves a setting at
    its default; a setting given explicitly is kept, for :func:`check_env` to refuse if it differs."""
    requested = EnvConfig.of(requested)
    if not recorded:
        return requested
    defaults = observation_settings(EnvConfig())
    current = observation_settings(requested)
    changes = {
        name: value
        for name, value in recorded.items()
        if name in current and current[name] == defaults[name] and value != current[name]
    }
    return dataclasses.replace(requested, **changes) if changes else requested


def check_env(recorded: dict[str, Any] | None, config: EnvConfig, agent: str) -> None:
    """Raise one line naming every observation setting in which ``config`` differs from ``recorded``."""
    if not recorded:
        return
    current = observation_settings(config)
    differing = [name for name, value in recorded.items() if name in current and current[name] != value]
    if differing:
        trained = ", ".join(f"{name}={recorded[name]!r}" for name in differing)
        here = ", ".join(f"{name}={current[name]!r}" for name in differing)
        raise ValueError(
            f"agent {agent} was trained on observations with {trained} but this env has {here}; "
            "deploy it with its training env's settings (see its config.json) or train an agent for these"
        )


DEPLOYED_OBSERVE_EVERY = 64
"""Env steps between probe passes of a deployed agent unless ``observe_every`` is given (1: every
step). The agent still decides every step, on the last histograms and the current budget features.
Measured (docs/results/learned-schedulers.md, "Observing at a fraction of the cost"): the same
agents at a pass every 16 and every 64 steps scored within each other's intervals on the four
headroom suites (QLS at the default temperature: +1.95 / +2.4 points over uniform on
fsmtl-noisy-aux, +3.7 / +3.7 on synthetic-target-noise, -1.8 / -0.8 on synthetic-noisy-aux,
-6.0 / -5.7 on synthetic-imbalanced), and with the agents' hard samples re-chosen every 1,000 steps
a qls-paper preset deployment costs about 1.1x uniform's wall time (``benchmarks.deploy_overhead``)."""


def agent_env_config(agent: Any, requested: EnvConfig | dict | None = None) -> EnvConfig:
    """The settings of the env an agent is deployed in: ``requested`` with the observation settings
    recorded beside ``agent`` (a path to its agent.zip) wherever ``requested`` leaves them at their
    defaults (``requested`` as is for an agent object or a file without a config.json), probing
    every :data:`DEPLOYED_OBSERVE_EVERY` steps unless ``requested`` sets ``observe_every``."""
    requested = EnvConfig.of(requested)
    if requested.observe_every is None:
        requested = dataclasses.replace(requested, observe_every=DEPLOYED_OBSERVE_EVERY)
    if not isinstance(agent, str | Path):
        return requested
    return deployment_config(recorded_settings(agent), requested)
