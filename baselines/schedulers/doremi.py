"""DoReMi of Xie et al. 2023: tasks reweighted by exponentiated gradient on their excess loss over a
reference run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mtl_gym.env import MTLSchedulingEnv
from mtl_gym.training import NonFiniteLossError

from .base import EVAL_EVERY, SamplingScheduler, allowed_tasks, masked_distribution, probe_loss

STAGES = ("online", "two-stage")


@dataclass(frozen=True)
class DoReMiHyperparameters:
    step_size: float = 1.0
    """η, the step size of the exponentiated-gradient update of α (the paper's 1)."""
    smoothing: float = 1e-3
    """c, the weight of the uniform distribution mixed into α at every update (the paper's 1e-3)."""
    stage: str = "online"
    """``online``: sample from the current α, updated every ``update_every`` budget units.
    ``two-stage``: the paper's form: a proxy run at reset updates α online, then the run samples
    from the proxy's average α, fixed (costs one more run)."""
    update_every: int = EVAL_EVERY
    """Budget units between updates of α, and between the reference's recorded losses."""
    probe_samples: int = 32
    """Dev examples per task (drawn at reset) whose mean loss is that task's loss, for the model and
    the reference alike (the env's reward subset size, ``EnvConfig.reward_samples``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.step_size, int | float) or not 0 < self.step_size < np.inf:
            raise ValueError(f"step_size must be a positive finite number, got {self.step_size!r}")
        if not isinstance(self.smoothing, int | float) or not 0 <= self.smoothing <= 1:
            raise ValueError(f"smoothing must lie in [0, 1], got {self.smoothing!r}")
        if self.stage not in STAGES:
            raise ValueError(f"stage must be one of {', '.join(STAGES)}, got {self.stage!r}")
        for name in ("update_every", "probe_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")


class DoReMi(SamplingScheduler):
    """Group DRO over tasks: sample the tasks that lag furthest behind a uniform reference run.

    DoReMi (Xie et al. 2023, arXiv:2305.10429, Algorithm 1) keeps domain weights α, uniform at
    first, and at each update computes every domain's excess loss over a reference model, clipped
    at 0, then moves α by exponentiated gradient and smooths it towards uniform u:

        λ_i = max(ℓ_θ,i - ℓ_ref,i, 0),   α' = α ⊙ exp(η λ),   α ← (1 - c) α' / Σ_j α'_j + c u,

    with η = 1 and c = 1e-3. Here a domain is a task and each step trains one task's minibatch:

    - The reference is the same model trained round-robin (uniform's schedule) over the tasks
      allowed at reset, for the run's horizon, from the model, optimizer, minibatch samplers and
      random state that reset finds; it trains through the trainer alone (no rules' extra loss
      terms), inside ``env.trainer.rewound()``, so the env's own run starts untouched. Its mean
      loss on each task's ``probe_samples`` fixed dev examples is recorded every ``update_every``
      budget units. The paper's reference is one fully trained model; here it is matched in time
      (the recorded point nearest the current budget), so that λ_i measures how far task i lags
      behind where uniform had it by now, not how far it is from the end of training.
    - ℓ_θ,i is the current model's mean loss on the same examples, every ``update_every`` budget
      units. The paper clips per token; here the task's mean difference is clipped, since two
      models at the same stage differ per example by noise that per-example clipping would count
      as excess.
    - ``stage="online"``: each task is drawn from the current α (0 on masked tasks, renormalised).
      ``stage="two-stage"``: the paper's proxy: at reset, from the same fresh state and undone
      afterwards, a run draws its tasks from α updated as online does, for the horizon; the run
      then draws from the average of the α of the proxy's updates, fixed. (The paper's proxy
      weights its loss by α on uniformly sampled batches; drawing tasks from α is its analogue
      when a step trains one task.)

    Like the paper's, the minimax is over every task, whatever ``env.objective``: under
    ``target:TASK`` DoReMi still balances all tasks' excess losses. Cost, none of it charged to the
    budget: the reference is about one extra run (horizon steps plus horizon / update_every + 1
    probe passes over K x probe_samples examples); each update probes as much again; two-stage
    adds the proxy, one more run. A non-finite loss in the reference or proxy run, or a non-finite
    dev loss, raises FloatingPointError.
    """

    name = "doremi"
    paper = (
        "Xie et al. 2023, DoReMi: Optimizing Data Mixtures Speeds Up Language Model Pretraining, "
        "arXiv:2305.10429"
    )

    Hyperparameters = DoReMiHyperparameters

    def reset(self, env: MTLSchedulingEnv, seed: int) -> None:
        super().reset(env, seed)
        self.probes = [
            torch.from_numpy(np.sort(self.rng.choice(len(t.dev), min(self.probe_samples, len(t.dev)), False)))
            for t in env.suite
        ]
        self.alpha = np.full(self.num_tasks, 1.0 / self.num_tasks)
        self.history: list[np.ndarray] = []
        """α after each update, in order."""
        self.due = self.update_every
        self.reset_mask = env.action_masks()
        self.reference_budgets, self.reference = self.reference_run()
        if self.stage == "two-stage":
            self.fixed = self.proxy_run()

    def weights(self, info: dict) -> np.ndarray:
        if self.stage == "two-stage":
            return self.fixed
        self.refresh(info["budget"])
        return self.alpha

    def update(self, losses: np.ndarray, reference: np.ndarray) -> None:
        """One step of Algorithm 1 on α from the tasks' current and reference losses."""
        excess = np.maximum(np.asarray(losses) - np.asarray(reference), 0.0)
        # Shifting the exponent by its maximum changes α' by a factor only, which the normalisation removes.
        raised = self.alpha * np.exp(self.step_size * (excess - excess.max()))
        self.alpha = (1 - self.smoothing) * raised / raised.sum() + self.smoothing / self.num_tasks
        self.history.append(self.alpha)

    def refresh(self, budget: float) -> None:
        """Update α once ``update_every`` budget units have passed since the last update."""
        if budget < self.due:
            return
        nearest = int(np.argmin(np.abs(self.reference_budgets - budget)))
        self.update(self.losses("current"), self.reference[nearest])
        self.due = budget + self.update_every

    def losses(self, model: str) -> np.ndarray:
        """Every task's mean loss on its probe examples under the trainer's current model."""
        losses = np.array([probe_loss(self.env.trainer, t, p) for t, p in enumerate(self.probes)])
        bad = np.flatnonzero(~np.isfinite(losses))
        if len(bad):
            task = self.env.suite[int(bad[0])].name
            raise FloatingPointError(
                f"doremi: the {model} model's dev loss on task {task!r} is {losses[bad[0]]}"
            )
        return losses

    def train(self, task: int, run: str) -> None:
        try:
            self.env.trainer.step([task])
        except NonFiniteLossError as err:
            raise FloatingPointError(f"doremi's {run} run diverged: {err}") from err

    def reference_run(self) -> tuple[np.ndarray, np.ndarray]:
        """The budgets 0, update_every, ... up to the horizon, and the reference's task losses there."""
        allowed = allowed_tasks({"action_mask": self.reset_mask})
        budgets, losses = [], []
        with self.env.trainer.rewound():
            for spent in range(self.horizon + 1):
                if spent % self.update_every == 0:
                    budgets.append(spent)
                    losses.append(self.losses("reference"))
                if spent < self.horizon:
                    self.train(int(allowed[spent % len(allowed)]), "reference")
        return np.array(budgets), np.array(losses)

    def proxy_run(self) -> np.ndarray:
        """Train for the horizon with online DoReMi, undone afterwards; the average α of its updates
        (uniform if the horizon is shorter than ``update_every``)."""
        with self.env.trainer.rewound():
            for spent in range(self.horizon):
                self.refresh(spent)
                probabilities = masked_distribution(self.alpha, self.reset_mask)
                self.train(int(self.rng.choice(self.num_tasks, p=probabilities)), "proxy")
        return np.mean(self.history, axis=0) if self.history else self.alpha.copy()
