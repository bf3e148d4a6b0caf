"""Online Data Mixing (ODM) of Albalak et al. 2023: an EXP3 bandit over tasks, rewarded by the
trained task's loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mtl_gym.env import MTLSchedulingEnv

from .base import SamplingScheduler, allowed_tasks


@dataclass(frozen=True)
class ODMHyperparameters:
    smoothing: float = 0.9
    """α, the moving-average weight of the old reward estimate (the paper's 0.9)."""

    def __post_init__(self) -> None:
        if not 0 <= self.smoothing < 1:
            raise ValueError(f"smoothing must lie in [0, 1), got {self.smoothing}")


class ODM(SamplingScheduler):
    """EXP3 over the K allowed tasks with a decaying exploration rate, rewarded by training loss.

    Before decision t (t = 1, 2, ...), with ε_t = min(1/K, sqrt(ln K / (K t))),

        π_t(i) = (1 - K ε_t) exp(ε_{t-1} R_i) / Σ_j exp(ε_{t-1} R_j) + ε_t,

    and after training task a on a minibatch of loss L, only a's estimate moves, importance-weighted
    by the probability it was drawn with: R_a ← α R_a + (1 - α) L / π_t(a). A task whose loss stays
    high is drawn more (it has more left to learn), the others keep the floor ε_t. The loss is the
    trainer's own minibatch loss, so ODM costs no extra forward pass. Albalak, Pan, Raffel & Wang
    2023, "Efficient Online Data Mixing For Language Model Pre-Training" (arXiv:2312.02406), §3;
    ε_0 = 1/K, so that the first draws are uniform.
    """

    name = "odm"
    paper = (
        "Albalak et al. 2023, Efficient Online Data Mixing For Language Model Pre-Training, arXiv:2312.02406"
    )

    Hyperparameters = ODMHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.rewards = np.zeros(self.num_tasks)
        self.decisions = 0
        self.drawn_with: dict[int, float] = {}
        self.seen_step = env.trainer.last_step

    def exploration(self, t: int, tasks: int) -> float:
        """ε_t; ε_0 = 1/K."""
        if t == 0:
            return 1.0 / tasks
        return min(1.0 / tasks, float(np.sqrt(np.log(tasks) / (tasks * t))))

    def policy(self, mask: np.ndarray) -> np.ndarray:
        """π_t over the allowed tasks (0 on the masked ones) for the next decision t."""
        allowed = allowed_tasks({"action_mask": mask})
        k, t = len(allowed), self.decisions + 1
        previous, current = self.exploration(t - 1, k), self.exploration(t, k)
        logits = previous * self.rewards[allowed]
        softmax = np.exp(logits - logits.max())
        probabilities = np.zeros(self.num_tasks)
        probabilities[allowed] = (1 - k * current) * softmax / softmax.sum() + current
        return probabilities

    def update(self) -> None:
        """Fold in the loss of the step trained since the last decision."""
        step = self.env.trainer.last_step
        if step is None or step is self.seen_step:
            return
        self.seen_step = step
        for task, loss in zip(step.tasks, step.losses, strict=True):
            if task in self.drawn_with:  # a task a rule added to the step was no draw of the bandit
                probability = self.drawn_with[task]
                self.rewards[task] = (
                    self.smoothing * self.rewards[task] + (1 - self.smoothing) * loss / probability
                )

    def weights(self, info: dict) -> np.ndarray:
        self.update()
        return self.policy(info["action_mask"])

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        probabilities = self.probabilities(info)
        task = int(self.rng.choice(self.num_tasks, p=probabilities))
        self.drawn_with[task] = float(probabilities[task])
        self.decisions += 1
        return task
