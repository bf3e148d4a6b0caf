"""The env's probe samples, and the one batched inference pass over them each step.

The probes of a task are its hard dev samples (the observation) and its reward samples (the
reward). All tasks' probes go through the shared encoder together, sorted by length and cut into
chunks, so that an env step costs one batched forward pass rather than K small ones; each task's
head then reads its own rows of the chunk's features. A pass over some of the tasks
(``EnvConfig.observe_tasks``) is planned the same way over their probes alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..data import IGNORE_INDEX, PAD_ID, TaskKind, TaskSuite
from ..training import example_losses, split_logits


def hardest_examples(
    model: nn.Module, suite: TaskSuite, task_index: int, count: int, batch_size: int
) -> torch.Tensor:
    """Dev positions of the ``count`` examples with the highest loss ("batch hard", Hermans et al.
    2017), ties broken by position so that the choice is deterministic."""
    task = suite[task_index]
    losses = torch.empty(len(task.dev))
    for positions, batch, logits in split_logits(model, task_index, task, "dev", batch_size=batch_size):
        losses[positions] = example_losses(logits, batch.labels)
    order = torch.argsort(-losses, stable=True)[:count]
    return order.sort().values


def take_rows(features: Any, rows: torch.Tensor) -> Any:
    """The rows ``rows`` of encoder features: a tensor, None, or a tuple, list or dict of them."""
    if features is None:
        return None
    if isinstance(features, torch.Tensor):
        return features.index_select(0, rows)
    if isinstance(features, tuple) and hasattr(features, "_fields"):
        return type(features)(*(take_rows(f, rows) for f in features))
    if isinstance(features, tuple | list):
        return type(features)(take_rows(f, rows) for f in features)
    if isinstance(features, dict):
        return {k: take_rows(v, rows) for k, v in features.items()}
    raise TypeError(
        f"encoder features of type {type(features).__name__} cannot be split between tasks; "
        "return tensors (or tuples, lists or dicts of them) from encode(), or set batch_probes=False"
    )


@dataclass(frozen=True)
class ChunkPart:
    task: int
    rows_in_chunk: torch.Tensor | None
    """None when the whole chunk belongs to this task."""
    task_rows: torch.Tensor


@dataclass(frozen=True)
class Chunk:
    start: int
    stop: int
    width: int
    parts: tuple[ChunkPart, ...]


@dataclass(frozen=True)
class TaskProbes:
    dev_index: torch.Tensor
    """Dev positions of this task's probes."""
    hard: torch.Tensor
    """Bool mask over the probes: the hard samples behind the histogram."""
    reward: torch.Tensor
    """Bool mask over the probes: the samples behind the reward."""
    labels: torch.Tensor
    """``[n]`` or, for tagging, ``[n, W]`` padded with IGNORE_INDEX to the common width."""


@dataclass(frozen=True)
class Layout:
    """Some tasks' probes as one length-sorted, pre-padded tensor, with its chunk plan."""

    tasks: tuple[int, ...]
    tokens: torch.Tensor
    lengths: torch.Tensor
    chunks: list[Chunk]


def length_chunks(
    owner: torch.Tensor, rows: torch.Tensor, lengths: torch.Tensor, chunk_size: int
) -> list[Chunk]:
    """Chunks of ``chunk_size`` length-sorted probes, whichever tasks they belong to."""
    chunks = []
    for start in range(0, len(owner), chunk_size):
        stop = min(start + chunk_size, len(owner))
        parts = []
        present = owner[start:stop].unique().tolist()
        for t in present:
            in_chunk = (owner[start:stop] == t).nonzero().flatten()
            whole = len(present) == 1
            parts.append(ChunkPart(t, None if whole else in_chunk, rows[start:stop][in_chunk]))
        chunks.append(Chunk(start, stop, int(lengths[stop - 1]), tuple(parts)))
    return chunks


def task_chunks(
    owner: torch.Tensor, rows: torch.Tensor, lengths: torch.Tensor, tasks: tuple[int, ...]
) -> list[Chunk]:
    """One chunk per task of ``tasks`` (probes grouped by task, in that order), for models whose
    features cannot be split by rows."""
    chunks, start = [], 0
    for t in tasks:
        stop = start + int((owner == t).sum())
        width = int(lengths[start:stop].max())
        chunks.append(Chunk(start, stop, width, (ChunkPart(t, None, rows[start:stop]),)))
        start = stop
    return chunks


class ProbeSet:
    """Every task's probes, with the chunk plan of a pass over all of them (``tokens``, ``lengths``,
    ``chunks``) and, built when first asked for, of a pass over only some tasks."""

    def __init__(
        self,
        suite: TaskSuite,
        hard_index: list[torch.Tensor],
        reward_index: list[torch.Tensor],
        chunk_size: int = 64,
        batch_probes: bool = True,
    ):
        self.suite = suite
        self.chunk_size, self.batch_probes = chunk_size, batch_probes
        dev_indices = [torch.cat([h, r]).unique() for h, r in zip(hard_index, reward_index, strict=True)]
        width = max(int(suite[t].dev.lengths[idx].max()) for t, idx in enumerate(dev_indices))
        self.tasks: list[TaskProbes] = []
        self._tokens: list[torch.Tensor] = []
        self._lengths: list[torch.Tensor] = []
        for t, idx in enumerate(dev_indices):
            dev = suite[t].dev
            padded = torch.full((len(idx), width), PAD_ID, dtype=torch.long)
            cut = min(width, dev.tokens.shape[1])
            padded[:, :cut] = dev.tokens[idx, :cut]
            labels = dev.labels[idx]
            if labels.dim() == 2:
                wide = torch.full((len(idx), width), IGNORE_INDEX, dtype=torch.long)
                wide[:, :cut] = labels[:, :cut]
                labels = wide
            self.tasks.append(
                TaskProbes(idx, torch.isin(idx, hard_index[t]), torch.isin(idx, reward_index[t]), labels)
            )
            self._tokens.append(padded)
            self._lengths.append(dev.lengths[idx])
        self.width = width
        everything = self._layout(tuple(range(len(self.tasks))))
        self._layouts = {everything.tasks: everything}
        self.tokens, self.lengths, self.chunks = everything.tokens, everything.lengths, everything.chunks

    def _layout(self, tasks: tuple[int, ...]) -> Layout:
        """The probes of ``tasks``, sorted by length (then grouped by task without batch_probes)
        and cut into chunks: a pass over a subset is planned as the full pass is, so it costs
        only the subset's chunks."""
        lengths_all = torch.cat([self._lengths[t] for t in tasks])
        owner = torch.cat([torch.full((len(self._lengths[t]),), t) for t in tasks])
        rows = torch.cat([torch.arange(len(self._lengths[t])) for t in tasks])
        order = torch.argsort(lengths_all, stable=True)
        tokens = torch.cat([self._tokens[t] for t in tasks])[order]
        lengths, owner, rows = lengths_all[order], owner[order], rows[order]
        if self.batch_probes:
            return Layout(tasks, tokens, lengths, length_chunks(owner, rows, lengths, self.chunk_size))
        by_task = torch.argsort(owner, stable=True)
        tokens, lengths, owner, rows = tokens[by_task], lengths[by_task], owner[by_task], rows[by_task]
        return Layout(tasks, tokens, lengths, task_chunks(owner, rows, lengths, tasks))

    def logits(self, model: nn.Module, tasks: Sequence[int] | None = None) -> list[torch.Tensor]:
        """Per task of ``tasks`` (increasing task indices; every task by default), in that order,
        the logits of its probes (``[n, C]``, or ``[n, W, C]`` for tagging)."""
        key = tuple(range(len(self.tasks))) if tasks is None else tuple(int(t) for t in tasks)
        if key not in self._layouts:
            self._layouts[key] = self._layout(key)
        layout = self._layouts[key]
        device = next(model.parameters()).device
        outputs = {}
        for t in key:
            task = self.suite[t]
            shape = (len(self.tasks[t].dev_index), task.num_labels)
            if task.kind is TaskKind.TAGGING:
                shape = (shape[0], self.width, task.num_labels)
            outputs[t] = torch.zeros(shape)
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode():
                for chunk in layout.chunks:
                    tokens = layout.tokens[chunk.start : chunk.stop, : chunk.width].to(device)
                    features = model.encode(tokens, layout.lengths[chunk.start : chunk.stop].to(device))
                    for part in chunk.parts:
                        rows = (
                            features
                            if part.rows_in_chunk is None
                            else take_rows(features, part.rows_in_chunk.to(device))
                        )
                        logits = model.head(part.task, rows).cpu()
                        if logits.dim() == 3:
                            outputs[part.task][part.task_rows, : chunk.width] = logits
                        else:
                            outputs[part.task][part.task_rows] = logits
        finally:
            model.train(was_training)
        return [outputs[t] for t in key]
