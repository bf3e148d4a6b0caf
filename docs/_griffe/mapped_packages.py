"""A Griffe extension for the documentation site: the repository keeps ``agents/`` and
``baselines/`` beside ``mtl_gym/``, and setuptools installs them as ``mtl_gym.agents`` and
``mtl_gym.baselines`` (``package-dir`` in pyproject.toml). Griffe reads ``mtl_gym`` from its folder
and would not find those two there, so once ``mtl_gym`` is loaded this extension loads each mapped
folder under its installed name. Where a folder lies is asked of the import system
(``importlib.util.find_spec``), which runs ``mtl_gym/__init__.py`` (light: no torch) and nothing of
the mapped packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import griffe

MAPPED = ("agents", "baselines")
"""Sub-packages of ``mtl_gym`` that live in a folder of their own."""


class MappedPackages(griffe.Extension):
    """Load ``mtl_gym.agents`` and ``mtl_gym.baselines`` from the folders they are installed from."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: object) -> None:
        if pkg.name != "mtl_gym":
            return
        for name in MAPPED:
            if name in pkg.members:
                continue
            spec = importlib.util.find_spec(f"mtl_gym.{name}")
            if spec is None or spec.origin is None:
                raise ImportError(f"mtl_gym.{name} is not installed: pip install -e . first")
            # Griffe has no public call for a sub-package at another path; this is the one its own
            # loader uses for every submodule.
            module = loader._load_module(name, Path(spec.origin), submodules=True, parent=pkg)
            pkg.set_member(name, module)
