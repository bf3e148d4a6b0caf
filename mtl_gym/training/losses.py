"""Task losses: cross-entropy of eq. (2) of the QLS paper, per example or per token."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import IGNORE_INDEX


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
