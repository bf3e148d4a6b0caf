"""AdaTask (Yang et al. 2023, AAAI): task-wise adaptive learning rates for shared parameters,
its layer-wise variant, and the rAU task-dominance diagnostic."""

from .dominance import TaskDominance, draw_dominance, mean_report, plot_dominance
from .optimizer import VARIANTS, AdaTask
from .wiring import AdaTaskBackward, AdaTaskConfig, adatask_factory, attach_adatask

__all__ = [
    "VARIANTS",
    "AdaTask",
    "AdaTaskBackward",
    "AdaTaskConfig",
    "TaskDominance",
    "adatask_factory",
    "attach_adatask",
    "draw_dominance",
    "mean_report",
    "plot_dominance",
]
