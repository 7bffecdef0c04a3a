"""The main job: specs folder -> IR -> models and templates -> formatted file tree.

Generation is incremental (see :mod:`generator.manifest`): with the previous output at hand,
files whose inputs are unchanged are kept from it, and only the others are rendered and
formatted, so the result is the same tree a full generation makes.

A spec that cannot be used does not stop the others (see :mod:`generator.loader` and
:mod:`generator.builder`): the tree holds every endpoint that could be built, and
``Package.problems`` (recorded in the manifest) says what was worked around or left out.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__
from .builder import assemble, prepare_document
from .cache import Cache
from .errors import GenerationError, SpecErrors
from .ir import Package, Problem
from .loader import Loaded, SpecFiles, load_folder, problem_error, read_spec
from .manifest import (
    Previous,
    generation_salt,
    names_record,
    options_record,
    problems_record,
    sha256,
)
from .models import model_modules
from .naming import EndpointNames
from .output import MANIFEST, Tree, format_files, stamps
from .overlay import OverlayFile
from .render import plan_package
from .settings import Options, read_options
from .workers import PARALLEL_ENDPOINTS, Workers


class NothingGenerated(SpecErrors):
    """Every spec was left out (or, strictly, one had a problem): there is nothing to write."""


@dataclass(frozen=True)
class Generation:
    files: Tree  # every file of the output folder, manifest included
    package: Package
    cache: Cache

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.package.problems

    def remember(self, root: Path) -> None:
        """Record that these files are in ``root`` as generated (call it once they are), so
        that the next generation may trust their manifest (see :mod:`generator.cache`)."""
        names = [name for name in self.files if name != MANIFEST]
        self.cache.remember(self.files[MANIFEST].encode("utf-8"), stamps(root, names))


def load_package(
    specs_dir: Path,
    options: Options | None = None,
    *,
    strict: bool | None = None,
    names: Mapping[str, EndpointNames] | None = None,
) -> Package:
    """Load every spec and build the package IR; endpoints that cannot be built are left out
    and listed in ``Package.problems``. ``strict`` (default: the ``strict`` setting) makes any
    problem a :class:`SpecErrors`; ``names``: the endpoints' names of an earlier generation."""
    options = read_options(specs_dir) if options is None else options
    return _load(specs_dir, options, strict, names or {})[0]


def _load(
    specs_dir: Path,
    options: Options,
    strict: bool | None,
    names: Mapping[str, EndpointNames],
    cache: Cache | None = None,
    files: SpecFiles | None = None,
    workers: Workers | None = None,
) -> tuple[Package, dict[str, str]]:
    """The package, and the digest of every spec file as it was read. With a ``cache``, a spec
    whose bytes this generator prepared before is not validated and prepared again; many
    specs to prepare are shared with ``workers``."""
    files = SpecFiles.walk(specs_dir) if files is None else files
    if specs_dir.is_dir() and not files.specs:
        raise GenerationError(f"no spec files (*.json) in {specs_dir}: nothing to generate")
    prepared = _prepared(files, cache, workers)

    def read(source: str, raw: bytes, overlay: OverlayFile | None, digest: str) -> Any:
        found = prepared.pop(source, None) or _prepare((source, raw, overlay, digest))
        if isinstance(found, SpecErrors):
            raise found
        return found

    loaded: Loaded[Any] = load_folder(specs_dir, read, files)
    # A spec's place is its endpoint id: one that did not load keeps its names reserved.
    present = [source.removesuffix(".json") for source in loaded.digests]
    package = assemble(loaded.documents, options, loaded.skipped, names, present, cache)
    if (options.strict if strict is None else strict) and package.problems:
        raise NothingGenerated([problem_error(problem) for problem in package.problems])
    if not package.endpoints:
        raise NothingGenerated([problem_error(problem) for problem in package.problems])
    return package, loaded.digests


_Prepared = Any  # a prepared document (builder._Doc), or the SpecErrors that refuse the spec
_ToPrepare = tuple[str, bytes, OverlayFile | None, str]  # source, bytes, overlay, digest
_PREPARE_CALL = 32  # specs a worker prepares in one call


def _prepared(
    files: SpecFiles, cache: Cache | None, workers: Workers | None
) -> dict[str, _Prepared]:
    """The specs prepared before, from the cache, and the others prepared now (the workers and
    this process taking turns, when there are many) and stored there, by source. Specs that
    cannot be read are left to loading, which reports them."""
    found: dict[str, _Prepared] = {}
    missing: list[_ToPrepare] = []
    for source in files.specs:
        try:
            spec = files.read(source)
        except OSError:
            continue
        cached = cache.load("specs", source, spec.digest) if cache is not None else None
        if cached is not None:
            found[source] = cached
        elif spec.overlay_errors is None:
            missing.append((source, spec.raw, spec.overlay, spec.digest))
    if workers is not None and workers.count and len(missing) >= PARALLEL_ENDPOINTS:
        calls = [
            missing[start : start + _PREPARE_CALL]
            for start in range(0, len(missing), _PREPARE_CALL)
        ]
        made = [done for call in workers.map(_prepare_all, calls) for done in call]
    else:
        made = [_prepare(item) for item in missing]
    for (source, _, _, digest), done in zip(missing, made, strict=True):
        found[source] = done
        if cache is not None:
            cache.store("specs", done, source, digest)
    return found


def _prepare_all(items: list[_ToPrepare]) -> list[_Prepared]:
    return [_prepare(item) for item in items]


def _prepare(item: _ToPrepare) -> _Prepared:
    """A spec validated and prepared (see builder.prepare_document), or why it cannot be."""
    try:
        return prepare_document(read_spec(*item))
    except SpecErrors as failed:
        return failed


def generate(
    specs_dir: Path,
    options: Options | None = None,
    previous: Previous | None = None,
    *,
    strict: bool | None = None,
    full: bool = False,
    files: SpecFiles | None = None,
    workers: Workers | None = None,
) -> Generation:
    """Every file of the generated folder, formatted, manifest included, and the package.

    ``options`` default to the specs folder's settings. Endpoints keep the names ``previous``
    records (see :func:`generator.builder.endpoint_names`); unless ``full``, files ``previous``
    holds intact with unchanged inputs are taken from it instead of being generated again.
    ``files``: the specs folder's walk, if made already (see ``loader.SpecFiles``); ``workers``:
    processes started already, to share the work with (see ``generator.workers``).
    """
    try:
        return _generate(specs_dir, options, previous, strict, full, files, workers)
    finally:
        gc.unfreeze()  # see _long_lived


@contextlib.contextmanager
def _long_lived() -> Iterator[None]:
    """Loading and planning make hundreds of thousands of small objects that live until the
    generation ends (the IR, much of it from the cache), and few reference cycles. Python's
    cyclic garbage collector would walk them over and over (a third of the time of a
    generation that keeps most files): it pauses while they are made, then they are frozen
    (skipped by its later walks, and by those of the worker processes) until the end."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _generate(
    specs_dir: Path,
    options: Options | None,
    previous: Previous | None,
    strict: bool | None,
    full: bool,
    files: SpecFiles | None,
    workers: Workers | None,
) -> Generation:
    options = read_options(specs_dir) if options is None else options
    salt = generation_salt()
    cache = Cache(salt)
    names = previous.names if previous is not None else {}
    # Files are kept only from a tree this generator wrote (see generator.cache).
    written = cache.tree(previous.raw) if previous is not None and not full else None
    with _long_lived():
        package, digests = _load(specs_dir, options, strict, names, cache, files, workers)
        units = plan_package(package, cache.folder("templates"))
    kept: dict[str, str] = {}  # path -> digest
    if previous is not None and written is not None:
        for unit in units:
            entry = previous.manifest["files"].get(unit.path)
            if (
                isinstance(entry, dict)
                and entry.get("key") == unit.key
                and previous.intact(unit.path, written)
            ):
                kept[unit.path] = entry["digest"]
    stale = [unit for unit in units if unit.path not in kept]
    modules = {unit.models for unit in stale if unit.models is not None}
    models = model_modules(package, modules, workers)
    if workers is not None:
        workers.stop()  # the models were their last work: free their memory before formatting
    rendered = {unit.path: unit.render(models) for unit in stale}
    unformatted = {unit.path: rendered[unit.path] for unit in stale if not unit.formatted}
    made = {**rendered, **format_files(unformatted)}
    digest = {path: sha256(text.encode("utf-8")) for path, text in made.items()} | kept
    manifest = {
        "generator": f"falgen {__version__}",
        "salt": salt,
        "options": options_record(options),
        "specs": digests,
        "problems": problems_record(package.problems),
        "names": names_record(package, names, digests),
        "files": {
            unit.path: {"digest": digest[unit.path], "key": unit.key}
            for unit in sorted(units, key=lambda unit: unit.path)
        },
    }
    tree: dict[str, str | None] = {path: made.get(path) for path in sorted(digest)}
    tree[MANIFEST] = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    return Generation(Tree(tree, previous.root if previous is not None else None), package, cache)


def generate_tree(
    specs_dir: Path, options: Options | None = None, previous: Previous | None = None
) -> Tree:
    """The files of :func:`generate`."""
    return generate(specs_dir, options, previous).files
