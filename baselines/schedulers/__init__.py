"""Task schedulers: choose the next task; run through the env by ``mtl_gym.env.run_schedule``."""

from .base import Scheduler, allowed_tasks
from .simple import Random, Single, Uniform

SCHEDULERS: dict[str, type[Scheduler]] = {cls.name: cls for cls in (Uniform, Random, Single)}


def make_scheduler(spec: str) -> Scheduler:
    """A scheduler from its name; ``single:<task>`` trains one task alone."""
    name, _, argument = spec.partition(":")
    if name not in SCHEDULERS:
        raise KeyError(f"unknown scheduler {name!r}; known: {sorted(SCHEDULERS)}")
    if name == "single":
        if not argument:
            raise ValueError("the single scheduler needs a task: single:<task>")
        return Single(argument)
    if argument:
        raise ValueError(f"scheduler {name!r} takes no argument, got {spec!r}")
    return SCHEDULERS[name]()


__all__ = ["SCHEDULERS", "Random", "Scheduler", "Single", "Uniform", "allowed_tasks", "make_scheduler"]
