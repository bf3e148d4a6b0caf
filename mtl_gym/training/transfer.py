"""Transfer of a trained shared encoder to a task it never saw: the QLS paper's leave-one-out
experiment (§5.1, Table 3). The encoder is frozen, a new randomly initialised task layer is
trained on the held-out task, and its accuracy is estimated by k-fold cross-validation.

The paper does not say which of the held-out domain's examples the folds cover, nor how the new
layer is trained; here the folds split all of its examples (train, dev and test pooled) and the
layer is trained with Adam for a fixed number of epochs, without early stopping, so that no
fold's test examples steer its training.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..data import TaskKind, TaskSuite
from ..data.task import SPLITS
from ..models import check_model, shared_parameters
from ..spec import Settings


@dataclass(frozen=True)
class TransferConfig(Settings):
    folds: int = 5
    """Folds of the cross-validation (the paper's 5)."""
    epochs: int = 30
    """Passes of the new task layer over its training folds."""
    batch_size: int = 64
    """Examples per step of the new task layer (also the encoding chunk)."""
    lr: float = 1e-3
    """Adam's learning rate for the new task layer."""
    seed: int = 0
    """Seeds the fold split, the new layer's initialisation and the example order."""

    def __post_init__(self) -> None:
        if self.folds < 2 or self.epochs < 1 or self.batch_size < 1 or self.lr <= 0:
            raise ValueError(
                f"invalid TransferConfig {self}: folds >= 2, epochs >= 1, batch_size >= 1, lr > 0"
            )


@dataclass(frozen=True)
class TransferResult:
    task: str
    examples: int
    fold_accuracies: list[float]

    @property
    def accuracy(self) -> float:
        return sum(self.fold_accuracies) / len(self.fold_accuracies)

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": self.accuracy}


def cross_validate_head(
    trained: nn.Module,
    model_factory: Callable[[TaskSuite], nn.Module],
    target: TaskSuite,
    config: TransferConfig = TransferConfig(),
) -> TransferResult:
    """k-fold accuracy of a new task layer on the one (classification) task of ``target`` over
    the frozen shared encoder of ``trained``. ``model_factory`` builds the model ``trained`` came
    from; built for ``target``, it gives the new layer, and takes every shared weight of ``trained``."""
    if len(target) != 1 or target[0].kind is not TaskKind.CLASSIFICATION:
        raise ValueError(
            f"transfer needs one classification task to hold out, got {[(t.name, t.kind.value) for t in target]}"
        )
    task = target[0]
    torch.manual_seed(config.seed)
    probe = model_factory(target)
    check_model(probe, 1)
    _load_encoder(probe, trained)
    for parameter in shared_parameters(probe):
        parameter.requires_grad_(False)
    probe.eval()  # frozen features: no dropout
    chunks = _encoded_chunks(probe, task, config)
    examples = sum(len(labels) for _, labels, _ in chunks)
    generator = torch.Generator().manual_seed(config.seed)
    fold_of = torch.randperm(examples, generator=generator) % config.folds
    initial = copy.deepcopy(probe.heads.state_dict())
    accuracies = []
    for fold in range(config.folds):
        probe.heads.load_state_dict(initial)
        _fit_head(probe, chunks, fold_of, fold, config, generator)
        accuracies.append(_fold_accuracy(probe, chunks, fold_of, fold))
    return TransferResult(task.name, examples, accuracies)


def _load_encoder(probe: nn.Module, trained: nn.Module) -> None:
    shared = {k: v for k, v in trained.state_dict().items() if not k.startswith("heads.")}
    missing, unexpected = probe.load_state_dict(shared, strict=False)
    missing = [k for k in missing if not k.startswith("heads.")]
    if missing or unexpected:
        raise ValueError(
            f"the trained encoder does not fit the model built for the held-out task: missing {missing}, "
            f"unexpected {unexpected}; build both from one factory over one vocabulary (TaskSuite.subset)"
        )


Chunk = tuple[Any, torch.Tensor, torch.Tensor]
"""Encoder features of up to ``batch_size`` examples, their labels, and their positions in the pool."""


def _encoded_chunks(probe: nn.Module, task, config: TransferConfig) -> list[Chunk]:
    # Encoded once: the encoder is frozen, so only the new layer needs gradients. Examples are
    # shuffled before chunking because data files are often sorted by label.
    generator = torch.Generator().manual_seed(config.seed)
    chunks, offset = [], 0
    with torch.no_grad():
        for split_name in SPLITS:
            split = task.split(split_name)
            order = torch.randperm(len(split), generator=generator)
            for index in order.split(config.batch_size):
                batch = split.batch(index)
                features = probe.encode(batch.tokens, batch.lengths)
                chunks.append((features, batch.labels, offset + torch.arange(len(index))))
                offset += len(index)
    return chunks


def _fit_head(
    probe: nn.Module,
    chunks: list[Chunk],
    fold_of: torch.Tensor,
    fold: int,
    config: TransferConfig,
    generator: torch.Generator,
) -> None:
    optimizer = torch.optim.Adam(probe.heads.parameters(), lr=config.lr)
    for _ in range(config.epochs):
        for chunk in torch.randperm(len(chunks), generator=generator).tolist():
            features, labels, positions = chunks[chunk]
            training = fold_of[positions] != fold
            if not training.any():
                continue
            losses = F.cross_entropy(probe.head(0, features), labels, reduction="none")
            loss = losses[training].mean()
            if not torch.isfinite(loss):
                raise FloatingPointError(f"non-finite loss {float(loss)} fitting the new task layer")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def _fold_accuracy(probe: nn.Module, chunks: list[Chunk], fold_of: torch.Tensor, fold: int) -> float:
    correct = count = 0
    with torch.no_grad():
        for features, labels, positions in chunks:
            held = fold_of[positions] == fold
            predictions = probe.head(0, features).argmax(dim=-1)
            correct += int(predictions[held].eq(labels[held]).sum())
            count += int(held.sum())
    return correct / count
