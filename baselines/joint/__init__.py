"""Joint methods: every task's minibatch in every step, one method per module, selected by name.

>>> result = run_joint(make_joint_method("pcgrad"), suite, budget=2000, seed=0)

or, by hand, ``method.attach(trainer)`` then ``method.step(trainer)`` until the budget is spent.
"""

from __future__ import annotations

from typing import Any

from .aggregator import AggregatorMethod
from .aligned_mtl import AlignedMTLMethod
from .base import GradientMethod, JointMethod, MissingExtraError, ScalarizingMethod, steps_per_epoch
from .cagrad import CAGradMethod
from .dwa import DWAMethod
from .equal import EqualMethod
from .focal import FocalMethod, focal_loss
from .gradnorm import GradNormMethod
from .imtl import IMTLMethod
from .loss_exp import LossExpMethod
from .mgda import MGDAMethod
from .muppet import MuppetMethod
from .nash_mtl import NashMTLMethod
from .pcgrad import PCGradMethod
from .rlw import RLWMethod
from .runner import run_joint
from .self_paced import SelfPacedMethod
from .uncertainty import UncertaintyMethod
from .upgrad import UPGradMethod

JOINT_METHODS: dict[str, type[JointMethod]] = {
    method.name: method
    for method in (
        EqualMethod,
        RLWMethod,
        UncertaintyMethod,
        DWAMethod,
        PCGradMethod,
        MGDAMethod,
        CAGradMethod,
        IMTLMethod,
        NashMTLMethod,
        AlignedMTLMethod,
        UPGradMethod,
        GradNormMethod,
        MuppetMethod,
        LossExpMethod,
        FocalMethod,
        SelfPacedMethod,
    )
}


def make_joint_method(name: str, **hyperparameters: Any) -> JointMethod:
    """The joint method called ``name`` with the given hyperparameters (the others at their defaults)."""
    if name not in JOINT_METHODS:
        raise KeyError(f"unknown joint method {name!r}; known: {sorted(JOINT_METHODS)}")
    return JOINT_METHODS[name](**hyperparameters)


__all__ = [
    "JOINT_METHODS",
    "AggregatorMethod",
    "AlignedMTLMethod",
    "CAGradMethod",
    "DWAMethod",
    "EqualMethod",
    "FocalMethod",
    "GradNormMethod",
    "GradientMethod",
    "IMTLMethod",
    "JointMethod",
    "LossExpMethod",
    "MGDAMethod",
    "MissingExtraError",
    "MuppetMethod",
    "NashMTLMethod",
    "PCGradMethod",
    "RLWMethod",
    "ScalarizingMethod",
    "SelfPacedMethod",
    "UPGradMethod",
    "UncertaintyMethod",
    "focal_loss",
    "make_joint_method",
    "run_joint",
    "steps_per_epoch",
]
