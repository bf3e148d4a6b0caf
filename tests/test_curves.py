"""Agent training curves: rolling means never mix two episodes."""

from __future__ import annotations

import numpy as np

from mtl_gym.agents.common.curves import episode_rolling_mean


def test_rolling_mean_restarts_at_each_episode():
    values = np.array([1.0, 3.0, 5.0, 10.0, 20.0, 30.0])
    episodes = np.array([0, 0, 0, 1, 1, 1])
    # Episode 0: 1, mean(1,3), mean(3,5); episode 1 starts afresh: 10, mean(10,20), mean(20,30).
    assert episode_rolling_mean(values, episodes, 2).tolist() == [1.0, 2.0, 4.0, 10.0, 15.0, 25.0]


def test_rolling_mean_keeps_interleaved_envs_apart():
    values = np.array([0.0, 100.0, 2.0, 200.0])
    runs = np.array([0, 1, 0, 1])  # two envs stepping in turn
    assert episode_rolling_mean(values, runs, 5).tolist() == [0.0, 100.0, 1.0, 150.0]
