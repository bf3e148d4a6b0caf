"""Minibatches of one task, drawn without replacement within each epoch of that task."""

from __future__ import annotations

import numpy as np
import torch


class EpochSampler:
    """Index batches over ``size`` examples: a fresh seeded permutation per epoch, consumed in
    order. The last batch of an epoch may be short rather than mixing two epochs."""

    def __init__(self, size: int, batch_size: int, seed: int | list[int]):
        if size < 1 or batch_size < 1:
            raise ValueError(f"size and batch_size must be positive, got {size} and {batch_size}")
        self.size = size
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.epoch = 0
        self._order = torch.from_numpy(self.rng.permutation(size))
        self._position = 0

    def next_index(self) -> torch.Tensor:
        if self._position >= self.size:
            self._order = torch.from_numpy(self.rng.permutation(self.size))
            self._position = 0
            self.epoch += 1
        index = self._order[self._position : self._position + self.batch_size]
        self._position += len(index)
        return index
