"""The one evaluation path: batched, in inference mode, per task and split."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..data import IGNORE_INDEX, Batch, Task, TaskKind, TaskSuite
from .chunks import chunk_f1, is_chunk_scheme
from .losses import example_losses


@dataclass(frozen=True)
class TaskMetrics:
    loss: float
    """Mean cross-entropy per example (per real token for tagging)."""
    accuracy: float
    """Example accuracy, or token accuracy for tagging."""
    chunk_f1: float | None = None
    """Chunk F1 for IOB tagging tasks, else None."""

    def to_dict(self) -> dict:
        return asdict(self)


def split_logits(
    model: nn.Module,
    task_index: int,
    task: Task,
    split: str = "dev",
    index: torch.Tensor | None = None,
    batch_size: int = 64,
) -> Iterator[tuple[torch.Tensor, Batch, torch.Tensor]]:
    """``(positions, batch, logits)`` over the examples ``index`` (default: the whole split), in
    inference mode. Examples are visited shortest first so that each batch carries little padding;
    ``positions`` says which examples of the split a batch holds."""
    data = task.split(split)
    if index is None:
        index = torch.arange(len(data))
    order = index[torch.argsort(data.lengths[index], stable=True)]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for chunk in order.split(batch_size):
                batch = data.batch(chunk)
                tokens, lengths = batch.tokens.to(device), batch.lengths.to(device)
                yield chunk, batch, model.head(task_index, model.encode(tokens, lengths)).cpu()
    finally:
        model.train(was_training)


def evaluate_task(
    model: nn.Module, task_index: int, task: Task, split: str = "dev", batch_size: int = 64
) -> TaskMetrics:
    loss_sum = 0.0
    correct = count = 0
    gold_tags, predicted_tags = [], []
    track_chunks = task.kind is TaskKind.TAGGING and is_chunk_scheme(task.label_names)
    for _, batch, logits in split_logits(model, task_index, task, split, batch_size=batch_size):
        predictions = logits.argmax(dim=-1)
        if task.kind is TaskKind.TAGGING:
            real = batch.labels.ne(IGNORE_INDEX)
            tokens = real.sum(dim=1)
            loss_sum += float((example_losses(logits, batch.labels) * tokens).sum())
            correct += int((predictions.eq(batch.labels) & real).sum())
            count += int(tokens.sum())
            if track_chunks:
                names = task.label_names
                for gold_row, predicted_row, n in zip(
                    batch.labels, predictions, batch.lengths.tolist(), strict=True
                ):
                    gold_tags.append([names[i] for i in gold_row[:n].tolist()])
                    predicted_tags.append([names[i] for i in predicted_row[:n].tolist()])
        else:
            loss_sum += float(example_losses(logits, batch.labels).sum())
            correct += int(predictions.eq(batch.labels).sum())
            count += len(batch)
    f1 = chunk_f1(gold_tags, predicted_tags) if track_chunks else None
    return TaskMetrics(loss_sum / count, correct / count, f1)


def evaluate(
    model: nn.Module,
    suite: TaskSuite,
    split: str = "dev",
    tasks: list[int] | None = None,
    batch_size: int = 64,
) -> dict[str, TaskMetrics]:
    """Metrics of every task (or of ``tasks``) on ``split``, keyed by task name."""
    indices = range(len(suite)) if tasks is None else tasks
    return {suite[i].name: evaluate_task(model, i, suite[i], split, batch_size) for i in indices}
