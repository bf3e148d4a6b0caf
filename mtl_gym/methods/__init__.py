"""Every method by name, and the one entry point that runs any of them.

>>> from mtl_gym.methods import METHODS, run_method
>>> METHODS.parse("dwa:temperature=1+adatask")  # fails before any training on a typo
>>> run_method("exp3s", suite, budget=2000, seed=0, model=ModelConfig(name="cnn"))
"""

from .catalog import METHODS
from .registry import KINDS, MethodSpec, ParsedMethod, Registry
from .run import run_method

__all__ = ["KINDS", "METHODS", "MethodSpec", "ParsedMethod", "Registry", "run_method"]
