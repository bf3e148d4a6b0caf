"""Asynchronous convergence via knowledge distillation (Async-KD paper, §3 and Appendix A).

Every ``eval_every`` training steps each task still training on its true labels is evaluated on
dev. A task whose dev metric has not improved for ``patience`` evaluations has converged: the
model and optimizer are rewound to the checkpoint where that task was best, the checkpoint labels
the task's training split with soft predictions (the teacher), and from then on the task trains
only on the KD loss against them (eq. 3: L = sum_t L_t with L_t = L^KD_t once t has converged).

:class:`AsyncConvergence` does this on any :class:`~mtl_gym.training.Trainer`, so a loop that
steps the trainer itself (a joint method) can drive it; :class:`AsyncKDRule` puts it in the
scheduling env, where it masks converged tasks, mixes their KD minibatches into every update and
ends the episode once all tasks have converged. The joint and sequential settings of §3 and a
free "scheduled" setting (any scheduler picks among the unconverged tasks) are its three modes.

Choices the paper leaves open, made here:

- The rewind is of the one shared model, so it discards the latest steps of every task, as the
  paper does ("we also rewind and resume training from that checkpoint"). The budget spent on the
  discarded steps is not refunded, and the step counter is not rewound: the cost is real.
- The rewind discards the monitor's view of the discarded steps too: every task still on its
  labels restarts its watch from the resumed checkpoint, with its dev metric there as its best.
  Its best so far lay on the discarded steps (a best from before the checkpoint would have run
  out of patience first), in states this run no longer passes through and that had trained the
  converged task past its best, so they can be neither its teacher nor a rewind target.
- Tasks that converge at the same evaluation peaked at the same one (patience counts evaluations
  on the run that survives), so they share the best checkpoint, the teacher model and the rewind.
- One best snapshot per unconverged task is held in memory (shared by tasks that peak at the same
  evaluation) and dropped once the task has its teacher.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from mtl_gym.data import Task
from mtl_gym.env import Rule
from mtl_gym.spec import Settings
from mtl_gym.training import DistillationLoss, Snapshot, TaskMetrics, Trainer, split_logits

if TYPE_CHECKING:
    from mtl_gym.env import MTLSchedulingEnv

KD_SETTINGS = ("joint", "sequential", "scheduled")


@dataclass(frozen=True)
class KDConfig(Settings):
    """Convergence and KD settings; the defaults are Appendix A's."""

    eval_every: int = 200
    """Training steps between dev evaluations ("we validate every 200 training steps")."""
    patience: int = 3
    """Evaluations without improvement after which a task has converged ("a patience of 3")."""
    temperature: float = 1.0
    """T of the soft labels: teacher probabilities are softmax(logits / T) and the student is
    compared at the same T. 1 is the paper's plain predictions; the loss is scaled by T^2
    (Hinton et al., 2015) so that its gradient keeps the same size whatever T, and kd_weight
    need not be retuned with it."""
    kd_weight: float = 1.0
    """Loss weight of a converged task's KD term. 1: eq. 3 is the unweighted sum of all task losses."""
    kd_every: int = 1
    """Converged tasks' KD minibatches join every kd_every-th update. 1 as the paper, which keeps
    the converged tasks' full share of every batch ("we do not down-sample the data of converged
    tasks", §2); larger values spend less budget on KD at some risk of forgetting (§4.3 names a
    smaller batch proportion of converged tasks as future work)."""

    def __post_init__(self) -> None:
        for name in ("eval_every", "patience", "kd_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"KDConfig.{name} must be at least 1, got {getattr(self, name)}")
        if not self.temperature > 0:
            raise ValueError(f"KDConfig.temperature must be positive, got {self.temperature}")
        if not self.kd_weight >= 0:
            raise ValueError(f"KDConfig.kd_weight must be non-negative, got {self.kd_weight}")


def dev_metric(metrics: TaskMetrics) -> float:
    """What convergence watches: chunk F1 for IOB tagging tasks, accuracy otherwise."""
    return metrics.accuracy if metrics.chunk_f1 is None else metrics.chunk_f1


def teacher_probabilities(
    model: nn.Module, task_index: int, task: Task, temperature: float = 1.0, batch_size: int = 64
) -> torch.Tensor:
    """D-hat_t of §3: the model's softmax(logits / T) on every training example of ``task``, in
    inference mode; ``[N, C]``, or ``[N, L, C]`` padded like the split for tagging."""
    train = task.train
    teacher: torch.Tensor | None = None
    for positions, _, logits in split_logits(model, task_index, task, "train", batch_size=batch_size):
        probabilities = (logits / temperature).softmax(-1)
        if teacher is None:
            rows = (len(train), train.tokens.shape[1]) if logits.dim() == 3 else (len(train),)
            teacher = torch.zeros(*rows, logits.shape[-1])
        # Tagging batches are trimmed to their longest sentence; for classification this slice is all C.
        teacher[positions, : logits.shape[1]] = probabilities
    return teacher


@dataclass
class _Checkpoint:
    """A best snapshot, with the monitor's view of the evaluation it was taken at."""

    snapshot: Snapshot
    step: int
    metrics: dict[int, float]
    """Dev metric of every active task at this evaluation."""


@dataclass
class _Track:
    """Convergence bookkeeping of one task still on its true labels."""

    best: float = -math.inf
    checkpoint: _Checkpoint | None = None
    since: int = 0
    """Evaluations since the best one."""


class AsyncConvergence:
    """The convergence monitor and KD switch of §3 on one trainer.

    Call :meth:`reset` with the trainer and the tasks training on true labels, then
    :meth:`after_step` after every training step. Converged tasks have their
    ``trainer.loss_functions`` entry replaced by a :class:`DistillationLoss`, so whatever steps the
    trainer (the env, a joint method) trains them on KD from then on.
    """

    def __init__(self, config: KDConfig = KDConfig()):
        self.config = config
        self.converged: dict[int, int] = {}
        """Task -> training step at which it converged."""
        self.best: dict[int, tuple[int, float]] = {}
        """Converged task -> (step, dev metric) of its best checkpoint, the teacher."""
        self._tracks: dict[int, _Track] = {}

    def reset(self, trainer: Trainer, active: Iterable[int]) -> None:
        self.trainer = trainer
        self.converged, self.best, self._tracks = {}, {}, {}
        for task in active:
            self.activate(task)

    def activate(self, task: int) -> None:
        """Start training ``task`` on true labels and watching it for convergence: at reset, or when
        no other task is watched (the sequential setting), so that every rewind finds it evaluated."""
        if task in self.converged or task in self._tracks:
            raise ValueError(f"task {task} is already active or converged")
        self._tracks[task] = _Track()

    @property
    def active(self) -> list[int]:
        """Tasks training on their true labels."""
        return sorted(self._tracks)

    @property
    def done(self) -> bool:
        return len(self.converged) == len(self.trainer.suite)

    def info(self) -> dict:
        """``{"converged": {task name: training step it converged at, or None}}``."""
        return {"converged": {name: self.converged.get(i) for i, name in enumerate(self.trainer.suite.names)}}

    def after_step(self, step: int) -> list[int]:
        """At every ``eval_every``-th step, evaluate the active tasks and switch those that have
        converged to KD (rewinding the trainer); returns them."""
        if step % self.config.eval_every or not self._tracks:
            return []
        dev = self.trainer.evaluate("dev", self.active)
        metrics = {t: dev_metric(dev[self.trainer.suite[t].name]) for t in self.active}
        checkpoint = None
        for task, value in metrics.items():
            track = self._tracks[task]
            if value > track.best:
                checkpoint = checkpoint or _Checkpoint(self.trainer.snapshot(), step, metrics)
                self._tracks[task] = _Track(value, checkpoint)
            else:
                track.since += 1
        converging = [t for t, track in self._tracks.items() if track.since >= self.config.patience]
        if converging:
            self._converge(converging, step)
        return converging

    def _converge(self, tasks: list[int], step: int) -> None:
        resumed = self._tracks[tasks[0]].checkpoint
        self.trainer.restore(resumed.snapshot)
        for task in tasks:
            teacher = teacher_probabilities(
                self.trainer.model,
                task,
                self.trainer.suite[task],
                self.config.temperature,
                self.trainer.config.eval_batch_size,
            )
            self.trainer.loss_functions[task] = DistillationLoss(teacher, self.config.temperature)
            self.converged[task] = step
            self.best[task] = (resumed.step, self._tracks.pop(task).best)
        for task in self._tracks:
            self._tracks[task] = _Track(resumed.metrics[task], resumed)


class AsyncKDRule(Rule):
    """Async-KD as an action-masking rule of the scheduling env (§3).

    A converged task's action is masked, so no scheduler spends steps on its true labels again,
    and its KD minibatch (weight ``kd_weight``) joins every ``kd_every``-th update so that it is not
    forgotten. The episode terminates once every task has converged; the model is then the final,
    rewound one. Settings:

    - ``joint``: every unconverged task trains in every step (weight 1), so one env step is one
      joint step of eq. 3 over all tasks and the scheduler's pick only orders the minibatches;
    - ``sequential``: only the current task of ``order`` (task names) is allowed; the next is
      unmasked when it converges;
    - ``scheduled``: the scheduler (QLS or any baseline) picks among the unconverged tasks.

    ``info()`` reports ``{"converged": {task: step or None}}`` (:meth:`AsyncConvergence.info`).
    """

    def __init__(self, setting: str = "joint", order: Sequence[str] = (), config: KDConfig = KDConfig()):
        if setting not in KD_SETTINGS:
            raise ValueError(f"KD setting must be one of {KD_SETTINGS}, got {setting!r}")
        if (setting == "sequential") != bool(order):
            raise ValueError("a task order is needed by the sequential setting, and only by it")
        self.setting = setting
        self.order = list(order)
        self.config = config
        self.kd = AsyncConvergence(config)

    def reset(self, env: MTLSchedulingEnv) -> None:
        self.sequence = [env.suite.index(name) for name in self.order]
        if self.sequence and sorted(self.sequence) != list(range(env.num_tasks)):
            raise ValueError(
                f"the sequential order must list every task once: {self.order} for {env.suite.names}"
            )
        self.kd.reset(env.trainer, self.sequence[:1] or range(env.num_tasks))

    def after_step(self, env: MTLSchedulingEnv) -> None:
        if self.kd.after_step(env.steps) and self.setting == "sequential" and not self.kd.done:
            self.kd.activate(self.sequence[len(self.kd.converged)])

    def allowed(self, env: MTLSchedulingEnv) -> np.ndarray:
        mask = np.zeros(env.num_tasks, dtype=bool)
        mask[self.kd.active] = True
        return mask

    def extra_tasks(self, env: MTLSchedulingEnv, action: int) -> tuple[list[int], list[float]]:
        joint = [t for t in self.kd.active if t != action] if self.setting == "joint" else []
        distilled = [] if env.steps % self.config.kd_every else sorted(set(self.kd.converged) - {action})
        return joint + distilled, [1.0] * len(joint) + [self.config.kd_weight] * len(distilled)

    def done(self, env: MTLSchedulingEnv) -> bool:
        return self.kd.done

    def info(self) -> dict:
        return self.kd.info()
