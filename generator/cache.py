"""falgen's local cache: what this machine's generator did before, kept outside the output.

The output folder (and its manifest) may come from anywhere: a clone, a pull request, a hand
edit. So nothing in it is taken as proof of anything. What the generator itself did is kept
here, in a folder of the user's (``FALGEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/falgen``, else
``~/.cache/falgen``), one subfolder per generator salt (code, templates and tool versions):

* ``trees/<digest>``: the manifests this generator wrote, each with the stamps of the files it
  wrote beside it (see ``generator.output.stamps``). Only a manifest found here is believed about
  the files beside it (to skip work: ``is_up_to_date``, keeping files); any other, forged or just
  foreign, costs one full generation, never a wrong tree. A file whose stamp is the one recorded
  is not read again; any other is read, and kept only if it has the manifest's digest.
* ``specs/<digest>``: the prepared IR of one spec (keyed by its path and bytes), so that an
  unchanged spec is neither validated nor built again; read only from here, so a spec's bytes
  are always validated once by this generator before anything relies on them.
* ``endpoints/<digest>``: the IR of one endpoint, keyed by its spec, its names and the shared
  models it uses. Their models are unpickled only when read (see ``ir.PicklesLazily``): a
  generation reads those of the endpoints whose files it makes.
* ``templates/``: the compiled templates (jinja's own cache; it checks their source).

Entries are pickles, like Python's own ``__pycache__``: the folder is the user's, created
private (0700). Everything here is best effort: a cache that cannot be read or written is
simply not used.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .output import Stamp

CACHE_VARIABLE = "FALGEN_CACHE_DIR"
# Salts kept besides the current one (other checkouts, other versions of the generator).
KEEP_SALTS = 4


def cache_root() -> Path:
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "falgen"


class Cache:
    """The cache of one generator salt."""

    def __init__(self, salt: str, root: Path | None = None) -> None:
        self.root = (cache_root() if root is None else root) / salt[:32]
        self._folder = os.fspath(self.root)
        self._pruned = False

    # --- manifests this generator wrote -------------------------------------------------------

    def trusts(self, manifest: bytes) -> bool:
        return self.tree(manifest) is not None

    def tree(self, manifest: bytes) -> dict[str, Stamp] | None:
        """The stamps of the files written with ``manifest``, or None when this generator did
        not write it."""
        found = self.load("trees", _digest(manifest))
        return found if isinstance(found, dict) else None

    def remember(self, manifest: bytes, stamps: Mapping[str, Stamp] | None = None) -> None:
        """Record that this generator wrote ``manifest`` and, beside it, files of ``stamps``."""
        self.store("trees", dict(stamps or {}), _digest(manifest))

    def folder(self, kind: str) -> Path | None:
        """A folder of this cache for files another library keeps (compiled templates), or
        None when it cannot be made."""
        path = self.root / kind
        try:
            if not self._pruned:
                self._prune()
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:
            return None
        return path

    # --- any object ----------------------------------------------------------------------------

    def load(self, kind: str, *key: str) -> Any:
        """The object stored under ``key``, or None."""
        try:
            with open(self._path(kind, key), "rb") as stream:
                data = stream.read()
        except OSError:
            return None
        try:
            return pickle.loads(data)
        except Exception:  # a damaged or outdated entry: as if there were none
            return None

    def store(self, kind: str, value: Any, *key: str) -> None:
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # not picklable: not cached
            return
        self._write(Path(self._path(kind, key)), data)

    def _path(self, kind: str, key: tuple[str, ...]) -> str:
        # A string, not a Path: thousands are made when most specs are unchanged.
        name = _digest("\0".join(key).encode("utf-8", "surrogatepass"))
        return os.path.join(self._folder, kind, name)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            if not self._pruned:
                self._prune()
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
            os.replace(temporary, path)
        except OSError:
            pass

    def _prune(self) -> None:
        """Forget the salts of generators not used for the longest time."""
        self._pruned = True
        root = self.root.parent
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.mkdir(exist_ok=True, mode=0o700)
        os.utime(self.root)
        others = sorted(
            (path for path in root.iterdir() if path.is_dir() and path != self.root),
            key=lambda path: path.stat().st_mtime,
            reverse=True,
        )
        for old in others[KEEP_SALTS:]:
            shutil.rmtree(old, ignore_errors=True)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
