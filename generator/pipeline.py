"""The main job: specs folder -> IR -> models and templates -> formatted file tree."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .builder import SHARED_MODULE, build_package
from .ir import Package
from .loader import load_specs
from .models import model_modules
from .output import MANIFEST, format_files, manifest_text
from .render import TEMPLATES_DIR, render_package


@dataclass(frozen=True)
class Options:
    distribution: str = "fal-models"
    import_name: str = "fal_models"
    version: str = "0.1.0"


def load_package(specs_dir: Path, options: Options = Options()) -> Package:
    """Load and validate every spec, then build the package IR."""
    return build_package(
        load_specs(specs_dir),
        distribution=options.distribution,
        import_name=options.import_name,
        version=options.version,
    )


def generate_tree(specs_dir: Path, options: Options = Options()) -> dict[str, str]:
    """Every file of the generated folder, formatted, manifest included."""
    package = load_package(specs_dir, options)
    modules = [SHARED_MODULE, *(endpoint.module for endpoint in package.endpoints)]
    files = format_files(render_package(package, model_modules(package, modules)))
    files[MANIFEST] = manifest_text(
        files,
        {
            "generator": f"falgen {__version__}",
            "templates": templates_digest(),
            "specs": {endpoint.source: endpoint.digest for endpoint in package.endpoints},
        },
    )
    return files


def templates_digest() -> str:
    """One digest over every template file, so that a template change is visible."""
    digest = hashlib.sha256()
    for path in sorted(TEMPLATES_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(TEMPLATES_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
