"""QLS: the Q-learning scheduler of "Learning to schedule multi-task training" (QLS paper §4.3-4.4).

A DQN (Stable-Baselines3's, extended rather than rewritten) whose state is the env's histogram of
task uncertainty and whose actions are tasks. What differs from SB3's DQN:

- exploration is Boltzmann-Gumbel (§4.3) by default, or annealed Boltzmann or epsilon-greedy;
- action masks hold end to end: warm-up sampling, exploration and greedy choice range over
  allowed actions only, and the TD target maxes over the next state's allowed actions, with the
  mask stored alongside each transition (SB3's DQN has no masking);
- ``predict`` takes ``action_masks=`` the way sb3-contrib's MaskablePPO does.

Paper defaults: gamma = 0.99, nb = 20 bins (an env setting), randomly initialised Q-values (SB3's
default initialisation of the Q-network).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from stable_baselines3 import DQN
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.utils import polyak_update

from ..common.buffers import MaskableNStepReplayBuffer, MaskableReplayBuffer, MaskableReplayBufferSamples
from ..common.masking import MASK_KEY, env_action_masks, masked_argmax, random_allowed
from .exploration import EXPLORATIONS, Exploration

TAU = 0.1
"""Default soft target update rate (Polyak weight of the online net, every gradient step); measured in
``benchmarks/qls_td.py`` (docs/agents.md, "QLS") when it moved once per env step, and the known-answer
bandit and noise checks pass at 0.01, 0.1 and 0.3 per gradient step (``benchmarks/known_answer.py``)."""


LEARNING_RATE = 1e-3
"""Default Adam step size of the Q-network, train-agent's too. SB3's DQN default (1e-4) is tuned for
millions of Atari steps: at it, QLS learned a 4-state masked contextual bandit (continuing episodes,
gamma 0.99) in 1-2 of 3 states after 4,000 and 12,000 steps on seeds 0-2; at 1e-3, 3 of 3 on every
seed at both lengths (``benchmarks/known_answer.py``)."""


class QLS(DQN):
    """DQN with Boltzmann-Gumbel exploration and action masking.

    :param exploration: ``boltzmann-gumbel`` (the paper's), ``boltzmann`` (temperature annealed
        over training, as the paper's text describes) or ``epsilon-greedy`` (for comparison).
    :param exploration_kwargs: the strategy's settings: ``c`` and ``scale`` for Boltzmann-Gumbel
        (beta_a = c / sqrt(N_a), c in units of the running spread of Q across actions, or of Q
        itself with ``scale="absolute"``); ``initial``, ``final``, ``fraction`` for the others.
    Other arguments are SB3 DQN's; ``n_steps`` > 1 (n-step returns) stores transitions in
    :class:`MaskableNStepReplayBuffer`. Defaults differ from SB3's where our runs are short (2,000-10,000
    env steps): soft target updates every gradient step, ``tau=TAU`` with ``target_update_interval=1``
    counted in gradient steps (SB3 counts it in env steps and moves the target once per vector step,
    however many gradient steps there were; SB3:
    a hard copy every 10,000 steps, longer than most runs here; a hard copy every 500 steps gives
    only 4-8 Bellman backups in a run, and Q stays far from its fixed point r / (1 - gamma)),
    ``learning_rate=LEARNING_RATE`` (1e-3; SB3: 1e-4) and ``learning_starts=100``. ``gradient_steps``
    defaults to the number of envs, so that every env count keeps SB3's single-env ratio of one
    update per ``train_freq`` (4) transitions; SB3's 1 update per ``train_freq`` vector steps left an
    agent on the fast env (64 runs) with 78 updates in 20,000 decisions, and 2 of 3 seeds then
    preferred a pure-noise task to the target (``benchmarks/known_answer.py``).
    """

    def __init__(
        self,
        policy: str | type = "MlpPolicy",
        env: Any = None,
        exploration: str = "boltzmann-gumbel",
        exploration_kwargs: dict | None = None,
        gamma: float = 0.99,
        learning_rate: float = LEARNING_RATE,
        learning_starts: int = 100,
        tau: float = TAU,
        target_update_interval: int = 1,
        gradient_steps: int | None = None,
        **kwargs: Any,
    ):
        if exploration not in EXPLORATIONS:
            raise ValueError(f"unknown exploration {exploration!r}; expected one of {sorted(EXPLORATIONS)}")
        self.exploration = exploration
        self.exploration_kwargs = dict(exploration_kwargs or {})
        if kwargs.get("n_steps", 1) > 1 and "replay_buffer_class" not in kwargs:
            # SB3 sets up its n-step buffer only when no buffer class is given; this is its masked one.
            kwargs["replay_buffer_class"] = MaskableNStepReplayBuffer
            kwargs["replay_buffer_kwargs"] = {
                "n_steps": kwargs["n_steps"],
                "gamma": gamma,
                **kwargs.get("replay_buffer_kwargs", {}),
            }
        kwargs.setdefault("replay_buffer_class", MaskableReplayBuffer)
        super().__init__(
            policy,
            env,
            gamma=gamma,
            learning_rate=learning_rate,
            learning_starts=learning_starts,
            tau=tau,
            target_update_interval=target_update_interval,
            gradient_steps=1 if gradient_steps is None else gradient_steps,
            **kwargs,
        )
        if gradient_steps is None:
            # SB3 counts train_freq in vector steps, so one update per call would spread one update
            # over train_freq x n_envs transitions: 1/256 of them with the fast env's 64 runs.
            self.gradient_steps = getattr(self, "n_envs", 1)  # unset until an env is given

    def _setup_model(self) -> None:
        with warnings.catch_warnings():
            # It warns that the target moves once per vector step; here it moves per gradient step.
            warnings.filterwarnings("ignore", message="The number of environments used is greater")
            if issubclass(self.replay_buffer_class, MaskableNStepReplayBuffer):
                # It warns that n_steps is ignored for a custom buffer; this one takes it (__init__).
                warnings.filterwarnings("ignore", message="`n_steps=")
            super()._setup_model()
        rng = np.random.default_rng(self.seed)
        self.explorer: Exploration = EXPLORATIONS[self.exploration](
            int(self.action_space.n), rng, **self.exploration_kwargs
        )

    # -- acting ---------------------------------------------------------------------------------

    def q_values(self, observation: np.ndarray) -> tuple[np.ndarray, bool]:
        """Q-values ``[n, n_actions]`` and whether ``observation`` was a batch."""
        tensor, vectorized = self.policy.obs_to_tensor(observation)
        with torch.no_grad():
            return self.q_net(tensor).cpu().numpy(), vectorized

    def _masks(self, action_masks: np.ndarray | None, rows: int) -> np.ndarray:
        if action_masks is None:
            if self.env is None:
                return np.ones((rows, int(self.action_space.n)), dtype=bool)
            return env_action_masks(self.env)
        return np.asarray(action_masks, dtype=bool).reshape(rows, -1)

    def predict(
        self,
        observation: np.ndarray,
        state: tuple[np.ndarray, ...] | None = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = False,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...] | None]:
        """Greedy (``deterministic``) or exploratory actions over the allowed ones. Without
        ``action_masks`` the masks come from the agent's env, else every action is allowed."""
        q_values, vectorized = self.q_values(observation)
        masks = self._masks(action_masks, len(q_values))
        if deterministic:
            actions = masked_argmax(q_values, masks)
        else:
            actions = self.explorer.choose(q_values, masks, self._current_progress_remaining)
        return (actions if vectorized else actions[0]), state

    def _sample_action(
        self, learning_starts: int, action_noise=None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        masks = env_action_masks(self.env)
        if self.num_timesteps < learning_starts:
            actions = random_allowed(masks, self.explorer.rng)
        else:
            q_values, _ = self.q_values(self._last_obs)
            actions = self.explorer.choose(q_values, masks, self._current_progress_remaining)
        self.explorer.record(actions)
        for name, value in self.explorer.stats().items():
            self.logger.record(f"exploration/{name}", value)
        return actions, actions

    def _store_transition(
        self, replay_buffer: ReplayBuffer, buffer_action, new_obs, reward, dones, infos
    ) -> None:
        # An env that reports its next-state mask in info is read from there (right under
        # autoreset); otherwise the env is asked, which is right for every transition that does not
        # end an episode, and a terminated one is never bootstrapped.
        missing = [i for i, info in enumerate(infos) if MASK_KEY not in info]
        if missing:
            masks = env_action_masks(self.env)
            for i in missing:
                infos[i][MASK_KEY] = masks[i]
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def _on_step(self) -> None:
        # SB3's DQN updates the target here, once per vector step whatever the number of gradient
        # steps; QLS updates it in :meth:`train`, once per gradient step (and logs no epsilon).
        self._n_calls += 1

    # -- learning -------------------------------------------------------------------------------

    def td_target(self, replay_data: MaskableReplayBufferSamples) -> torch.Tensor:
        """r + gamma (1 - done) max over the next state's *allowed* actions of Q_target."""
        discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
        with torch.no_grad():
            next_q = self.q_net_target(replay_data.next_observations)
            next_q = next_q.masked_fill(~replay_data.next_action_masks, -torch.inf).max(dim=1).values
            # A final state may mask every action; it is never bootstrapped, but 0 * -inf is NaN.
            next_q = torch.where(torch.isfinite(next_q), next_q, torch.zeros_like(next_q)).reshape(-1, 1)
            return replay_data.rewards + (1 - replay_data.dones) * discounts * next_q

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3 DQN's update, with the masked TD target of :meth:`td_target`."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses, q_means, target_means = [], [], []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            target = self.td_target(replay_data)
            current = torch.gather(
                self.q_net(replay_data.observations), dim=1, index=replay_data.actions.long()
            )
            loss = F.smooth_l1_loss(current, target)
            losses.append(loss.item())
            q_means.append(current.mean().item())
            target_means.append(target.mean().item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self.q_net.parameters(), self.q_net_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
        # Q of the played actions and its TD target: how close Q is to its fixed point r / (1 - gamma).
        self.logger.record("train/q_mean", np.mean(q_means))
        self.logger.record("train/td_target_mean", np.mean(target_means))
