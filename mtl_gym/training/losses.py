"""Task losses: cross-entropy of eq. (2) of the QLS paper, per example or per token."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import IGNORE_INDEX, Batch


def task_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over examples, or over real tokens for tagging (``logits`` ``[B, T, C]``)."""
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORE_INDEX
    )


def example_losses(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """One loss per example ``[B]``; for tagging, the mean over that sentence's real tokens."""
    if logits.dim() == 2:
        return F.cross_entropy(logits, labels, reduction="none")
    per_token = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX, reduction="none")
    real = labels.ne(IGNORE_INDEX)
    return per_token.sum(dim=1) / real.sum(dim=1).clamp(min=1)


class DistillationLoss:
    """L^KD_t of the Async-KD paper §3: cross-entropy of the student's softmax(logits / T) to the teacher's soft labels,
    times T^2; mean over examples, or over real tokens for tagging. A trainer loss function."""

    def __init__(self, teacher: torch.Tensor, temperature: float = 1.0):
        self.teacher = teacher
        self.temperature = temperature

    def __call__(self, logits: torch.Tensor, batch: Batch) -> torch.Tensor:
        targets = self.teacher[batch.index].to(logits.device)
        tagging = logits.dim() == 3
        if tagging:
            targets = targets[:, : logits.shape[1]]
        per_item = -(targets * (logits / self.temperature).log_softmax(-1)).sum(-1)
        if tagging:
            per_item = per_item[batch.labels.to(logits.device).ne(IGNORE_INDEX)]
        return per_item.mean() * self.temperature**2
