"""Optimizers, and how the word embedding is updated.

Dense Adam over a 30K x 300 embedding dominates a training step on a CPU (67 ms against 15 ms
frozen and 17 ms sparse for the FS-MTL LSTM on fsmtl16; ``python -m benchmarks.trainer_speed``),
because Adam touches all 9M weights on every step although a minibatch of 16 reviews uses a
few hundred rows. The default,
``sparse``, therefore gives the embedding sparse gradients and ``torch.optim.SparseAdam``
(which updates only the rows in the batch, keeping lazy moments for the rest) and the other
parameters the chosen optimizer. ``dense`` is the textbook setting; ``frozen`` keeps pretrained
vectors fixed.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

OptimizerFactory = Callable[[list[nn.Parameter], nn.Module], torch.optim.Optimizer]
"""Builds the optimizer of the dense trainable parameters; it also gets the model, so that an
optimizer can tell shared parameters from task heads (``mtl_gym.models.shared_parameters``)."""
EMBEDDING_UPDATES = ("sparse", "dense", "frozen")


def adam(lr: float = 1e-3) -> OptimizerFactory:
    def build(params: list[nn.Parameter], model: nn.Module) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr)

    return build


class CombinedOptimizer:
    """Several optimizers over disjoint parameter groups, stepped together as one."""

    def __init__(self, optimizers: list[torch.optim.Optimizer]):
        self.optimizers = optimizers

    def zero_grad(self, set_to_none: bool = True) -> None:
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=set_to_none)

    def step(self) -> None:
        for optimizer in self.optimizers:
            optimizer.step()

    def state_dict(self) -> list[dict]:
        return [optimizer.state_dict() for optimizer in self.optimizers]

    def load_state_dict(self, states: list[dict]) -> None:
        for optimizer, state in zip(self.optimizers, states, strict=True):
            optimizer.load_state_dict(state)


def build_optimizer(
    model: nn.Module, factory: OptimizerFactory, embedding_update: str = "sparse", lr: float = 1e-3
) -> CombinedOptimizer:
    """Apply ``embedding_update`` to every ``nn.Embedding`` of ``model`` and build its optimizers."""
    if embedding_update not in EMBEDDING_UPDATES:
        raise ValueError(f"embedding_update must be one of {EMBEDDING_UPDATES}, got {embedding_update!r}")
    embeddings = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    sparse_weights = []
    for embedding in embeddings:
        embedding.sparse = embedding_update == "sparse"
        embedding.weight.requires_grad_(embedding_update != "frozen")
        if embedding.sparse:
            sparse_weights.append(embedding.weight)
    sparse_ids = {id(p) for p in sparse_weights}
    dense = [p for p in model.parameters() if p.requires_grad and id(p) not in sparse_ids]
    optimizers = [factory(dense, model)]
    if sparse_weights:
        optimizers.append(torch.optim.SparseAdam(sparse_weights, lr=lr))
    return CombinedOptimizer(optimizers)
