"""Baseline schedulers, loss and gradient balancing methods, and the AdaTask optimizer.

Every method trains through ``mtl_gym.training.Trainer``:

- ``baselines.schedulers``: task schedulers (one task per step), run through the env.
- ``baselines.joint``: joint methods (every task in every step), selected by name with
  ``make_joint_method``: loss weightings (equal, rlw, uncertainty, dwa, gradnorm, muppet,
  loss-exp, focal, self-paced) and gradient aggregators from ``torchjd`` (pcgrad, mgda, cagrad,
  imtl, nash-mtl, aligned-mtl, upgrad).
- ``baselines.adatask``: the AdaTask optimizer (per-task adaptive learning rates for shared
  parameters), wired into a trainer by ``attach_adatask``, alone or under any joint method or
  scheduler, and the rAU task-dominance diagnostic.
"""

from .adatask import AdaTaskConfig, TaskDominance, attach_adatask, plot_dominance
from .joint import JOINT_METHODS, JointMethod, make_joint_method

__all__ = [
    "JOINT_METHODS",
    "AdaTaskConfig",
    "JointMethod",
    "TaskDominance",
    "attach_adatask",
    "make_joint_method",
    "plot_dominance",
]
