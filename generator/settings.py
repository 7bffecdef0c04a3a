"""What decides the generated package besides the endpoint specs: its names, its version and its
release notes. Both live in the specs folder, so that the folder alone describes the package:

* ``falgen.toml``: ``[package]`` with ``distribution``, ``import_name`` and ``version``, and
  ``[generate]`` with ``strict`` (true: any spec problem stops generation, as ``--strict``);
* ``CHANGELOG.md``: release notes (``falgen update`` prepends to it), copied into the package.

Both are optional; without them the defaults below apply.
"""

from __future__ import annotations

import keyword
import re
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from .errors import SpecError, SpecErrors
from .schema import json_pointer
from .specfile import write_atomically

SETTINGS_FILE = "falgen.toml"
CHANGELOG_FILE = "CHANGELOG.md"
CHANGELOG_TITLE = "# Changelog\n"

_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")
_DISTRIBUTION = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")

Bump = Literal["major", "minor", "patch"]


@dataclass(frozen=True)
class Options:
    distribution: str = "fal-models"
    import_name: str = "fal_models"
    version: str = "0.1.0"
    changelog: str = ""  # Markdown; empty when the package has no release notes yet
    strict: bool = False  # any spec problem is fatal, instead of degrading or skipping

    def bumped(self, bump: Bump) -> Options:
        major, minor, patch = (int(part) for part in self.version.split("."))
        version = {
            "major": f"{major + 1}.0.0",
            "minor": f"{major}.{minor + 1}.0",
            "patch": f"{major}.{minor}.{patch + 1}",
        }[bump]
        return replace(self, version=version)

    def with_release_notes(self, entry: str) -> Options:
        """The changelog with ``entry`` (a ``## version`` section) added at the top."""
        body = self.changelog.removeprefix(CHANGELOG_TITLE).lstrip("\n")
        text = f"{CHANGELOG_TITLE}\n{entry.rstrip()}\n\n{body}".rstrip() + "\n"
        return replace(self, changelog=text)


def read_options(specs_dir: Path) -> Options:
    """The settings stored in ``specs_dir``; :class:`SpecErrors` when they are invalid."""
    path = specs_dir / SETTINGS_FILE
    changelog_path = specs_dir / CHANGELOG_FILE
    changelog = changelog_path.read_text(encoding="utf-8") if changelog_path.is_file() else ""
    if not path.is_file():
        return Options(changelog=changelog)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as invalid:
        raise SpecErrors([SpecError(SETTINGS_FILE, "#", f"invalid TOML: {invalid}")]) from None
    errors = []
    unknown = sorted(set(data) - {"package", "generate"})
    if unknown:
        errors.append(SpecError(SETTINGS_FILE, "#", f"unknown tables {unknown}"))
    package = data.get("package", {})
    if not isinstance(package, dict):
        raise SpecErrors([SpecError(SETTINGS_FILE, "#/package", "must be a table")])
    defaults = Options()
    values = {}
    for key in ("distribution", "import_name", "version"):
        value = package.get(key, getattr(defaults, key))
        problem = _problem(key, value)
        if problem:
            errors.append(SpecError(SETTINGS_FILE, json_pointer(["package", key]), problem))
        values[key] = value
    unknown = sorted(set(package) - set(values))
    if unknown:
        errors.append(SpecError(SETTINGS_FILE, "#/package", f"unknown keys {unknown}"))
    generate = data.get("generate", {})
    strict = generate.get("strict", False) if isinstance(generate, dict) else False
    if not isinstance(generate, dict):
        errors.append(SpecError(SETTINGS_FILE, "#/generate", "must be a table"))
    elif unknown := sorted(set(generate) - {"strict"}):
        errors.append(SpecError(SETTINGS_FILE, "#/generate", f"unknown keys {unknown}"))
    if not isinstance(strict, bool):
        errors.append(SpecError(SETTINGS_FILE, "#/generate/strict", "must be true or false"))
    if errors:
        raise SpecErrors(errors)
    return Options(**values, changelog=changelog, strict=strict)


def _problem(key: str, value: object) -> str:
    if not isinstance(value, str):
        return "must be a string"
    if key == "version" and not _SEMVER.fullmatch(value):
        return f"{value!r} is not a MAJOR.MINOR.PATCH version"
    if key == "distribution" and not _DISTRIBUTION.fullmatch(value):
        return f"{value!r} is not a valid distribution name"
    if key == "import_name" and not (
        value.isidentifier() and value.isascii() and not keyword.iskeyword(value)
    ):
        return f"{value!r} is not a valid Python package name"
    return ""


def write_options(specs_dir: Path, options: Options) -> None:
    """Store ``options`` in ``specs_dir`` (``falgen.toml``, and ``CHANGELOG.md`` when non-empty)."""
    write_atomically(
        specs_dir / SETTINGS_FILE,
        "# The package falgen generates from this folder (see falgen's README).\n"
        "[package]\n"
        f'distribution = "{options.distribution}"\n'
        f'import_name = "{options.import_name}"\n'
        f'version = "{options.version}"\n'
        + ("\n[generate]\nstrict = true\n" if options.strict else ""),
    )
    if options.changelog:
        write_atomically(specs_dir / CHANGELOG_FILE, options.changelog)
