"""How close QLS's Q gets to its fixed point r / (1 - gamma) in a run as short as ours, per target update.

    python -m benchmarks.qls_td [--timesteps 2000,4000] [--taus 1@500,0.01,0.02,0.05,0.1,0.2] [--json]

A stand-in env with the scheduling env's shapes and reward scale but none of its cost: observations
are random task histograms (4 tasks x 20 bins), the reward is -2 + N(0, 0.05^2) whatever the action
(the paper's reward, minus the summed dev loss, is -1.5 to -2.8 on the synthetic suite), episodes
are 400 steps and truncated, so they are bootstrapped. The fixed point of every Q(s, a) is then
-2 / (1 - gamma) = -200. For each target update (``TAU@INTERVAL``; a bare TAU updates every step)
it trains QLS with its other defaults and reports the mean Q of the played actions over the last
200 steps' updates, as a fraction of -200, after each of ``--timesteps``.
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from mtl_gym.agents.qls import QLS

TASKS, BINS, EPISODE, REWARD, GAMMA = 4, 20, 400, -2.0, 0.99


class ConstantRewardEnv(gym.Env):
    observation_space = spaces.Box(0.0, 1.0, (TASKS * BINS,), dtype=np.float32)
    action_space = spaces.Discrete(TASKS)

    def _observe(self) -> np.ndarray:
        counts = self.np_random.dirichlet(np.ones(BINS), size=TASKS)
        return counts.reshape(-1).astype(np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._observe(), {"action_mask": np.ones(TASKS, dtype=bool)}

    def step(self, action):
        self.t += 1
        reward = REWARD + 0.05 * float(self.np_random.normal())
        return self._observe(), reward, False, self.t >= EPISODE, {"action_mask": np.ones(TASKS, dtype=bool)}

    def action_masks(self) -> np.ndarray:
        return np.ones(TASKS, dtype=bool)


class QTrace(BaseCallback):
    """Mean Q of the played actions (SB3's logger values ``train/q_mean``) at each checkpoint."""

    def __init__(self, checkpoints: list[int]):
        super().__init__()
        self.checkpoints = checkpoints
        self.recent: list[float] = []
        self.at: dict[int, float] = {}

    def _on_step(self) -> bool:
        value = self.model.logger.name_to_value.get("train/q_mean")
        if value is not None:
            self.recent = [*self.recent[-49:], float(value)]  # 50 updates = 200 steps at train_freq 4
        if self.num_timesteps in self.checkpoints:
            self.at[self.num_timesteps] = float(np.mean(self.recent))
        return True


def parse_update(text: str) -> tuple[float, int]:
    tau, _, interval = text.partition("@")
    return float(tau), int(interval or 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timesteps", default="2000,4000")
    parser.add_argument("--taus", default="1@500,0.01,0.02,0.05,0.1,0.2")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoints = [int(t) for t in args.timesteps.split(",")]
    fixed_point = REWARD / (1 - GAMMA)
    report = {}
    for update in args.taus.split(","):
        tau, interval = parse_update(update)
        agent = QLS(
            "MlpPolicy",
            ConstantRewardEnv(),
            tau=tau,
            target_update_interval=interval,
            learning_rate=args.learning_rate,
            gamma=GAMMA,
            seed=args.seed,
        )
        trace = QTrace(checkpoints)
        agent.learn(max(checkpoints), callback=trace)
        report[update] = {t: round(q / fixed_point, 3) for t, q in trace.at.items()}
        if not args.json:
            cells = ", ".join(f"{t} steps: Q = {q:.1f} ({q / fixed_point:.0%})" for t, q in trace.at.items())
            print(f"tau {tau} every {interval}: {cells}", flush=True)
    if args.json:
        print(json.dumps({"fixed_point": fixed_point, "fraction_of_fixed_point": report}, indent=2))


if __name__ == "__main__":
    main()
