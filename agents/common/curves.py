"""Training curves of an agent: a CSV row per env step and a PNG summary."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from mtl_gym.io import atomic_path


class CurveRecorder(BaseCallback):
    """Records timestep, env, episode, action and reward of every env step."""

    def __init__(self):
        super().__init__()
        self.rows: list[tuple[int, int, int, int, float]] = []
        self.episodes: list[int] = []

    def _on_training_start(self) -> None:
        self.episodes = [0] * self.training_env.num_envs

    def _on_step(self) -> bool:
        for env_index, (action, reward, done) in enumerate(
            zip(self.locals["actions"], self.locals["rewards"], self.locals["dones"], strict=True)
        ):
            self.rows.append(
                (self.num_timesteps, env_index, self.episodes[env_index], int(action), float(reward))
            )
            self.episodes[env_index] += int(done)
        return True

    def write_csv(self, path: Path) -> None:
        with atomic_path(path) as temporary, temporary.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestep", "env", "episode", "action", "reward"])
            writer.writerows(self.rows)

    def plot(self, path: Path, task_names: list[str], window: int = 50) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = np.array(self.rows, dtype=np.float64)
        steps, runs, actions, rewards = (
            rows[:, 0],
            rows[:, 1] * (rows[:, 2].max() + 1) + rows[:, 2],
            rows[:, 3],
            rows[:, 4],
        )
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        top.plot(steps, rewards, alpha=0.25, label="reward")
        top.plot(
            steps,
            episode_rolling_mean(rewards, runs, window),
            label=f"mean of the last {window} in the episode",
        )
        top.set_ylabel("reward")
        top.legend()
        shares = np.stack([episode_rolling_mean(actions == k, runs, window) for k in range(len(task_names))])
        bottom.stackplot(steps, shares, labels=task_names)
        bottom.set_ylabel("share of actions")
        bottom.set_xlabel("env step")
        bottom.legend(loc="upper left", fontsize="small")
        figure.tight_layout()
        with atomic_path(path) as temporary:
            figure.savefig(temporary, dpi=100)
        plt.close(figure)


def episode_rolling_mean(values: np.ndarray, episodes: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` values of the same episode (fewer at an episode's start),
    so that a mean never mixes the end of one episode (one env's run) with the start of the next.
    ``episodes`` labels each value's (env, episode)."""
    values = np.asarray(values, dtype=np.float64)
    means = np.empty_like(values)
    for episode in np.unique(episodes):
        where = np.flatnonzero(episodes == episode)
        sums = np.concatenate([[0.0], np.cumsum(values[where])])
        ends = np.arange(1, len(where) + 1)
        starts = np.maximum(0, ends - window)
        means[where] = (sums[ends] - sums[starts]) / (ends - starts)
    return means
