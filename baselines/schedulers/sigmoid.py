"""Kiperwasser & Ballesteros 2018's sigmoid schedule."""

from __future__ import annotations

import math

from .main_task import KIPERWASSER_BALLESTEROS, MainTaskSchedule


class Sigmoid(MainTaskSchedule):
    """Main-task probability 1 / (1 + exp(-rate·x)), x the fraction of the run elapsed: half the
    minibatches at the start, rising toward all of them (the "sigmoid" schedule of Kiperwasser &
    Ballesteros 2018, α(t) = 1 / (1 + e^(-αt)); a baseline of the QLS paper, §5.3, Table 6). See
    :class:`MainTaskSchedule` for ``main`` and ``rate``."""

    name = "sigmoid"
    paper = KIPERWASSER_BALLESTEROS

    def main_share(self, elapsed: float) -> float:
        return 1.0 / (1.0 + math.exp(-self.rate * elapsed))
