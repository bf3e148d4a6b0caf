"""Kiperwasser & Ballesteros 2018's exponential schedule."""

from __future__ import annotations

import math

from .main_task import KIPERWASSER_BALLESTEROS, MainTaskSchedule


class Exponential(MainTaskSchedule):
    """Main-task probability 1 - exp(-rate·x), x the fraction of the run elapsed: only auxiliary
    tasks at the start, mostly the main task soon after (the "exponential" schedule of Kiperwasser &
    Ballesteros 2018, α(t) = 1 - e^(-αt); a baseline of the QLS paper, §5.3, Table 6). See
    :class:`MainTaskSchedule` for ``main`` and ``rate``."""

    name = "exponential"
    paper = KIPERWASSER_BALLESTEROS

    def main_share(self, elapsed: float) -> float:
        return 1.0 - math.exp(-self.rate * elapsed)
