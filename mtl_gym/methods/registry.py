"""One registry of every method by name: schedulers, joint methods, the Async-KD rule, trained
agents and optimizers.

A method is a class with a ``name``, a ``paper``, a frozen dataclass ``Hyperparameters`` (each field
documented, each settable by name) and ``from_argument(text)``, which builds it from the ``ARGS`` of
the spec ``NAME:ARGS``. Families list their classes (``SCHEDULERS``, ``JOINT_METHODS``, ...);
:mod:`mtl_gym.methods.catalog` registers them. A full spec may end in ``+OPTIMIZER`` (itself a
spec): ``dwa:temperature=1+adatask:variant=rmsprop``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ..spec import SpecError, close_matches, hyperparameter_defaults, split_spec

KINDS = ("scheduler", "joint", "kd", "agent", "optimizer")
"""scheduler: one task per step, through the env; joint: every task every step; kd: the Async-KD
rule over the env; agent: a trained scheduler agent; optimizer: the ``+OPTIMIZER`` suffix."""


class Method(Protocol):
    name: ClassVar[str]
    paper: ClassVar[str]
    Hyperparameters: ClassVar[type]

    @classmethod
    def from_argument(cls, argument: str) -> Any: ...


@dataclass(frozen=True)
class MethodSpec:
    """A registered method: its class and family."""

    kind: str
    cls: type

    @property
    def name(self) -> str:
        return self.cls.name

    def build(self, argument: str = "") -> Any:
        """The method of the spec ``NAME:argument``, its errors naming the method."""
        try:
            return self.cls.from_argument(argument)
        except SpecError:
            raise
        except (TypeError, ValueError) as err:
            raise SpecError(f"{self.kind} {self.name!r}: {err}") from None

    def describe(self) -> dict[str, Any]:
        """The entry of ``mtl-gym methods --json``."""
        return {
            "name": self.name,
            "kind": self.kind,
            "paper": self.cls.paper,
            "hyperparameters": hyperparameter_defaults(self.cls.Hyperparameters),
        }


@dataclass(frozen=True)
class ParsedMethod:
    """A full spec, parsed and built: the method and the optimizer it trains with."""

    spec: MethodSpec
    method: Any
    optimizer_spec: MethodSpec
    optimizer: Any
    label: str
    """The spec as written (``NAME[:ARGS][+OPTIMIZER]``), the run's name in results."""

    @property
    def kind(self) -> str:
        return self.spec.kind


class Registry:
    def __init__(self) -> None:
        self._specs: dict[str, MethodSpec] = {}

    def register(self, kind: str, cls: type) -> None:
        if kind not in KINDS:
            raise ValueError(f"method kind must be one of {KINDS}, got {kind!r}")
        if cls.name in self._specs:
            raise ValueError(f"method {cls.name!r} is registered twice")
        self._specs[cls.name] = MethodSpec(kind, cls)

    def __iter__(self) -> Iterator[MethodSpec]:
        return iter(self._specs.values())

    def names(self, kind: str | None = None) -> list[str]:
        return [s.name for s in self if kind is None or s.kind == kind]

    def get(self, name: str, kind: str | None = None) -> MethodSpec:
        """The spec called ``name``; an unknown one fails listing the close matches of every family."""
        spec = self._specs.get(name)
        if spec is None or (kind is not None and spec.kind != kind):
            what = f"{kind} " if kind else ""
            known = self.names(kind)
            hint = close_matches(name, known) or f"; known: {', '.join(known)}"
            raise SpecError(f"unknown {what}method {name!r}{hint} (`mtl-gym methods` lists them)")
        return spec

    def parse(self, text: str, optimizer: str = "adam") -> ParsedMethod:
        """Build ``NAME[:ARGS][+OPTIMIZER[:ARGS]]``; ``optimizer`` applies when there is no suffix."""
        base, suffix = self._split_optimizer(text)
        name, argument = split_spec(base)
        spec = self.get(name)
        if spec.kind == "optimizer":
            raise SpecError(f"{name!r} is an optimizer: append it to a method, e.g. equal+{name}")
        optimizer_text = suffix if suffix is not None else optimizer
        optimizer_name, optimizer_argument = split_spec(optimizer_text)
        optimizer_spec = self.get(optimizer_name, kind="optimizer")
        default_optimizer = suffix is None and optimizer_text == "adam"
        return ParsedMethod(
            spec=spec,
            method=spec.build(argument),
            optimizer_spec=optimizer_spec,
            optimizer=optimizer_spec.build(optimizer_argument),
            label=base.strip() if default_optimizer else f"{base.strip()}+{optimizer_text}",
        )

    def check(self, text: str) -> None:
        """Fail now, before any training, if ``text`` is not a valid spec."""
        self.parse(text)

    def _split_optimizer(self, text: str) -> tuple[str, str | None]:
        base, plus, suffix = text.rpartition("+")
        if plus and split_spec(suffix)[0] in self.names("optimizer"):
            return base, suffix
        return text, None
