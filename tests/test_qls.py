"""The QLS agent: learning, masking end to end, Boltzmann-Gumbel, persistence, deployment."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv

from mtl_gym.agents import QLS, QLSScheduler
from mtl_gym.agents.common.buffers import MaskableNStepReplayBuffer, MaskableReplayBufferSamples
from mtl_gym.agents.common.known_answer import (
    IMBALANCED_ANSWER,
    SCORED_STATES,
    MaskedContextualBandit,
    imbalanced_training,
    noise_share,
    noise_training,
    optimal_states,
    share_distance,
)
from mtl_gym.agents.common.masking import MASK_KEY
from mtl_gym.agents.common.serialization import save_agent
from mtl_gym.agents.qls import AnnealedBoltzmann, BoltzmannGumbel, EpsilonGreedy, train_agent
from mtl_gym.env import MTLSchedulingEnv, run_schedule

BEST = [2, 0, 3, 1]
MASKS = np.array(
    [
        [True, True, True, False],
        [True, False, True, True],
        [False, True, True, True],
        [True, True, False, True],
    ]
)


class MaskedBandit(gym.Env):
    """A contextual bandit: 4 states (one-hot), 4 actions, reward 1 for the state's best allowed
    action and 0 otherwise; each state masks one action. One step per episode."""

    def __init__(self, report_mask: bool = True):
        self.observation_space = spaces.Box(0.0, 1.0, (4,), dtype=np.float32)
        self.action_space = spaces.Discrete(4)
        self.report_mask = report_mask

    def _observe(self):
        observation = np.zeros(4, dtype=np.float32)
        observation[self.state] = 1.0
        return observation

    def _info(self):
        return {"action_mask": MASKS[self.state].copy()} if self.report_mask else {}

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = int(self.np_random.integers(4))
        return self._observe(), self._info()

    def step(self, action):
        if not MASKS[self.state][action]:
            raise AssertionError(f"masked action {action} played in state {self.state}")
        reward = float(action == BEST[self.state])
        return self._observe(), reward, True, False, self._info()

    def action_masks(self):
        return MASKS[self.state].copy()


def bandit_agent(**kwargs):
    return QLS(
        "MlpPolicy",
        MaskedBandit(),
        seed=0,
        learning_starts=100,
        train_freq=1,
        target_update_interval=50,
        learning_rate=3e-3,
        policy_kwargs={"net_arch": [32]},
        **kwargs,
    )


def greedy_accuracy(agent, episodes=200):
    env = MaskedBandit()
    hits = 0
    for episode in range(episodes):
        observation, info = env.reset(seed=episode)
        action, _ = agent.predict(observation, deterministic=True, action_masks=info["action_mask"])
        hits += int(action) == BEST[env.state]
    return hits / episodes


@pytest.mark.slow
@pytest.mark.parametrize("exploration", ["boltzmann-gumbel", "boltzmann", "epsilon-greedy"])
def test_learns_the_best_allowed_action(exploration):
    kwargs = {"exploration_kwargs": {"c": 0.5}} if exploration == "boltzmann-gumbel" else {}
    agent = bandit_agent(exploration=exploration, **kwargs)
    agent.learn(1500)
    assert greedy_accuracy(agent) >= 0.95


@pytest.mark.parametrize("strategy", [BoltzmannGumbel, AnnealedBoltzmann, EpsilonGreedy])
def test_exploration_never_picks_a_masked_action(strategy):
    rng = np.random.default_rng(0)
    explorer = strategy(6, np.random.default_rng(1))
    explorer.record(np.arange(6))
    masks = rng.random((10_000, 6)) < 0.5
    masks[np.arange(10_000), rng.integers(6, size=10_000)] = True
    q_values = rng.normal(size=(10_000, 6)) * 5
    q_values[~masks] += 100.0  # masked actions look best: a leak would show at once
    actions = explorer.choose(q_values, masks, progress_remaining=0.5)
    assert masks[np.arange(10_000), actions].all()
    assert len(np.unique(actions)) == 6


def test_warm_up_and_agent_exploration_respect_masks():
    agent = bandit_agent()
    agent.learn(300)  # 100 warm-up random steps, then Boltzmann-Gumbel; the env raises on a masked action
    stored = agent.replay_buffer.actions[: agent.replay_buffer.size(), 0, 0].astype(int)
    states = agent.replay_buffer.observations[: agent.replay_buffer.size(), 0].argmax(axis=1)
    assert MASKS[states, stored].all()
    observations = np.eye(4, dtype=np.float32)[np.arange(10_000) % 4]
    actions, _ = agent.predict(observations, deterministic=False, action_masks=MASKS[np.arange(10_000) % 4])
    assert MASKS[np.arange(10_000) % 4, actions].all()


def test_boltzmann_gumbel_beta_is_c_over_sqrt_n():
    explorer = BoltzmannGumbel(3, np.random.default_rng(0), c=2.0)
    assert np.isinf(explorer.betas()).all()
    # unplayed allowed actions are played first, lowest index first
    assert explorer.choose(np.array([[5.0, 0.0, 0.0]]), np.array([[False, True, True]]), 1.0).tolist() == [1]
    explorer.record(np.array([0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2]))
    assert np.allclose(explorer.betas(), [2.0, 1.0, 2.0 / 3.0])
    assert explorer.stats()["min_action_count"] == 1.0


class FixedQ(torch.nn.Module):
    def __init__(self, values):
        super().__init__()
        self.values = torch.tensor(values)

    def forward(self, observations):
        return self.values


def test_masked_td_target_matches_hand_computation():
    agent = bandit_agent(gamma=0.9)
    agent.q_net_target = FixedQ([[1.0, 5.0, 2.0, 0.0], [3.0, -1.0, 4.0, 9.0], [7.0, 0.0, 0.0, 0.0]])
    batch = MaskableReplayBufferSamples(
        observations=torch.zeros(3, 4),
        actions=torch.zeros(3, 1),
        next_observations=torch.zeros(3, 4),
        dones=torch.tensor([[0.0], [0.0], [1.0]]),
        rewards=torch.tensor([[1.0], [0.5], [2.0]]),
        next_action_masks=torch.tensor(
            [[True, False, True, True], [True, True, True, False], [False, False, False, False]]
        ),
    )
    target = agent.td_target(batch)
    # row 0: max over {1, 2, 0} = 2 (the masked 5 ignored); row 1: max over {3, -1, 4} = 4 (9 masked);
    # row 2: terminal with every action masked: no bootstrap, no NaN.
    assert torch.allclose(target, torch.tensor([[1.0 + 0.9 * 2.0], [0.5 + 0.9 * 4.0], [2.0]]))


class MaskShiftsAtEnd(gym.Env):
    """Two-step episodes whose terminal state allows only action 1 and whose reset state allows all."""

    observation_space = spaces.Box(0.0, 1.0, (2,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):
        self.t += 1
        return (
            np.full(2, self.t / 2, np.float32),
            0.0,
            False,
            self.t == 2,
            {"action_mask": self.action_masks()},
        )

    def action_masks(self):
        return np.array([self.t < 2, True])


def test_terminal_mask_comes_from_info_under_autoreset():
    agent = QLS("MlpPolicy", DummyVecEnv([MaskShiftsAtEnd]), seed=0, learning_starts=10)
    agent.learn(6)
    masks = agent.replay_buffer.next_action_masks[:6, 0]
    # every second transition ends the episode (truncated): its next-state mask is the terminal
    # one [False, True], although the autoreset env now allows both actions.
    assert masks[1::2].tolist() == [[False, True]] * 3 and masks[0::2].tolist() == [[True, True]] * 3


@pytest.mark.parametrize("n_envs", [1, 3])
def test_n_step_samples_carry_the_mask_of_the_state_they_bootstrap_from(n_envs):
    """Every stored next state is a number, and its mask allows that number's action alone; with
    episodes ending at random (dones and timeouts) and the buffer wrapping around, each n-step
    sample's mask must be its next state's, wherever the n-step window stopped."""
    steps = 45
    actions = spaces.Discrete(steps * n_envs)
    space = spaces.Box(0.0, float(steps * n_envs), (1,), dtype=np.float32)
    buffer = MaskableNStepReplayBuffer(30, space, actions, n_envs=n_envs, n_steps=4, gamma=0.9)
    rng = np.random.default_rng(0)
    for t in range(steps):
        states = t * n_envs + np.arange(n_envs)
        infos = [
            {MASK_KEY: np.arange(actions.n) == state, "TimeLimit.truncated": bool(rng.random() < 0.1)}
            for state in states
        ]
        dones = rng.random(n_envs) < 0.2
        buffer.add(
            np.zeros((n_envs, 1)), states[:, None], np.zeros((n_envs, 1)), np.ones(n_envs), dones, infos
        )
    np.random.seed(0)
    samples = buffer.sample(300)
    assert (samples.rewards > 1.0).any(), "some returns must span several steps"
    bootstrapped = samples.next_observations[:, 0].long()
    assert torch.equal(samples.next_action_masks.long().argmax(dim=1), bootstrapped)


def test_masks_from_env_when_info_lacks_them():
    agent = QLS("MlpPolicy", MaskedBandit(report_mask=False), seed=0, learning_starts=50)
    agent.learn(60)
    assert agent.replay_buffer.size() == 60
    observation, _ = agent.env.envs[0].reset(seed=3)
    state = int(observation.argmax())
    for _ in range(20):
        action, _ = agent.predict(observation, deterministic=False)
        assert MASKS[state, action]


def test_save_load_round_trip(tmp_path):
    agent = bandit_agent()
    agent.learn(400)
    agent.save(tmp_path / "agent.zip")
    loaded = QLS.load(tmp_path / "agent.zip")
    observations = np.random.default_rng(0).random((50, 4)).astype(np.float32)
    masks = MASKS[np.arange(50) % 4]
    first, _ = agent.predict(observations, deterministic=True, action_masks=masks)
    second, _ = loaded.predict(observations, deterministic=True, action_masks=masks)
    assert np.array_equal(first, second) and loaded.exploration == "boltzmann-gumbel"


def test_qls_scheduler_in_the_runner(small_suite, tmp_path):
    model = {"name": "cnn", "embedding_dim": 32, "hidden_dim": 24}
    env = MTLSchedulingEnv(small_suite, model, {"episode_steps": 30})
    agent = QLS("MlpPolicy", env, seed=0, learning_starts=10)
    agent.learn(40)
    save_agent(agent, tmp_path / "agent.zip")
    result = run_schedule(
        QLSScheduler(tmp_path / "agent.zip"), small_suite, budget=12, model=model, method="qls"
    )
    assert sum(result.action_counts.values()) == 12
    with pytest.raises(ValueError, match="trained for observations"):
        run_schedule(QLSScheduler(agent), small_suite, budget=4, model=model, env_config={"bins": 5})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_the_known_answer_bandit_at_its_defaults(seed):
    """Issue 21's check: at QLS's own defaults (gamma 0.99, continuing episodes), every scored state
    within 4,000 steps. At SB3's learning rate (1e-4) it got 1-2 of 3."""
    agent = QLS("MlpPolicy", MaskedContextualBandit(), seed=seed)
    agent.learn(4000)
    assert optimal_states(agent) == len(SCORED_STATES)


def test_gives_a_pure_noise_task_at_most_a_tenth_of_the_budget(tmp_path):
    """Issue 21's second check: trained on the fast env of a target + pure-noise suite at the agent
    defaults, the agent deployed at its default (softmax at TEMPERATURE) and greedily (the QLS
    paper's deployment) spends at most 10% of the budget on the noise. On two tasks the default
    softmax gives the less preferred task 0.065 at every decision, so the default passes only if
    the agent prefers the target; greedy passes only if it always does."""
    train_agent(noise_training(seed=0), tmp_path, progress_bar=False)
    assert noise_share(tmp_path / "agent.zip") <= 0.10
    assert noise_share(tmp_path / "agent.zip", {"policy": "greedy"}) <= 0.10


def test_known_answer_settings_merge_their_env_into_the_checks():
    """``--agent-config '{"env": {...}}'`` adds to a check's env: the noise check keeps its target
    objective and budget, the imbalanced check its budget."""
    noise = noise_training(0, env={"reference": None}).env_config()
    assert (noise.objective, noise.episode_steps, noise.reference) == ("target:target", 200, None)
    imbalanced = imbalanced_training(0, env={"reference": None, "refresh_every": 50}).env_config()
    assert (imbalanced.episode_steps, imbalanced.reference, imbalanced.refresh_every) == (600, None, 50)
    assert imbalanced_training(0).env_config().reference == "auto"


def test_share_distance_is_the_l1_distance_of_two_mixtures():
    uniform = {task: 0.25 for task in IMBALANCED_ANSWER}
    # |0.25-0.57| + |0.25-0.25| + |0.25-0.14| + |0.25-0.04| = 0.32 + 0 + 0.11 + 0.21
    assert share_distance(uniform) == pytest.approx(0.64)
    assert share_distance(IMBALANCED_ANSWER) == 0
    with pytest.raises(ValueError, match="different tasks"):
        share_distance({"books": 1.0})
