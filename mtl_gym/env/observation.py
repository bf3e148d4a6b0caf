"""Observation features beyond the QLS histograms, and the reward, as pure functions of plain arrays.

The paper's observation (K margin histograms over hard dev samples) cannot see neglect: a starved
task's hardest samples become confidently wrong, so its histogram looks *more* certain. These
feature groups, appended after the histograms in the order given by ``EnvConfig.features``, show
the schedule itself:

- ``share``: each task's share of the minibatches spent so far, ``n_k / sum(n)`` (0 before any);
  in [0, 1].
- ``since``: env steps since each task was last chosen (or since reset), squashed as
  ``s / (s + K)``: horizon-free, so an agent trained on short episodes reads deployment runs of
  another length the same way; 0 right after training the task, 0.5 at uniform's mean gap of K
  steps, tending to 1 under starvation; in [0, 1).
- ``loss``: each task's reward-set dev loss; divided by its loss at reset when the reward is
  ``loss-normalized`` (then 1 at reset), raw otherwise; in [0, inf).
- ``elapsed``: the fraction of the episode elapsed, ``step / horizon`` capped at 1; in [0, 1].
- ``age``: env steps since each task's histogram (and loss) was measured, squashed as ``since``
  is: 0 when measured at this step, as always unless ``EnvConfig.observe_every`` or
  ``observe_tasks`` skips probe passes; in [0, 1). Allowed without them, so that an agent trained
  on amortised observations reads fully measured ones (all ages 0) with the same layout.

Amortised observation (``observe_every``, ``observe_tasks``) decides which tasks a probe pass
measures (:func:`measured_tasks`); the histograms, losses and accuracies of the others are kept,
and the features above are recomputed from them at every step.

:class:`~mtl_gym.env.MTLSchedulingEnv` and any batched env call the same functions, so both give the
same observation and reward.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..objective import BoundObjective

FEATURE_GROUPS = ("share", "since", "loss", "elapsed", "age")
"""Names accepted by ``EnvConfig.features``."""

LOSS_FLOOR = 1e-3
"""Smallest reset loss a loss is divided by, so that a task already near zero loss at reset does not
blow the normalised reward or feature up."""


def feature_size(group: str, num_tasks: int) -> int:
    return 1 if group == "elapsed" else num_tasks


def feature_bounds(groups: Sequence[str], num_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """Low and high of the appended features, in the order of ``groups``."""
    lows, highs = [], []
    for group in groups:
        size = feature_size(group, num_tasks)
        lows.append(np.zeros(size))
        highs.append(np.full(size, np.inf if group == "loss" else 1.0))
    if not groups:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
    return np.concatenate(lows).astype(np.float32), np.concatenate(highs).astype(np.float32)


def budget_share(minibatches: Sequence[float]) -> np.ndarray:
    """``n_k / sum(n)``; all zeros before any minibatch. Row-wise when given one row per run."""
    counts = np.asarray(minibatches, dtype=np.float64)
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


def steps_since(last_chosen: Sequence[int], step: int | np.ndarray) -> np.ndarray:
    """``s / (s + K)`` with ``s = step - last_chosen[k]`` (last_chosen is 0 for a task not chosen
    since reset). Row-wise when given one row per run and one step per run."""
    last = np.asarray(last_chosen, dtype=np.float64)
    since = np.maximum(np.asarray(step, dtype=np.float64)[..., None] - last, 0.0)
    return since / (since + last.shape[-1])


def normalized_losses(losses: Sequence[float], reset_losses: Sequence[float]) -> np.ndarray:
    """Each task's loss over its loss at reset (floored at :data:`LOSS_FLOOR`)."""
    return np.asarray(losses, dtype=np.float64) / np.maximum(
        np.asarray(reset_losses, dtype=np.float64), LOSS_FLOOR
    )


def elapsed_fraction(step: int | np.ndarray, horizon: int) -> np.ndarray:
    """``step / horizon`` capped at 1, with a trailing axis of size 1 (one value per run)."""
    return np.minimum(np.asarray(step, dtype=np.float64) / horizon, 1.0)[..., None]


def features(
    groups: Sequence[str],
    *,
    minibatches: Sequence[float],
    last_chosen: Sequence[int],
    losses: Sequence[float],
    reset_losses: Sequence[float] | None,
    step: int | np.ndarray,
    horizon: int,
    measured_at: Sequence[int] | None = None,
) -> np.ndarray:
    """The feature groups, concatenated in the order of ``groups`` (float32). ``step``,
    ``last_chosen`` and ``measured_at`` (the env step each task was last measured at; None: all
    at ``step``) count env steps; ``reset_losses`` normalises the ``loss`` group when given.
    Every argument may hold one row per run (the batched env), giving one row of features each."""
    parts = []
    for group in groups:
        if group == "share":
            parts.append(budget_share(minibatches))
        elif group == "since":
            parts.append(steps_since(last_chosen, step))
        elif group == "loss":
            loss = np.asarray(losses, dtype=np.float64)
            parts.append(loss if reset_losses is None else normalized_losses(loss, reset_losses))
        elif group == "elapsed":
            parts.append(elapsed_fraction(step, horizon))
        elif group == "age":
            parts.append(
                np.zeros(np.shape(losses)) if measured_at is None else steps_since(measured_at, step)
            )
        else:
            raise ValueError(f"unknown feature group {group!r}; expected one of {FEATURE_GROUPS}")
    if not parts:
        return np.zeros((*np.shape(step), 0), dtype=np.float32)
    return np.concatenate(parts, axis=-1).astype(np.float32)


def probe_due(decision: int | np.ndarray, every: int) -> bool | np.ndarray:
    """Whether a probe pass runs at env step ``decision`` (reset is 0): every ``every`` steps."""
    return np.asarray(decision) % every == 0


def rotation(decision: int | np.ndarray, every: int, subset: int, num_tasks: int) -> np.ndarray:
    """The ``subset`` tasks measured by the pass at ``decision`` (a due step after reset), in
    increasing order: pass p = decision / every measures the p-th run of ``subset`` consecutive
    task indices modulo K, counting from 1 since the reset pass measures all. Deterministic and
    stateless, so that each run of the batched env needs only its own step. Row-wise when given
    one decision per run."""
    start = (np.asarray(decision, dtype=np.int64) // every - 1) * subset
    return np.sort((start[..., None] + np.arange(subset)) % num_tasks, axis=-1)


def measured_tasks(decision: int, every: int, subset: int | None, num_tasks: int) -> np.ndarray:
    """The tasks the probe pass at ``decision`` measures: none when no pass is due, all at reset
    (there is no earlier measurement to keep) or without a ``subset``, else :func:`rotation`."""
    if not probe_due(decision, every):
        return np.zeros(0, dtype=np.int64)
    if decision == 0 or subset is None or subset >= num_tasks:
        return np.arange(num_tasks)
    return rotation(decision, every, subset, num_tasks)


def loss_reward(
    mode: str,
    losses: Sequence[float],
    reset_losses: Sequence[float],
    previous_total: float,
    objective: BoundObjective | None = None,
) -> tuple[float, float]:
    """The reward before any penalty, and the total to pass as ``previous_total`` next step.

    ``loss``: -(sum of losses), the paper's. ``loss-decrease``: the fall of that sum since the
    previous step. ``loss-normalized``: -(sum of loss_k / loss_k at reset), -K at reset, so that no
    task's loss scale dominates. Under an ``objective`` other than ``mean`` the sum is the
    objective's (``BoundObjective.loss``: only the target's loss for ``target:TASK``, K x the largest
    for ``worst``). ``losses`` may hold one row per run (the batched env): the sums are then over the
    last axis, one reward per run."""
    reduce = objective.loss if objective is not None else lambda values: np.sum(values, axis=-1)
    total = reduce(losses)
    if mode == "loss":
        return -total, total
    if mode == "loss-decrease":
        return previous_total - total, total
    if mode == "loss-normalized":
        return -reduce(normalized_losses(losses, reset_losses)), total
    raise ValueError(f"unknown reward mode {mode!r}")


def below_reference(
    accuracies: Sequence[float],
    reference: Sequence[float],
    threshold: float,
    objective: BoundObjective | None = None,
) -> bool:
    """Whether the objective's accuracy (the mean by default) falls under ``threshold`` x the same
    objective of the single-task references (QLS §4.3); one answer per row when ``accuracies`` holds
    a row per run."""
    if objective is None:
        return np.mean(accuracies, axis=-1) < threshold * float(np.mean(reference))
    return objective.score(accuracies) < threshold * float(objective.score(reference))
