"""Which torch device models train on: one name, checked when a config is built and resolved when a
model is placed, so that a typo or a missing GPU fails before any data loads, in one line that says
what this machine has.

Names: ``auto`` (the first CUDA GPU when torch sees one, else the CPU), ``cpu``, ``cuda`` (the
current CUDA GPU) or ``cuda:N``. A config keeps the name as written (``auto`` stays ``auto``), so
a config file means the same on a laptop and on a GPU server; :func:`resolve_device` turns it into
the machine's ``torch.device`` where a model, the batched env's tensors or an agent are placed.
"""

from __future__ import annotations

import torch

DEVICE_NAMES = "auto, cpu, cuda or cuda:N"
"""The names :func:`check_device` accepts, as its errors list them."""


def available_devices() -> list[str]:
    """The devices this process can train on: ``cpu``, then ``cuda:0``, ``cuda:1``, ... as torch sees them."""
    cuda = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return ["cpu", *(f"cuda:{index}" for index in range(cuda))]


def check_device(name: str | torch.device) -> str:
    """``name`` lower-cased and stripped, or a one-line ValueError: an unknown name, or a device this
    machine lacks, each followed by the devices it has."""
    text = str(name).strip().lower()
    if text == "auto":
        return text
    available = available_devices()
    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        device = None
    if device is None or device.type not in ("cpu", "cuda"):
        raise ValueError(
            f"unknown device {str(name)!r} (expected {DEVICE_NAMES}); available: {', '.join(available)}"
        )
    if device.type == "cuda" and (
        len(available) == 1 or (device.index is not None and f"cuda:{device.index}" not in available)
    ):
        seen = "" if len(available) > 1 else f" (torch {torch.__version__} sees no CUDA GPU)"
        raise ValueError(f"device {text!r} is not available{seen}; available: {', '.join(available)}")
    return "cpu" if device.type == "cpu" else text


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` of a checked name: ``auto`` is the current CUDA GPU when torch sees one,
    else the CPU; ``cuda`` gets the current GPU's index, so that it compares equal to the device of
    the tensors placed on it."""
    text = check_device(name)
    if text == "auto":
        text = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(text)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device
