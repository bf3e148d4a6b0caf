"""The package boundaries of the README's data flow, checked on the source: each layer imports only
the layers below it, the core does not load Stable-Baselines3, and one import name is installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {
    "mtl_gym": ROOT / "mtl_gym",
    "mtl_gym.agents": ROOT / "agents",
    "mtl_gym.baselines": ROOT / "baselines",
}
LAYERS = [
    {"mtl_gym.cli"},
    {"mtl_gym.bench"},
    {"mtl_gym.methods"},
    {"mtl_gym.agents", "mtl_gym.baselines"},
    {"mtl_gym.env"},
    {"mtl_gym.training"},
    {"mtl_gym.models"},
    {"mtl_gym.data"},
    {"mtl_gym.stats"},
    {"mtl_gym.spec", "mtl_gym.io", "mtl_gym.provenance", "mtl_gym.objective"},
]
"""Top first. Agents and baselines are siblings: neither imports the other."""


def modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join((package, *parts))
            if package == "mtl_gym" and parts and f"mtl_gym.{parts[0]}" in FOLDERS:
                continue
            found[name] = path
    return found


def imported(name: str, path: Path) -> set[str]:
    """Absolute names of the modules ``path`` imports, relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def layer_of(module: str) -> int | None:
    for index, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer):
            return index
    return None


def test_each_layer_imports_only_the_layers_below_it():
    upward = []
    for name, path in modules().items():
        own = layer_of(name)
        if own is None:
            continue
        for target in imported(name, path):
            other = layer_of(target)
            same_package = other == own and target.split(".")[:2] == name.split(".")[:2]
            if other is not None and other <= own and not same_package:
                upward.append(f"{name} imports {target}")
    assert upward == []


def test_every_module_belongs_to_a_layer():
    loose = {"mtl_gym", "mtl_gym.registration"}
    assert [n for n in modules() if layer_of(n) is None and n not in loose] == []


def test_importing_the_core_loads_no_agent_library():
    code = "import sys, mtl_gym, mtl_gym.env, mtl_gym.spec; print(sorted(m for m in sys.modules if 'baselines3' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_one_import_name_is_installed_with_every_package_listed():
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = set(setuptools["packages"])
    assert {p.split(".")[0] for p in packages} == {"mtl_gym"}
    folders = {name for name, path in modules().items() if path.name == "__init__.py"}
    assert packages == folders
    assert setuptools["package-dir"] == {key: str(path.relative_to(ROOT)) for key, path in FOLDERS.items()}
