"""Every method family, registered once. Adding a method is one new file in its family and one
entry in that family's list (``SCHEDULERS``, ``JOINT_METHODS``, ``KD_METHODS``, ``OPTIMIZERS``)."""

from __future__ import annotations

from ..agents.ppo import PPOScheduler
from ..agents.qls import QLSScheduler
from ..baselines.adatask.methods import OPTIMIZERS
from ..baselines.joint import JOINT_METHODS
from ..baselines.kd import KD_METHODS
from ..baselines.schedulers import SCHEDULERS
from .registry import Registry

METHODS = Registry()
for scheduler in SCHEDULERS.values():
    METHODS.register("scheduler", scheduler)
for joint in JOINT_METHODS.values():
    METHODS.register("joint", joint)
for kd in KD_METHODS:
    METHODS.register("kd", kd)
METHODS.register("agent", QLSScheduler)
METHODS.register("agent", PPOScheduler)
for optimizer in OPTIMIZERS:
    METHODS.register("optimizer", optimizer)
