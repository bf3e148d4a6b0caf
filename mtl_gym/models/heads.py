"""What the shipped models share: sequence features and one linear head per task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from ..data import TaskKind, TaskSuite


class SequenceFeatures(NamedTuple):
    """Output of a shipped encoder: per-token states (None when no task tags) and one vector per example."""

    tokens: torch.Tensor | None
    pooled: torch.Tensor


class TaskSpec(NamedTuple):
    kind: TaskKind
    num_labels: int


def task_specs(suite: TaskSuite) -> list[TaskSpec]:
    return [TaskSpec(task.kind, task.num_labels) for task in suite]


class LinearHeadsMTL(nn.Module):
    """Base of the shipped models: word embeddings with dropout, a shared encoder that subclasses
    add (from ``self.embedding.embedding_dim`` to ``self.hidden_dim``) and run in ``encode``, and
    a linear (+softmax in the loss) head per task.

    Classification heads read ``features.pooled``; tagging heads read ``features.tokens``.
    """

    def __init__(
        self,
        vocab_size: int,
        tasks: Sequence[TaskSpec],
        embedding_dim: int = 300,
        hidden_dim: int = 100,
        dropout: float = 0.0,
        vectors: torch.Tensor | None = None,
    ):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.kinds = [spec.kind for spec in tasks]
        self.tags_tokens = TaskKind.TAGGING in self.kinds
        self.embedding = make_embedding(vocab_size, embedding_dim, vectors)
        self.dropout = nn.Dropout(dropout)
        self.heads = linear_heads(hidden_dim, tasks)

    def head(self, task_index: int, features: SequenceFeatures) -> torch.Tensor:
        if self.kinds[task_index] is TaskKind.TAGGING:
            return self.heads[task_index](features.tokens)
        return self.heads[task_index](features.pooled)


def linear_heads(hidden_dim: int, tasks: Sequence[TaskSpec]) -> nn.ModuleList:
    """One linear head per task, Xavier-initialised weights and zero biases (QLS §4.4)."""
    heads = nn.ModuleList(nn.Linear(hidden_dim, spec.num_labels) for spec in tasks)
    for head in heads:
        nn.init.xavier_uniform_(head.weight)
        nn.init.zeros_(head.bias)
    return heads


def make_embedding(vocab_size: int, dim: int, vectors: torch.Tensor | None) -> nn.Embedding:
    """Embedding with Xavier init (QLS §4.4), or the given pretrained matrix."""
    embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
    if vectors is not None:
        if tuple(vectors.shape) != (vocab_size, dim):
            raise ValueError(
                f"pretrained vectors are {tuple(vectors.shape)}, the model needs {(vocab_size, dim)}"
            )
        embedding.weight.data.copy_(vectors)
    else:
        nn.init.xavier_uniform_(embedding.weight)
        embedding.weight.data[0].zero_()
    return embedding
