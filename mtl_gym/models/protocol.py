"""The model protocol: what a user implements to plug an MTL model into mtl-gym.

A model is an ``nn.Module`` with

- ``encode(tokens, lengths) -> features``: the shared encoder. ``tokens`` is ``[B, T]`` int64
  (0 pads), ``lengths`` is ``[B]``. ``features`` may be any object; only the model's own heads read it.
- ``head(task_index, features) -> logits``: ``[B, C_k]`` for classification, ``[B, T, C_k]``
  (per token) for tagging.
- ``heads``: an ``nn.ModuleList`` holding one module per task. Every parameter outside it is
  shared, which is how optimizers and gradient methods tell shared from task-specific weights.

The trainer, the env and every baseline reach a model only through these three names.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class MTLModel(Protocol):
    heads: nn.ModuleList

    def encode(self, tokens: torch.Tensor, lengths: torch.Tensor) -> Any: ...

    def head(self, task_index: int, features: Any) -> torch.Tensor: ...


def check_model(model: Any, num_tasks: int) -> None:
    """Raise a TypeError saying what is missing when ``model`` does not follow the protocol."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"an MTL model must be a torch.nn.Module, got {type(model).__name__}")
    missing = [name for name in ("encode", "head", "heads") if not hasattr(model, name)]
    if missing:
        raise TypeError(
            f"{type(model).__name__} lacks {missing} of the MTL model protocol (mtl_gym.models.protocol)"
        )
    if not isinstance(model.heads, nn.ModuleList) or len(model.heads) != num_tasks:
        raise TypeError(
            f"{type(model).__name__}.heads must be an nn.ModuleList with one module per task ({num_tasks})"
        )


def shared_parameters(model: nn.Module) -> list[nn.Parameter]:
    """Trainable parameters outside ``model.heads``."""
    in_heads = {id(p) for p in model.heads.parameters()}
    return [p for p in model.parameters() if p.requires_grad and id(p) not in in_heads]
