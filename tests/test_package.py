"""The committed generated/ as a package: strictly typed, and importable with nothing but its
declared runtime dependencies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import GENERATED


def test_generated_package_passes_mypy_strict(tmp_path: Path) -> None:
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            str(tmp_path / ".mypy"),
            "fal_models",
        ],
        cwd=GENERATED,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _requirement_names(requirements: list[str]) -> set[str]:
    """Distribution names of the requirements that apply here without extras."""
    names = set()
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.add(canonicalize_name(requirement.name))
    return names


def _closure(roots: set[str]) -> set[str]:
    """The distributions ``roots`` need, transitively (as installed here)."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(_requirement_names(metadata.requires(name) or []))
    return seen


def _top_level_modules(distributions: set[str]) -> set[str]:
    modules = set()
    for module, owners in metadata.packages_distributions().items():
        if any(canonicalize_name(owner) in distributions for owner in owners):
            modules.add(module)
    return modules


# Imports everything with a finder that refuses every module outside ``allowed``, as if only the
# declared dependencies were installed (httpx, for one, tries its optional CLI packages).
_PROBE = """
import importlib, importlib.abc, json, pkgutil, sys

allowed = set(json.loads(sys.argv[1]))
refused = set()

class OnlyDeclared(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in allowed and not top.startswith("_"):  # private stdlib modules
            refused.add(top)
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, OnlyDeclared())
import fal_models, fal_models.endpoints, fal_models.cli.commands
for package in (fal_models.endpoints, fal_models.cli.commands):
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
client = fal_models.FalClient(key="k")
for name in fal_models._client._ENDPOINTS:
    assert getattr(client, name) is getattr(client, name)
print(json.dumps(sorted(refused)))
"""


def test_importing_everything_needs_only_the_declared_dependencies() -> None:
    project = tomllib.loads((GENERATED / "pyproject.toml").read_text(encoding="utf-8"))
    declared = _requirement_names(project["project"]["dependencies"])
    allowed = _top_level_modules(_closure(declared)) | set(sys.stdlib_module_names) | {"fal_models"}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(sorted(allowed))],
        capture_output=True,
        text=True,
        cwd=GENERATED,
        env={**os.environ, "PYTHONPATH": str(GENERATED)},
    )
    assert done.returncode == 0, done.stderr
    # The extras (realtime, webhooks) load only when used, not at import.
    assert not set(json.loads(done.stdout)) & {"websockets", "msgpack", "cryptography"}
