"""Prioritize easy: most minibatches on the task of lowest dev loss."""

from __future__ import annotations

import numpy as np

from .prioritize import Prioritize


class PrioritizeEasy(Prioritize):
    """``share`` of the minibatches on the allowed task with the lowest current dev loss (the QLS
    paper's "Prior. Easy", §5.3, Table 6); see :class:`Prioritize`."""

    name = "prioritize-easy"
    paper = "the QLS paper's Prioritize Easy baseline (§5.3, Table 6)"

    def favoured(self, allowed: np.ndarray, loss: np.ndarray) -> int:
        return int(allowed[np.argmin(loss[allowed])])
