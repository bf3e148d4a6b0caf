"""Prioritize hard: most minibatches on the task of highest dev loss."""

from __future__ import annotations

import numpy as np

from .prioritize import Prioritize


class PrioritizeHard(Prioritize):
    """``share`` of the minibatches on the allowed task with the highest current dev loss (the QLS
    paper's "Prior. Hard", §5.3, Table 6); see :class:`Prioritize`."""

    name = "prioritize-hard"
    paper = "the QLS paper's Prioritize Hard baseline (§5.3, Table 6)"

    def favoured(self, allowed: np.ndarray, loss: np.ndarray) -> int:
        return int(allowed[np.argmax(loss[allowed])])
