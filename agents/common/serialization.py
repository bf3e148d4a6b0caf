"""Agent files that load without running code: ``save_agent`` / ``load_agent``.

Stable-Baselines3's own ``model.save`` / ``cls.load`` keep hyperparameters and spaces as cloudpickle
inside the zip's ``data`` entry, and loading unpickles them: a crafted file runs whatever code it
holds. The files written here are zip archives too (so ``agent.zip`` keeps its name) with two
entries instead:

- ``agent.json``: the format, the algorithm's class name, its policy alias (e.g. ``MlpPolicy``),
  its JSON-representable constructor arguments (hyperparameters; ``torch.nn``/``torch.optim``
  classes in ``policy_kwargs`` by name), the observation and action spaces, and the versions of
  SB3 and torch that wrote it;
- ``policy.pt``: the policy's ``state_dict``, read back with ``torch.load(weights_only=True)``.

Loading rebuilds the algorithm from the JSON (``cls(..., _init_setup_model=False)``, spaces set,
``_setup_model()``) and loads the weights: no unpickling. Enough to deploy the agent (``predict``);
the replay buffer, optimizer state and exploration statistics are not kept. The functions take the
algorithm class, so any SB3 algorithm (QLS's DQN, PPO) uses them.

A legacy SB3 zip (one with a ``data`` entry) loads only with ``trust=True`` (``--trust-agent`` on
the command line), with a warning.
"""

from __future__ import annotations

import enum
import inspect
import io
import json
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import stable_baselines3
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm

from mtl_gym.io import atomic_write_bytes

FORMAT = "mtl-gym-agent"
VERSION = 1
META = "agent.json"
WEIGHTS = "policy.pt"
LEGACY = "data"
"""The entry of an SB3 zip that holds pickled objects."""

SKIPPED = {
    "self",
    "policy",
    "env",
    "device",
    "_init_setup_model",
    "verbose",
    "tensorboard_log",
    "args",
    "kwargs",
}
"""Constructor arguments not kept: given at load time, or of no use to a deployed agent."""

CLASS_MODULES = {"torch.nn": torch.nn, "torch.optim": torch.optim}
"""Where a class named in ``policy_kwargs`` may come from: looked up by name, never imported."""


class AgentFileError(ValueError):
    """``path`` is missing, not an agent file, or not loadable as asked; ``reason`` says which."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self):
        # Rebuilt from its own arguments, so that it crosses a process pool (a bench worker's error
        # would otherwise fail to unpickle in the parent and break the pool without its message).
        return type(self), (self.path, self.reason)


class UntrustedAgentError(AgentFileError):
    """A legacy Stable-Baselines3 zip, whose loading unpickles (runs) code, without ``trust``."""


UNTRUSTED = (
    "a Stable-Baselines3 zip whose loading unpickles, and so can run, code stored in it; "
    "load it only if you trust where it came from (--trust-agent, or trust=True in Python)"
)


def agent_file_kind(path: str | Path) -> str:
    """``"safe"`` (written by :func:`save_agent`) or ``"legacy"`` (an SB3 ``model.save`` zip); raises
    :class:`AgentFileError` for a missing file or one that is neither. Reads only the zip's listing."""
    path = Path(path)
    if not path.exists():
        raise AgentFileError(path, "no such file")
    if path.is_dir():
        raise AgentFileError(path, "not an agent file (a folder; give its agent.zip)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as err:
        raise AgentFileError(path, f"not an agent file ({_describe(err)})") from None
    if {META, WEIGHTS} <= names:
        return "safe"
    if LEGACY in names:
        return "legacy"
    raise AgentFileError(path, f"not an agent file (a zip without {META} and {WEIGHTS})")


def save_agent(model: BaseAlgorithm, path: str | Path) -> Path:
    """Write ``model``'s policy weights and JSON config to the zip ``path`` atomically (a unique
    temporary file beside it, then renamed): a reader never sees half a file."""
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": type(model).__name__,
        "policy": _policy_alias(model),
        "hyperparameters": hyperparameters(model),
        "observation_space": space_to_json(model.observation_space),
        "action_space": space_to_json(model.action_space),
        "versions": {"stable_baselines3": stable_baselines3.__version__, "torch": torch.__version__},
    }
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.policy.state_dict().items()}, weights)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        # Infinite space bounds are written as JSON's common Infinity extension; Python reads it back.
        zipped.writestr(META, json.dumps(meta, indent=2, allow_nan=True))
        zipped.writestr(WEIGHTS, weights.getvalue())
    return atomic_write_bytes(path, archive.getvalue())


def load_agent(cls: type[BaseAlgorithm], path: str | Path, trust: bool = False, device: str = "cpu"):
    """The agent saved at ``path``, as an instance of ``cls`` ready to ``predict``, built from the
    JSON config and ``weights_only`` tensors. A legacy SB3 zip needs ``trust=True`` (it is then
    loaded by ``cls.load``, which unpickles, with a warning); otherwise :class:`UntrustedAgentError`."""
    path = Path(path)
    if agent_file_kind(path) == "legacy":
        if not trust:
            raise UntrustedAgentError(path, UNTRUSTED)
        warnings.warn(
            f"loading {path} with Stable-Baselines3's pickle-based loader, trusted as asked; "
            "it can run code stored in the file",
            stacklevel=2,
        )
        return cls.load(str(path), device=device)
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read(META))
            state = torch.load(io.BytesIO(archive.read(WEIGHTS)), map_location=device, weights_only=True)
    except (ValueError, RuntimeError, OSError, zipfile.BadZipFile, KeyError) as err:
        raise AgentFileError(path, f"not an agent file (corrupt: {_describe(err)})") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise AgentFileError(
            path, f"not an agent file (format {meta.get('format')!r} {meta.get('version')!r})"
        )
    if meta["algorithm"] != cls.__name__:
        raise AgentFileError(path, f"holds a {meta['algorithm']} agent, not a {cls.__name__}")
    try:
        model = cls(
            policy=meta["policy"],
            env=None,
            device=device,
            _init_setup_model=False,
            **_decode(meta["hyperparameters"]),
        )
        model.observation_space = space_from_json(meta["observation_space"])
        model.action_space = space_from_json(meta["action_space"])
        model.n_envs = 1
        model._setup_model()
        model.policy.load_state_dict(state)
    except (TypeError, ValueError, KeyError, RuntimeError) as err:
        raise AgentFileError(path, f"cannot rebuild the agent ({_describe(err)})") from None
    model.policy.set_training_mode(False)
    return model


def hyperparameters(model: BaseAlgorithm) -> dict:
    """The constructor arguments of ``model``'s class (and the bases it forwards ``**kwargs`` to) that it keeps
    and JSON can hold. ``policy_kwargs`` must be representable: the policy cannot be rebuilt without."""
    names: dict[str, None] = {}
    for klass in type(model).__mro__:
        if klass is object or "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters
        names |= dict.fromkeys(parameters)
        # Only a constructor taking **kwargs passes further arguments on to its base's.
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            break
    kept = {}
    for name in names:
        if name in SKIPPED or not hasattr(model, name):
            continue
        try:
            kept[name] = _encode(getattr(model, name))
        except TypeError as err:
            if name == "policy_kwargs":
                raise ValueError(f"cannot save policy_kwargs without pickle: {err}") from None
    return kept


def space_to_json(space: spaces.Space) -> dict:
    if isinstance(space, spaces.Box):
        return {
            "type": "Box",
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "shape": list(space.shape),
            "dtype": str(space.dtype),
        }
    if isinstance(space, spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, spaces.MultiBinary):
        return {"type": "MultiBinary", "n": space.n if isinstance(space.n, int) else list(space.n)}
    raise ValueError(f"cannot save a {type(space).__name__} space")


def space_from_json(record: dict) -> spaces.Space:
    kind = record["type"]
    if kind == "Box":
        dtype = np.dtype(record["dtype"])
        low, high = np.array(record["low"], dtype=dtype), np.array(record["high"], dtype=dtype)
        return spaces.Box(low, high, tuple(record["shape"]), dtype)
    if kind == "Discrete":
        return spaces.Discrete(record["n"], start=record["start"])
    if kind == "MultiDiscrete":
        return spaces.MultiDiscrete(record["nvec"])
    if kind == "MultiBinary":
        return spaces.MultiBinary(record["n"])
    raise ValueError(f"unknown space type {kind!r}")


def _policy_alias(model: BaseAlgorithm) -> str:
    for alias, policy in model.policy_aliases.items():
        if policy is model.policy_class:
            return alias
    raise ValueError(f"cannot save a custom policy class {model.policy_class.__name__} without pickle")


def _encode(value: Any) -> Any:
    """JSON for plain values; tuples, enums and torch.nn / torch.optim classes tagged; TypeError otherwise."""
    if isinstance(value, enum.Enum):
        return _encode(value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, type):
        for prefix, module in CLASS_MODULES.items():
            if getattr(module, value.__name__, None) is value:
                return {"__class__": f"{prefix}.{value.__name__}"}
    raise TypeError(f"{value!r} has no JSON form")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"__tuple__"}:
        return tuple(_decode(v) for v in value["__tuple__"])
    if set(value) == {"__class__"}:
        prefix, _, name = value["__class__"].rpartition(".")
        found = getattr(CLASS_MODULES.get(prefix), name, None)
        if not isinstance(found, type):
            raise ValueError(f"unknown class {value['__class__']!r}")
        return found
    return {k: _decode(v) for k, v in value.items()}


def _describe(err: BaseException) -> str:
    return (str(err).strip() or type(err).__name__).splitlines()[0]
