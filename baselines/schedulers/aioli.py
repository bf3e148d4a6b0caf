"""Aioli of Chen et al. 2025: tasks reweighted by exponentiated gradient on an interaction matrix
learnt, round by round, from short probe trainings on perturbed mixtures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv

from .base import SamplingScheduler, allowed_tasks, exp_weights, probe_loss


@dataclass(frozen=True)
class AioliHyperparameters:
    step_size: float = 0.2
    """η, the step size of the exponentiated-gradient update of the mixture (the authors' usage
    example; their README suggests 0.1 to 0.5)."""
    perturbation: float = 0.25
    """ε: a probe of task j trains on the mixture (1 - ε) u + ε e_j, u uniform over the allowed tasks.
    0.25 is the authors' smoothed one-hot factor for their 2- and 3-group runs (0.625 and 0.5 =
    ε + (1 - ε) / K); 1 is an unsmoothed one-hot."""
    round_steps: int = 250
    """S, budget units per round, its probes included (the authors' update_steps of 250)."""
    probe_steps: int = 4
    """Minibatches of each probe (the authors' recommended lp_steps of 4)."""
    sweeps: int = 4
    """k, probes of every allowed task per round, each sweep in a fresh random order (the authors'
    lp_rounds of 4)."""
    dev_samples: int = 32
    """Dev examples per task (drawn at reset) whose mean loss is that task's loss (the env's reward
    subset size, ``EnvConfig.reward_samples``)."""

    def __post_init__(self) -> None:
        for name in ("step_size", "perturbation"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        if self.step_size <= 0:
            raise ValueError(f"step_size must be positive, got {self.step_size!r}")
        if not 0 < self.perturbation <= 1:
            raise ValueError(f"perturbation must lie in (0, 1], got {self.perturbation!r}")
        for name in ("round_steps", "probe_steps", "sweeps", "dev_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")


def whole_counts(shares: np.ndarray, steps: int, rng: np.random.Generator) -> np.ndarray:
    """``steps`` minibatches split as close to ``steps * shares`` as whole numbers allow: the floors,
    then one more for the largest remainders (ties to the larger share, then at random)."""
    shares = np.asarray(shares, dtype=np.float64)
    exact = steps * shares
    counts = np.floor(exact + 1e-9).astype(int)
    remainders = np.round(exact - counts, 9)
    order = np.lexsort((rng.random(len(counts)), -shares, -remainders))
    counts[order[: steps - counts.sum()]] += 1
    return counts


def estimate_interactions(counts: np.ndarray, drops: np.ndarray) -> np.ndarray:
    """A by least squares from probes r: ``drops[r] ≈ A @ counts[r]``, with ``counts[r, j]`` the
    minibatches of task j that probe r trained and ``drops[r, i]`` the fall of task i's loss over it."""
    solution, *_ = np.linalg.lstsq(np.asarray(counts, float), np.asarray(drops, float), rcond=None)
    return solution.T


def normalise(interactions: np.ndarray) -> np.ndarray:
    """The authors' normalisation of A: shifted by its smallest entry when that is negative, then
    divided by its sum; all zeros, so that no update follows, when the shift leaves nothing (every
    entry equal and not positive)."""
    shifted = interactions - min(float(interactions.min()), 0.0)
    total = shifted.sum()
    return shifted / total if total > 0 else np.zeros_like(shifted)


class Aioli(SamplingScheduler):
    """Rounds of learning a linear mixing law from probes, then sampling tasks from the mixture it favours.

    Aioli (Chen et al. 2025, arXiv:2411.05735, Algorithms 1 and 2) assumes the linear dynamic mixing
    law L_{t+1}(p) ≈ L_t - A^t p between the groups' losses L and the mixture p. Each round of S
    steps, its LearnParams spends the first δS steps training, for k sweeps over the groups in a
    random order, on a smoothed one-hot mixture of each group j, and records the fall of every
    group's validation loss over each of these probes (from the end of the one before); A^t is
    solved from these falls and the probe mixtures, then normalised, and

        p^t_j ∝ p^{t-1}_j exp(η Σ_i A^t_ij),

    p^0 uniform; the rest of the round, S(1 - δ) steps, trains on p^t. The probes are training: they
    are kept and take δS of the round's S steps. Here a group is a task and a step trains one task's
    minibatch, so, with K the tasks allowed at the round's start:

    - A probe of task j is ``probe_steps`` minibatches, as many of each task as the mixture
      (1 - ε) u + ε e_j gives (whole numbers: largest remainders first, ties to j), in a random
      order; reset refuses an ε and ``probe_steps`` that would give j no more minibatches than
      another task, as every probe would then train the same mixture.
    - The probes are the scheduler's own decisions, played through the env: they train the model,
      the env's rules and mask apply to them (a task masked since the plan is skipped), and they
      are charged to the budget like any step, as the authors count them in the round. So
      δ = sweeps x K x probe_steps / round_steps, and reset refuses a round that the probes fill.
      ``probe_budget`` is the budget units spent on probes so far.
    - A task's loss is its mean loss on ``dev_samples`` fixed dev examples, measured at the round's
      start and after each probe, for every task (masked ones too: their loss still moves).
    - A (every task's row; the allowed tasks' columns) is the least-squares fit of drops ≈ A counts
      over the round's probes, on the minibatches of each task that each probe actually trained
      (from the trainer's budget, rules' extra tasks included). With whole-number probes this is
      the authors' estimator: they solve the same system on the sweeps' average falls.
    - Σ_i A_ij becomes K Σ_i w_i A_ij, w the weights of ``env.objective`` (summing to 1): all tasks
      for ``mean`` (exactly the paper's sum), the target's row only for ``target:TASK``, the given
      weights for ``weighted``, and uniform for ``worst``, which has no linear form. The paper's
      objective is the sum of the groups' losses; this is the objective's own loss.

    Where this departs from the paper, or follows the authors' code (HazyResearch/aioli) where the
    paper leaves a choice: the probe mixtures do not depend on p^{t-1}, and the normalisation (shift
    a negative minimum to 0, divide by the sum) is the authors' (their ``aioli_normalize_A``,
    "always set"); their optional moving average of A is left out. With A normalised to sum 1 a
    round moves log p by at most η K (η for ``mean``), so no task's weight reaches 0: the paper has
    no floor, nor has this. Masked tasks get weight 0 and are never drawn. p is kept as log
    weights whose largest is 0. A round starts at the first decision where the budget has reached
    the previous one's start plus S; a run that ends during the probes makes no update for them.

    Cost per run of B budget units: about B / S rounds, each spending sweeps x K x probe_steps of
    the B units on probes (48 of every 250 for 3 tasks with the defaults), and (sweeps x K + 1)
    inference passes over K x dev_samples dev examples, not charged to the budget. A non-finite dev
    loss raises FloatingPointError; a non-finite training loss ends the run in the env, as any.
    """

    name = "aioli"
    paper = (
        "Chen et al. 2025, Aioli: A Unified Optimization Framework for Language Model Data Mixing, "
        "ICLR, arXiv:2411.05735"
    )

    Hyperparameters = AioliHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        allowed = allowed_tasks({"action_mask": env.action_masks()})
        if len(allowed) > 1:
            self.check_probes(allowed)
        self.probe_examples = [
            torch.from_numpy(np.sort(self.rng.choice(len(t.dev), min(self.dev_samples, len(t.dev)), False)))
            for t in env.suite
        ]
        self.log_weights = np.zeros(self.num_tasks)
        """log p, up to a constant; p^0 is uniform."""
        self.round_end = 0
        self.round_allowed = allowed
        self.probes: list[list[int]] = []
        """The round's probes still to train, each a list of tasks; the first is under way."""
        self.counts: list[np.ndarray] = []
        """Minibatches of each task that each of the round's finished probes trained."""
        self.drops: list[np.ndarray] = []
        """The fall of every task's dev loss over each of the round's finished probes."""
        self.interactions: list[np.ndarray] = []
        """The normalised A of each round (rows: all tasks; columns: the round's allowed tasks)."""
        self.before = np.zeros(self.num_tasks)
        self.spent = np.zeros(self.num_tasks, dtype=int)
        """Each task's budget units when the probe under way began."""
        self.finished_probe_budget = 0

    def check_probes(self, allowed: np.ndarray) -> None:
        """Refuse probes that fill the round, or that round to the same minibatches for every task."""
        probes = self.sweeps * len(allowed) * self.probe_steps
        if probes >= self.round_steps:
            raise ValueError(
                f"aioli: round_steps={self.round_steps} leaves no room after its {probes} probe minibatches "
                f"(sweeps={self.sweeps} x {len(allowed)} tasks x probe_steps={self.probe_steps}); "
                "raise round_steps or lower sweeps or probe_steps"
            )
        task, others = int(allowed[0]), [int(t) for t in allowed[1:]]
        probe = self.probe_mixture(allowed, task, np.random.default_rng(0))
        if probe.count(task) <= max(probe.count(t) for t in others):
            raise ValueError(
                f"aioli: probe_steps={self.probe_steps} minibatches cannot tell the probes apart at "
                f"perturbation={self.perturbation} with {len(allowed)} tasks (a probe would give its task "
                "no more minibatches than another); raise probe_steps or perturbation"
            )

    @property
    def probe_budget(self) -> int:
        """Budget units spent on probes so far this run (a probe under way included)."""
        under_way = self.env.trainer.budget.total - int(self.spent.sum()) if self.probes else 0
        return self.finished_probe_budget + under_way

    def weights(self, info: dict) -> np.ndarray:
        return exp_weights(self.log_weights, info["action_mask"])

    def __call__(self, observation: np.ndarray, info: dict) -> int:
        if not self.probes and info["budget"] >= self.round_end:
            self.start_round(info)
        task = self.next_probe_task(info["action_mask"])
        return super().__call__(observation, info) if task is None else task

    def start_round(self, info: dict) -> None:
        """Plan the round's probes and measure the losses they start from."""
        self.round_end = info["budget"] + self.round_steps
        self.round_allowed = allowed_tasks(info)
        if len(self.round_allowed) < 2:  # one task: nothing to mix
            return
        self.probes = [
            self.probe_mixture(self.round_allowed, int(task), self.rng)
            for _ in range(self.sweeps)
            for task in self.rng.permutation(self.round_allowed)
        ]
        self.counts, self.drops = [], []
        self.before = self.losses()
        self.spent = np.array(self.env.trainer.budget.per_task)

    def probe_mixture(self, allowed: np.ndarray, task: int, rng: np.random.Generator) -> list[int]:
        """The tasks of a probe of ``task`` over the ``allowed`` tasks, in a random order."""
        shares = np.full(len(allowed), (1 - self.perturbation) / len(allowed))
        shares[allowed == task] += self.perturbation
        plan = np.repeat(allowed, whole_counts(shares, self.probe_steps, rng))
        return [int(t) for t in rng.permutation(plan)]

    def next_probe_task(self, mask: np.ndarray) -> int | None:
        """The next task of the probes, closing those finished (and learning after the last); None
        outside the probes."""
        while self.probes:
            current = self.probes[0]
            while current and not mask[current[0]]:
                current.pop(0)
            if current:
                return current.pop(0)
            self.probes.pop(0)
            self.close_probe()
            if not self.probes:
                self.learn()
        return None

    def close_probe(self) -> None:
        """Record the minibatches a finished probe trained and the fall of the losses over it."""
        after = self.losses()
        spent = np.array(self.env.trainer.budget.per_task)
        counts = spent - self.spent
        if counts.any():
            self.counts.append(counts)
            self.drops.append(self.before - after)
        self.finished_probe_budget += int(counts.sum())
        self.before, self.spent = after, spent

    def learn(self) -> None:
        """Estimate A from the round's probes and update the mixture."""
        if self.counts:
            self.update(
                estimate_interactions(np.array(self.counts), np.array(self.drops)), self.round_allowed
            )

    def update(self, interactions: np.ndarray, allowed: np.ndarray) -> None:
        """p_j ∝ p_j exp(η K Σ_i w_i Â_ij) over the ``allowed`` tasks j, Â the normalised
        ``interactions`` (K rows, one column per task) restricted to those columns."""
        normalised = normalise(np.asarray(interactions, dtype=np.float64)[:, allowed])
        gradient = self.num_tasks * (self.env.objective.weights @ normalised)
        self.log_weights[allowed] += self.step_size * gradient
        self.log_weights -= self.log_weights.max()
        self.interactions.append(normalised)

    def losses(self) -> np.ndarray:
        """Every task's mean loss on its fixed dev examples under the current model."""
        losses = np.array(
            [probe_loss(self.env.trainer, t, index) for t, index in enumerate(self.probe_examples)]
        )
        bad = np.flatnonzero(~np.isfinite(losses))
        if len(bad):
            task = self.env.suite[int(bad[0])].name
            raise FloatingPointError(f"aioli: the dev loss on task {task!r} is {losses[bad[0]]}")
        return losses
