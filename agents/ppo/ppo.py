"""MaskablePPO from sb3-contrib as a scheduler agent: the policy-gradient counterpart of QLS.

Same env, same state (the histogram of task uncertainty), same actions (tasks) and the same
action masks (``env.action_masks()``, read by sb3-contrib at every rollout step), so a user can
compare a value-based scheduler (``qls``) with a policy-gradient one (``ppo``) on equal terms.

Defaults differ from sb3-contrib's where our runs are short (as QLS's do from SB3's DQN): a rollout
of ``n_steps=128`` env steps (sb3-contrib: 2048, longer than most training runs here), minibatches
of 32 and 4 epochs per rollout, and a small entropy bonus (0.01) so that the policy does not
collapse on one task before the reward has told the tasks apart. Training always runs whole
rollouts, so ``timesteps`` is rounded up to a multiple of ``n_steps``; ``train_agent`` shortens the
default rollout to the whole run when ``timesteps`` is under 128.
"""

from __future__ import annotations

from typing import Any

from sb3_contrib import MaskablePPO

PPO_DEFAULTS: dict[str, Any] = {
    "n_steps": 128,
    "batch_size": 32,
    "n_epochs": 4,
    "gamma": 0.99,
    "ent_coef": 0.01,
}
"""Constructor arguments of :func:`make_ppo` where they differ from sb3-contrib's."""


def make_ppo(env: Any, learning_rate: float = 3e-4, seed: int | None = None, **kwargs: Any) -> MaskablePPO:
    """A MaskablePPO with an MLP actor-critic on ``env``; ``kwargs`` are MaskablePPO's (``n_steps``,
    ``batch_size``, ``n_epochs``, ``gamma``, ``gae_lambda``, ``clip_range``, ``ent_coef``, ...) and
    override :data:`PPO_DEFAULTS`."""
    return MaskablePPO("MlpPolicy", env, learning_rate=learning_rate, seed=seed, **{**PPO_DEFAULTS, **kwargs})
