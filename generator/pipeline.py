"""The main job: specs folder -> IR -> models and templates -> formatted file tree.

Generation is incremental (see :mod:`generator.manifest`): with the previous output at hand,
files whose inputs are unchanged are kept from it, and only the others are rendered and
formatted, so the result is the same tree a full generation makes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from . import __version__
from .builder import build_package
from .ir import Package
from .loader import load_specs
from .manifest import Previous, generation_salt, options_record, sha256
from .models import model_modules
from .output import MANIFEST, format_files
from .render import plan_package
from .settings import Options, read_options


def load_package(
    specs_dir: Path, options: Options | None = None, trusted: Mapping[str, str] | None = None
) -> Package:
    """Load and validate every spec, then build the package IR."""
    return build_package(
        load_specs(specs_dir, trusted),
        read_options(specs_dir) if options is None else options,
    )


def generate_tree(
    specs_dir: Path, options: Options | None = None, previous: Previous | None = None
) -> dict[str, str]:
    """Every file of the generated folder, formatted, manifest included.

    ``options`` default to the specs folder's settings. Files ``previous`` holds intact with
    unchanged inputs are taken from it instead of being generated again.
    """
    options = read_options(specs_dir) if options is None else options
    salt = generation_salt()
    if previous is not None and previous.manifest.get("salt") != salt:
        previous = None
    trusted = previous.manifest.get("specs", {}) if previous is not None else {}
    package = load_package(specs_dir, options, trusted if isinstance(trusted, dict) else {})
    units = plan_package(package)
    kept: dict[str, str] = {}
    if previous is not None:
        for unit in units:
            entry = previous.manifest["files"].get(unit.path)
            data = previous.intact(unit.path)
            if data is not None and isinstance(entry, dict) and entry.get("key") == unit.key:
                kept[unit.path] = data.decode("utf-8")
    stale = [unit for unit in units if unit.path not in kept]
    models = model_modules(package, {unit.models for unit in stale if unit.models is not None})
    rendered = {unit.path: unit.render(models) for unit in stale}
    unformatted = {unit.path: rendered[unit.path] for unit in stale if not unit.formatted}
    files = {**kept, **rendered, **format_files(unformatted)}
    manifest = {
        "generator": f"falgen {__version__}",
        "salt": salt,
        "options": options_record(options),
        "specs": {endpoint.source: endpoint.digest for endpoint in package.endpoints},
        "files": {
            unit.path: {"digest": sha256(files[unit.path].encode()), "key": unit.key}
            for unit in sorted(units, key=lambda unit: unit.path)
        },
    }
    return {
        **{path: files[path] for path in sorted(files)},
        MANIFEST: json.dumps(manifest, indent=2, sort_keys=True) + "\n",
    }
