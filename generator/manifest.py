"""The manifest of a generated tree, and what it allows: knowing without generating that a tree
is up to date, and keeping the files whose inputs did not change.

The manifest records a salt (a digest of the generator's code, its templates and the versions of
the tools that shape the output), the package options, the digest of every spec (also of those
that were skipped), the problems found in the specs (``source``, ``pointer``, ``message``,
``severity``: ``degraded`` or ``skipped``), the names of every endpoint (``names``: endpoint id
-> ``module`` and ``class``, which later generations keep, see
:func:`generator.builder.endpoint_names`), and for every file its digest and the key of its
inputs (see :class:`generator.render.Unit`). A different salt means that nothing of the old tree
can be trusted.

This module is imported by ``falgen generate`` before anything heavy: checking an up-to-date
tree needs no formatter, no template engine and no schema validator.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from . import TEMPLATES_DIR, __version__
from .cache import Cache
from .ir import Package, Problem
from .loader import SpecFiles, spec_digests
from .naming import EndpointNames
from .output import MANIFEST, Stamp, is_cache, list_tree, stamp
from .settings import Options, read_options

GENERATOR_DIR = Path(__file__).parent
# Tools whose version can change the output's bytes.
_TOOLS = ("datamodel-code-generator", "ruff", "black", "jinja2")


@dataclass(frozen=True)
class Previous:
    """The output folder of an earlier generation: its manifest (its files stay on disk)."""

    root: Path
    manifest: dict[str, Any]
    raw: bytes  # the manifest's bytes (see generator.cache: is it one this generator wrote?)

    @classmethod
    def read(cls, root: Path) -> Previous | None:
        """The folder's manifest, or None when it has no readable manifest."""
        path = root / MANIFEST
        try:
            raw = path.read_bytes() if path.is_file() else None
        except OSError:
            raw = None
        try:
            manifest = json.loads(raw) if raw is not None else None
        except ValueError:
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return None
        return cls(root, manifest, raw or b"")

    def digest(self, path: str) -> str | None:
        """The digest the manifest records for a file."""
        entry = self.manifest["files"].get(path)
        found = entry.get("digest") if isinstance(entry, dict) else None
        return found if isinstance(found, str) else None

    def intact(self, path: str, stamps: Mapping[str, Stamp]) -> bool:
        """Whether the file is still what the manifest says was generated: it has the stamp
        recorded when it was written (``stamps``, see generator.cache), or the recorded digest."""
        recorded = self.digest(path)
        if recorded is None:
            return False
        expected = stamps.get(path)
        file = os.path.join(self.root, path)  # a string: thousands are checked
        if expected is not None and stamp(file) == expected:
            return True
        try:
            with open(file, "rb") as stream:
                return sha256(stream.read()) == recorded
        except OSError:
            return False

    @property
    def problems(self) -> tuple[Problem, ...]:
        """The spec problems the manifest records (those of well-formed entries)."""
        found = self.manifest.get("problems")
        return tuple(
            Problem(entry["source"], entry["pointer"], entry["message"], entry["severity"])
            for entry in (found if isinstance(found, list) else ())
            if isinstance(entry, dict)
            and all(isinstance(entry.get(key), str) for key in _PROBLEM_KEYS)
            and entry["severity"] in ("degraded", "skipped")
        )

    @property
    def names(self) -> dict[str, EndpointNames]:
        """The endpoints' names the manifest records (well-formed entries; the builder checks
        that they are usable names)."""
        found = self.manifest.get("names")
        return {
            endpoint_id: EndpointNames(entry["module"], entry["class"])
            for endpoint_id, entry in (found.items() if isinstance(found, dict) else ())
            if isinstance(entry, dict)
            and isinstance(entry.get("module"), str)
            and isinstance(entry.get("class"), str)
        }

    def is_current(
        self, salt: str, options: Options, specs: Mapping[str, str], stamps: Mapping[str, Stamp]
    ) -> bool:
        """Whether this output is exactly what generating now would write (``stamps``: those
        of the files written with this manifest)."""
        recorded = self.manifest["files"]
        return (
            self.manifest.get("salt") == salt
            and self.manifest.get("options") == options_record(options)
            and self.manifest.get("specs") == dict(specs)
            and set(recorded) | {MANIFEST} == set(list_tree(self.root))
            and all(self.intact(path, stamps) for path in recorded)
        )


def is_up_to_date(
    specs_dir: Path,
    previous: Previous | None,
    *,
    strict: bool | None = None,
    files: SpecFiles | None = None,
) -> bool:
    """The fast path: nothing to do when the inputs and the output are what the manifest says
    (with ``strict``, default the ``strict`` setting, also no spec problem).

    Reads the spec files (``files``: the specs folder's walk, which keeps them for generating)
    but does not parse them, and of the output only the files changed since they were written.
    """
    if previous is None:
        return False
    salt = generation_salt()
    stamps = Cache(salt).tree(previous.raw)
    if stamps is None:  # a manifest this generator did not write
        return False
    options = read_options(specs_dir)
    if (options.strict if strict is None else strict) and previous.problems:
        return False
    return previous.is_current(salt, options, spec_digests(specs_dir, files), stamps)


def generation_salt() -> str:
    """A digest of everything besides the inputs that decides the output: the generator's code
    (its top-level modules: the local server in ``generator/server`` makes no output), its
    templates and the versions of the tools it formats and models with."""
    digest = hashlib.sha256(f"falgen {__version__}\0".encode())
    for tool in _TOOLS:
        digest.update(f"{tool} {metadata.version(tool)}\0".encode())
    sources = [(path.name, path) for path in sorted(GENERATOR_DIR.glob("*.py"))]
    sources += [
        (path.relative_to(TEMPLATES_DIR).as_posix(), path)
        for path in sorted(TEMPLATES_DIR.rglob("*"))
        if path.is_file() and not is_cache(path.relative_to(TEMPLATES_DIR))
    ]
    for name, path in sources:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def options_record(options: Options) -> dict[str, str]:
    record = asdict(options)
    record["changelog"] = sha256(options.changelog.encode())
    return record


_PROBLEM_KEYS = ("source", "pointer", "message", "severity")


def names_record(
    package: Package, previous: Mapping[str, EndpointNames], specs: Mapping[str, str]
) -> dict[str, dict[str, str]]:
    """Every endpoint's names; those of endpoints left out this time but still in the specs
    folder are kept from ``previous`` (they stay reserved for them)."""
    names = {e.endpoint_id: EndpointNames(e.module, e.class_name) for e in package.endpoints}
    for endpoint_id, kept in previous.items():
        if endpoint_id not in names and f"{endpoint_id}.json" in specs:
            names[endpoint_id] = kept
    return {
        endpoint_id: {"module": chosen.module, "class": chosen.class_name}
        for endpoint_id, chosen in sorted(names.items())
    }


def problems_record(problems: tuple[Problem, ...]) -> list[dict[str, str]]:
    return [{key: getattr(problem, key) for key in _PROBLEM_KEYS} for problem in problems]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
