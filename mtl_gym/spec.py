"""The one parser of settings written as text: ``KEY=VALUE`` flags, method specs
``NAME:key=value,...`` and comma lists of them, and the dataclass they fill.

The CLI, the method registry and the bench harness all read text through this module, so a value is
spelled the same way everywhere: JSON where it is JSON (``3``, ``[0.9,0.8]``, ``true``, ``null``,
``"a b"``), else a Python literal (``(0.2, 0.8)``, ``True``, ``None``), else the plain string.
It imports nothing from the rest of the package.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class SpecError(ValueError):
    """Text that does not parse, or names a setting that does not exist."""


def parse_value(text: str) -> Any:
    """A value of a ``KEY=VALUE`` pair: JSON, else a Python literal, else the string itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def parse_assignments(items: Iterable[str], flag: str) -> dict[str, Any]:
    """Repeated ``KEY=VALUE`` flags (``--option dev_size=100 --option domains=["a","b"]``) as a dict."""
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"{flag} expects KEY=VALUE, got {item!r}")
        values[key.strip()] = parse_value(value)
    return values


_TOP_LEVEL_COMMA = re.compile(r",(?![^\[(]*[\])])")
"""Commas outside brackets, so that ``reference=[0.9,0.8]`` or ``quantiles=(0.1,0.9)`` stays one argument."""


def parse_arguments(argument: str) -> tuple[list[Any], dict[str, Any]]:
    """The ``ARGS`` of ``NAME:ARGS``, ``"2,1"`` or ``"a=1,b=x"``, as positional values and keywords."""
    positional: list[Any] = []
    keywords: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in _TOP_LEVEL_COMMA.split(argument))):
        key, sign, value = part.partition("=")
        if sign:
            keywords[key.strip()] = parse_value(value.strip())
        else:
            positional.append(parse_value(part))
    return positional, keywords


def spec_keywords(argument: str, positional: str | None, what: str) -> dict[str, Any]:
    """The hyperparameters of the ``ARGS`` of ``NAME:ARGS``: ``key=value`` pairs, plus bare values
    for the one ``positional`` hyperparameter a method may have (several bare values make a list)."""
    values, keywords = parse_arguments(argument)
    if values:
        if positional is None:
            raise SpecError(f"{what} takes key=value arguments, got {argument!r}")
        keywords[positional] = values[0] if len(values) == 1 else values
    return keywords


def split_spec(spec: str) -> tuple[str, str]:
    """``"proportional:temperature=2"`` into ``("proportional", "temperature=2")``."""
    name, _, argument = spec.strip().partition(":")
    return name.strip(), argument


def split_spec_list(text: str) -> list[str]:
    """``a,b,...`` into specs, keeping a spec's own arguments together: a part without a colon that
    is a number or ``key=value`` continues the spec before it (``fixed-weights:books=2,dvd=0.5,equal``)."""
    specs: list[str] = []
    for part in (p.strip() for p in _TOP_LEVEL_COMMA.split(text)):
        if specs and ":" in specs[-1] and ":" not in part and ("=" in part or _is_number(part)):
            specs[-1] += f",{part}"
        elif part:
            specs.append(part)
    return specs


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def close_matches(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'a' or 'b'?"``, or ``""`` when nothing is close."""
    found = difflib.get_close_matches(word, list(candidates), n=4, cutoff=0.6)
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(f) for f in found) + "?"


def build_dataclass(cls: type, values: Mapping[str, Any] | Any, what: str) -> Any:
    """``cls(**values)``, or ``values`` itself when it already is a ``cls``; an unknown key fails
    naming ``what``, the key, its close matches and every known field."""
    if isinstance(values, cls):
        return values
    if not isinstance(values, Mapping):
        raise SpecError(f"{what} takes a {cls.__name__} or a dict, got {type(values).__name__}")
    known = [f.name for f in dataclasses.fields(cls)]
    for key in values:
        if key not in known:
            listing = ", ".join(known) if known else "nothing"
            raise SpecError(f"{what} has no setting {key!r}{close_matches(key, known)} (it takes {listing})")
    try:
        return cls(**values)
    except TypeError as err:
        raise SpecError(f"{what}: {err}") from None


@dataclasses.dataclass(frozen=True)
class NoHyperparameters:
    """The method has nothing to tune."""


def hyperparameter_defaults(cls: type) -> dict[str, Any]:
    """Each field's default (None for a required one), as ``mtl-gym methods`` lists them."""
    defaults = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
        else:
            defaults[f.name] = None
    return defaults


class Configurable:
    """The base of every method of the registry: a ``name``, a ``paper``, a frozen dataclass of
    ``Hyperparameters`` (each field documented) and the constructor from a spec's ``ARGS``."""

    name: ClassVar[str]
    paper: ClassVar[str] = ""
    family: ClassVar[str] = "method"
    """What error messages call it: scheduler, joint method, optimizer, ..."""
    Hyperparameters: ClassVar[type] = NoHyperparameters
    positional: ClassVar[str | None] = None
    """The hyperparameter a bare spec argument sets (``single:books`` sets ``task``)."""

    def __init__(self, **hyperparameters: Any):
        self.hyperparameters = build_dataclass(
            self.Hyperparameters, hyperparameters, f"{self.family} {self.name!r}"
        )

    @classmethod
    def from_argument(cls, argument: str) -> Any:
        """The method of the spec ``NAME:argument``."""
        return cls(**spec_keywords(argument, cls.positional, f"{cls.family} {cls.name!r}"))


class Settings:
    """A settings dataclass that is built from itself or a dict (``TrainerConfig.of({"lr": 3e-3})``)
    and written back as a dict, so every API takes either."""

    @classmethod
    def of(cls, values: Any = None) -> Any:
        return build_dataclass(cls, {} if values is None else values, cls.__name__)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
