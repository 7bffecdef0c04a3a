"""The manifest of a generated tree, and what it allows: knowing without generating that a tree
is up to date, and keeping the files whose inputs did not change.

The manifest records a salt (a digest of the generator's code, its templates and the versions of
the tools that shape the output), the package options, the digest of every spec, and for every
file its digest and the key of its inputs (see :class:`generator.render.Unit`). A different salt
means that nothing of the old tree can be trusted.

This module is imported by ``falgen generate`` before anything heavy: checking an up-to-date
tree needs no formatter, no template engine and no schema validator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from . import TEMPLATES_DIR, __version__
from .loader import spec_digests
from .output import MANIFEST, read_tree
from .settings import Options, read_options

GENERATOR_DIR = Path(__file__).parent
# Tools whose version can change the output's bytes.
_TOOLS = ("datamodel-code-generator", "ruff", "black", "jinja2")


@dataclass(frozen=True)
class Previous:
    """The output folder of an earlier generation: its manifest and its files."""

    manifest: dict[str, Any]
    files: dict[str, bytes]

    @classmethod
    def read(cls, root: Path) -> Previous | None:
        """The folder's content, or None when it has no readable manifest."""
        files = read_tree(root)
        try:
            manifest = json.loads(files.pop(MANIFEST))
        except (KeyError, ValueError):
            return None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            return None
        return cls(manifest, files)

    def intact(self, path: str) -> bytes | None:
        """The file's bytes, if they are still what the manifest says was generated."""
        entry = self.manifest["files"].get(path)
        data = self.files.get(path)
        if not isinstance(entry, dict) or data is None or entry.get("digest") != sha256(data):
            return None
        return data

    def is_current(self, salt: str, options: Options, specs: Mapping[str, str]) -> bool:
        """Whether this output is exactly what generating now would write."""
        recorded = self.manifest["files"]
        return (
            self.manifest.get("salt") == salt
            and self.manifest.get("options") == options_record(options)
            and self.manifest.get("specs") == dict(specs)
            and set(recorded) == set(self.files)
            and all(self.intact(path) is not None for path in recorded)
        )


def is_up_to_date(specs_dir: Path, previous: Previous | None) -> bool:
    """The fast path: nothing to do when the inputs and the output are what the manifest says.

    Reads the spec files but does not parse them.
    """
    if previous is None:
        return False
    return previous.is_current(generation_salt(), read_options(specs_dir), spec_digests(specs_dir))


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
        if path.is_file() and "__pycache__" not in path.parts
    ]
    for name, path in sources:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def options_record(options: Options) -> dict[str, str]:
    record = asdict(options)
    record["changelog"] = sha256(options.changelog.encode())
    return record


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
