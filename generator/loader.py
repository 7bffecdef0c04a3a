"""Read spec files and check that each one is a fal queue OpenAPI document we can generate from.

Real documents are imperfect, so a problem inside a schema does not take the endpoint down: the
loader repairs the document (the rules below) and records a ``degraded`` :class:`Problem`. Only a
document whose input cannot be built is refused, with a :class:`SpecError`; the caller skips that
endpoint. Every problem names the file and a JSON pointer; nothing here raises anything else for
bad input.

Repairs, one rule each:

* a schema keyword that is invalid or not supported is dropped (the field accepts more than the
  document says); a schema node that is not a schema at all becomes untyped (``Any``);
* a ``$ref`` that points nowhere, or outside ``#/components/schemas``, becomes untyped;
* a reference that closes a cycle becomes untyped (recursive models are not supported);
* ``items`` written as an object keyed by positions (``{"0": {...}, "1": {...}}``: a tuple's
  item list that went through a JSON encoder as a mapping) is read as ``prefixItems``;
* an Output that is missing, empty or not an object schema makes the output untyped: the result
  is read as a JSON object whose fields are not known.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from .errors import SpecError, SpecErrors
from .ir import Problem
from .naming import pascal_name, unique
from .overlay import (
    OVERLAY_SUFFIXES,
    SPEC_SUFFIX,
    OverlayFile,
    orphans,
    overlaid,
    overlay_for,
    spec_digest,
)
from .reading import read_inside
from .schema import (
    CATALOG_KEY,
    SCHEMA_REF_PREFIX,
    UNPUBLISHED_KEY,
    iter_nodes,
    iter_refs,
    json_pointer,
    ref_target,
)

MAX_SPEC_BYTES = 8 * 1024 * 1024
# Levels of objects and arrays: fal's documents use about a dozen. A fixed limit, not the
# interpreter's recursion limit, so that every stage after loading copes, however deep its stack.
MAX_DEPTH = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
ENDPOINT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?:/[A-Za-z0-9][A-Za-z0-9_.-]*)+")

# Keywords that change what a schema accepts and that the generator cannot express faithfully.
UNSUPPORTED_KEYWORDS = (
    "not",
    "if",
    "then",
    "else",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "contains",
    "propertyNames",
    "discriminator",
)
SCHEMA_TYPES = ["string", "integer", "number", "boolean", "array", "object", "null"]

_SCHEMA_NODE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "$ref": {"type": "string"},
        "type": {
            "anyOf": [
                {"enum": SCHEMA_TYPES},
                {"type": "array", "items": {"enum": SCHEMA_TYPES}, "minItems": 1},
            ]
        },
        "title": {"type": "string"},
        "description": {"type": "string"},
        "format": {"type": "string"},
        "properties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/schema"}},
        "required": {"type": "array", "items": {"type": "string"}},
        "items": {"$ref": "#/$defs/schema"},
        "prefixItems": {"type": "array", "items": {"$ref": "#/$defs/schema"}},
        "additionalProperties": {"anyOf": [{"type": "boolean"}, {"$ref": "#/$defs/schema"}]},
        "enum": {"type": "array", "minItems": 1},
        "anyOf": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/schema"}},
        "oneOf": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/schema"}},
        "allOf": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/schema"}},
        "examples": {"type": "array"},
        "nullable": {"type": "boolean"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "exclusiveMinimum": {"type": ["number", "boolean"]},
        "exclusiveMaximum": {"type": ["number", "boolean"]},
        "multipleOf": {"type": "number", "exclusiveMinimum": 0},
        "minLength": {"type": "integer", "minimum": 0},
        "maxLength": {"type": "integer", "minimum": 0},
        "minItems": {"type": "integer", "minimum": 0},
        "maxItems": {"type": "integer", "minimum": 0},
        "pattern": {"type": "string"},
        "x-fal-order-properties": {"type": "array", "items": {"type": "string"}},
    },
}
for _keyword in UNSUPPORTED_KEYWORDS:
    _SCHEMA_NODE["properties"][_keyword] = {
        "not": {},
        "description": f"unsupported schema keyword {_keyword!r}",
    }

# The subset of OpenAPI 3 that fal's published queue documents use, checked structurally.
FAL_OPENAPI_SCHEMA: dict[str, Any] = {
    "$defs": {"schema": _SCHEMA_NODE},
    "type": "object",
    "required": ["openapi", "info", "paths", "components"],
    "properties": {
        "openapi": {"type": "string", "pattern": r"^3\.[01]\.\d+$"},
        "info": {
            "type": "object",
            "required": ["title"],
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "version": {"type": "string"},
                "x-fal-metadata": {
                    "type": "object",
                    "properties": {
                        "endpointId": {"type": "string"},
                        "category": {"type": "string"},
                    },
                },
                "x-falgen-capabilities": {
                    "type": "array",
                    "items": {"enum": ["streaming", "realtime"]},
                    "uniqueItems": True,
                },
                "x-falgen-summary": {"type": "string"},
                UNPUBLISHED_KEY: {"type": "boolean"},
                CATALOG_KEY: {
                    "type": "object",
                    "properties": {
                        "display_name": {"type": "string"},
                        "category": {"type": "string"},
                        "description": {"type": "string"},
                        "status": {"type": "string"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
        "components": {
            "type": "object",
            "required": ["schemas"],
            "properties": {
                "schemas": {"type": "object", "additionalProperties": {"$ref": "#/$defs/schema"}}
            },
        },
        "paths": {"type": "object", "additionalProperties": {"type": "object"}},
        "servers": {"type": "array", "items": {"type": "object"}},
    },
}


@functools.cache
def _validator() -> Any:
    # jsonschema is imported on first use: checking an up-to-date tree does not need it.
    from jsonschema import Draft202012Validator

    return Draft202012Validator(FAL_OPENAPI_SCHEMA)


@dataclass(frozen=True)
class SpecDocument:
    """One loaded spec: the endpoint it describes and its parsed JSON, repaired where needed."""

    source: str  # path relative to the specs folder, with "/" separators
    endpoint_id: str
    document: dict[str, Any]  # the repairs below applied
    input_schema: str  # component name of the request body
    output_schema: str  # component name of the result (an empty object schema when untyped)
    digest: str  # sha256 of the file's bytes
    problems: tuple[Problem, ...] = ()  # what was repaired ("degraded")
    untyped_output: bool = False  # the document does not describe the result
    # The document as the file holds it (what fal published), before the overlay and the
    # repairs; None when neither changed it.
    published: dict[str, Any] | None = None

    @property
    def original(self) -> dict[str, Any]:
        """The document as the file holds it: before the overlay and the repairs."""
        return self.document if self.published is None else self.published

    @property
    def schemas(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self.document["components"]["schemas"]
        return schemas


class Loadable(Protocol):
    """What :func:`load_folder` makes of a spec: a :class:`SpecDocument`, or more built on it."""

    @property
    def endpoint_id(self) -> str: ...

    @property
    def problems(self) -> Sequence[Problem]: ...


DocumentT = TypeVar("DocumentT", bound=Loadable)


@dataclass(frozen=True)
class Loaded(Generic[DocumentT]):
    """A specs folder: the documents that load, and why the others do not (``skipped``)."""

    documents: list[DocumentT]
    skipped: list[Problem]
    digests: dict[str, str]  # every spec file's sha256 by source, skipped ones included

    @property
    def problems(self) -> list[Problem]:
        found = [problem for spec in self.documents for problem in spec.problems]
        return sorted([*found, *self.skipped], key=lambda problem: problem.source)


@dataclass(frozen=True)
class SpecRead:
    """A spec file as read: its bytes, its overlay, and the digest of both."""

    raw: bytes
    overlay: OverlayFile | None
    overlay_errors: SpecErrors | None  # the overlay cannot be used (the spec is skipped)
    digest: str  # see overlay.spec_digest


@dataclass(frozen=True)
class SpecFiles:
    """A specs folder as one walk finds it: the spec files, and the overlays beside them.

    A spec read to know whether anything changed (:func:`spec_digests`) is kept until it is
    loaded, so that it is read once and what was digested is what is loaded.
    """

    root: Path
    # source (the path relative to the root, with "/") -> file, in a stable, file-system
    # independent order
    specs: dict[str, Path]
    overlays: frozenset[Path]  # files named as overlays, with or without a spec
    _kept: dict[str, SpecRead] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def walk(cls, root: Path) -> SpecFiles:
        """One walk of the folder (as ``rglob``: linked folders are not entered)."""
        top = os.fspath(root)
        specs: list[tuple[str, str, str]] = []  # (source, folder, name)
        overlays = []
        for folder, _, names in os.walk(top):
            inside = folder[len(top) :].strip(os.sep).replace(os.sep, "/")
            for name in names:
                if name.endswith(OVERLAY_SUFFIXES):
                    overlays.append(Path(folder, name))
                elif name.endswith(SPEC_SUFFIX):
                    specs.append((f"{inside}/{name}" if inside else name, folder, name))
        specs.sort()
        found = {source: Path(folder, name) for source, folder, name in specs}
        return cls(root, found, frozenset(overlays))

    def read(self, source: str) -> SpecRead:
        """The spec as read, kept for :meth:`take` (OSError when it cannot be read)."""
        if source not in self._kept:
            self._kept[source] = self._read(source)
        return self._kept[source]

    def take(self, source: str) -> SpecRead:
        """The spec as :meth:`read` kept it, else read now (and not kept)."""
        kept = self._kept.pop(source, None)
        return self._read(source) if kept is None else kept

    def _read(self, source: str) -> SpecRead:
        path = self.specs[source]
        raw = read_inside(self.root, path, MAX_SPEC_BYTES)
        try:
            overlay = overlay_for(self.root, path, self.overlays) if self.overlays else None
        except SpecErrors as errors:  # never current: loading reports it
            return SpecRead(raw, None, errors, spec_digest(raw, OverlayFile("", b"unreadable")))
        return SpecRead(raw, overlay, None, spec_digest(raw, overlay))

    def orphans(self) -> list[SpecError]:
        if not self.overlays:
            return []
        return orphans(self.root, [*self.specs.values(), *self.overlays])


def discover(specs_dir: Path) -> list[Path]:
    """All spec files under ``specs_dir`` in a stable, file-system independent order."""
    return list(SpecFiles.walk(specs_dir).specs.values())


def spec_digests(specs_dir: Path, files: SpecFiles | None = None) -> dict[str, str]:
    """What the specs load as, cheaply: each spec's digest (overlay included) by source, and
    overlays without a spec (an error when loading) under their own name. ``files``: the
    folder's walk, if made already (it keeps the specs read, see :class:`SpecFiles`)."""
    found = SpecFiles.walk(specs_dir) if files is None else files
    digests = {}
    for source in found.specs:
        try:
            digests[source] = found.read(source).digest
        except OSError:
            continue  # left out, as loading leaves it out (and reports it)
    digests.update((error.source, "orphan") for error in found.orphans())
    return digests


def load_folder(
    specs_dir: Path,
    read: Callable[[str, bytes, OverlayFile | None, str], DocumentT] | None = None,
    files: SpecFiles | None = None,
) -> Loaded[DocumentT]:
    """Every spec of the folder; those that cannot be loaded are listed as skipped.

    ``read(source, raw, overlay, digest)`` makes a document of a file's bytes and its overlay
    (default: the :class:`SpecDocument`), raising :class:`SpecErrors` when it cannot. The
    digests are those of :func:`spec_digests`. ``files``: the folder's walk, if made already.
    """
    reader: Callable[[str, bytes, OverlayFile | None, str], Any] = read or read_spec
    if not specs_dir.is_dir():
        raise SpecErrors([SpecError(str(specs_dir), "#", "specs folder does not exist")])
    documents: list[DocumentT] = []
    skipped: list[Problem] = []
    found = SpecFiles.walk(specs_dir) if files is None else files
    digests = spec_digests(specs_dir, found)  # the very digests an up-to-date check compares
    for source in found.specs:
        try:
            spec = found.take(source)
        except OSError as problem:
            error = SpecError(source, "#", f"cannot read file: {problem.strerror}")
            skipped.append(skipped_problem(error))
            continue
        if spec.overlay_errors is not None:
            skipped.extend(skipped_problem(error) for error in spec.overlay_errors.errors)
            continue
        try:
            documents.append(reader(source, spec.raw, spec.overlay, spec.digest))
        except SpecErrors as problem:
            skipped.extend(skipped_problem(error) for error in problem.errors)
    for error in found.orphans():  # an overlay whose spec is not there
        skipped.append(skipped_problem(error))
    seen: dict[str, str] = {}
    unique = []
    for document in documents:
        if document.endpoint_id in seen:
            other = seen[document.endpoint_id]
            message = f"endpoint {document.endpoint_id!r} is also defined by {other}"
            pointer = "#/info/x-fal-metadata/endpointId"
            source = f"{document.endpoint_id}.json"  # where a spec of that endpoint must be
            skipped.append(skipped_problem(SpecError(source, pointer, message)))
            continue
        seen[document.endpoint_id] = f"{document.endpoint_id}.json"
        unique.append(document)
    return Loaded(unique, skipped, digests)


SKIPPED = "; endpoint skipped"  # what was done, in the message of a skipped endpoint's problem


def skipped_problem(error: SpecError) -> Problem:
    """``error`` as the problem of an endpoint left out of the package."""
    return Problem(error.source, error.pointer, error.message + SKIPPED, "skipped")


def load_specs(specs_dir: Path) -> list[SpecDocument]:
    """Load every spec strictly: :class:`SpecErrors` lists every problem of every file."""
    loaded: Loaded[SpecDocument] = load_folder(specs_dir)
    if loaded.problems:
        raise SpecErrors([problem_error(problem) for problem in loaded.problems])
    return loaded.documents


def problem_error(problem: Problem) -> SpecError:
    """A problem as an error that stops generation (strictly, or when nothing is left)."""
    message = problem.message
    if problem.severity == "skipped":
        message = message.removesuffix(SKIPPED)
    return SpecError(problem.source, problem.pointer, message)


def load_spec_bytes(source: str, raw: bytes, *, overlay: OverlayFile | None = None) -> SpecDocument:
    """One spec given as bytes, strictly: any problem, repairable or not, is a
    :class:`SpecErrors`. ``source`` names it in errors."""
    spec = read_spec(source, raw, overlay)
    if spec.problems:
        raise SpecErrors([problem_error(problem) for problem in spec.problems])
    return spec


def read_spec(
    source: str, raw: bytes, overlay: OverlayFile | None = None, digest: str | None = None
) -> SpecDocument:
    """One spec given as bytes, repaired where it can be (see the module's rules): problems that
    were repaired are in ``problems``; :class:`SpecErrors` when the endpoint cannot be built.
    ``overlay``: an OpenAPI Overlay applied to the document before it is checked (problems then
    point into the overlaid document, and say so). ``digest``: that of the spec and overlay
    (see overlay.spec_digest), when computed already."""
    document = parse_json(source, raw)
    digest = spec_digest(raw, overlay) if digest is None else digest
    if overlay is None:
        return _read_spec(source, document, overlay, digest)
    changed = overlaid(source, document, overlay)  # its own errors name the overlay
    try:
        spec = _read_spec(source, changed, overlay, digest)
    except SpecErrors as failed:
        raise SpecErrors([_with_overlay(error, overlay) for error in failed.errors]) from None
    return dataclasses.replace(spec, published=document)


def _with_overlay(error: SpecError, overlay: OverlayFile) -> SpecError:
    return SpecError(error.source, error.pointer, f"{error.message} (with {overlay.source})")


def _read_spec(
    source: str, document: dict[str, Any], overlay: OverlayFile | None, digest: str
) -> SpecDocument:
    error = document.get("error")
    if "openapi" not in document and isinstance(error, dict):
        message = str(error.get("message") or "no message")
        code = str(error.get("code") or "error")
        message = f"fal could not provide the document ({code}: {message})"
        raise SpecErrors([SpecError(source, "#/error", message)])
    repairs = _Repairs(source, document)
    repairs.positional_items()
    repairs.structure()
    repairs.references()
    endpoint_id = _endpoint_id(source, document)
    input_schema, output_schema, untyped = repairs.queue_schemas(endpoint_id)
    return SpecDocument(
        source=source,
        endpoint_id=endpoint_id,
        document=repairs.document,
        published=document if repairs.document is not document else None,
        input_schema=input_schema,
        output_schema=output_schema,
        digest=digest,
        problems=tuple(
            problem
            if overlay is None
            else Problem(
                problem.source,
                problem.pointer,
                f"{problem.message} (with {overlay.source})",
                problem.severity,
            )
            for problem in repairs.problems
        ),
        untyped_output=untyped,
    )


def parse_json(source: str, raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, no lone surrogates, at most
    :data:`MAX_DEPTH` levels deep, an object at the top."""
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecErrors(
            [SpecError(source, "#", f"document is larger than the limit of {MAX_SPEC_BYTES} bytes")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        raise SpecErrors(
            [SpecError(source, "#", f"not UTF-8 text (byte {problem.start})")]
        ) from None
    try:
        # The hooks mark what strict JSON forbids, so that the error can say where it is.
        value = json.loads(
            text, object_pairs_hook=_object, parse_constant=_constant, parse_float=_number
        )
    except json.JSONDecodeError as problem:
        message = f"invalid JSON at line {problem.lineno} column {problem.colno}: {problem.msg}"
        raise SpecErrors([SpecError(source, "#", message)]) from None
    except ValueError as problem:  # e.g. an integer of more digits than Python converts
        raise SpecErrors([SpecError(source, "#", f"invalid JSON: {problem}")]) from None
    except RecursionError:
        raise SpecErrors([SpecError(source, "#", "JSON is nested too deeply")]) from None
    found = _first_problem(value)
    if found is not None:
        path, message = found
        raise SpecErrors([SpecError(source, json_pointer(path), message)])
    if not isinstance(value, dict):
        raise SpecErrors([SpecError(source, "#", "the document must be a JSON object")])
    return value


class _Duplicated(dict[str, Any]):
    """A JSON object that repeats a key (only ever seen in an error)."""

    duplicate = ""


@dataclass(frozen=True)
class _Invalid:
    """A value strict JSON does not allow, with the reason (only ever seen in an error)."""

    message: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result and not isinstance(result, _Duplicated):
            result = _Duplicated(result)
            result.duplicate = key
        result[key] = value
    return result


def _number(text: str) -> float | _Invalid:
    value = float(text)
    return (
        value if math.isfinite(value) else _Invalid(f"invalid JSON: number {text} is out of range")
    )


def _constant(name: str) -> _Invalid:
    return _Invalid(f"invalid JSON: {name} is not valid JSON")


def _first_problem(value: Any) -> tuple[list[str | int], str] | None:
    """Where the parsed document first breaks a rule of :func:`parse_json`, and which."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:  # depth first, in document order, without recursion
        node, path = stack.pop()
        if isinstance(node, _Invalid):
            return path, node.message
        if isinstance(node, str):
            if surrogate := _SURROGATE.search(node):
                return path, f"the string has a lone surrogate (U+{ord(surrogate[0]):04X})"
            continue
        if not isinstance(node, dict | list):
            continue
        if len(path) >= MAX_DEPTH:
            return path, f"nested more than {MAX_DEPTH} levels deep"
        if isinstance(node, _Duplicated):
            return path, f"invalid JSON: duplicate key {node.duplicate!r}"
        items = list(node.items() if isinstance(node, dict) else enumerate(node))
        for key, _ in items:
            if isinstance(key, str) and (surrogate := _SURROGATE.search(key)):
                return path, f"a key has a lone surrogate (U+{ord(surrogate[0]):04X})"
        stack.extend((item, [*path, key]) for key, item in reversed(items))
    return None


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _endpoint_id(source: str, document: dict[str, Any]) -> str:
    expected = source.removesuffix(".json")
    metadata = document["info"].get("x-fal-metadata", {})
    declared = str(metadata.get("endpointId", expected))
    pointer = "#/info/x-fal-metadata/endpointId"
    if not ENDPOINT_ID_PATTERN.fullmatch(declared):
        raise SpecErrors([SpecError(source, pointer, f"invalid endpoint id {declared!r}")])
    if declared != expected:
        raise SpecErrors(
            [
                SpecError(
                    source,
                    pointer,
                    f"endpoint id {declared!r} does not match the file's place; "
                    f"expected the file at {declared}.json",
                )
            ]
        )
    return declared


# Keywords under which a schema holds one schema, or (``_SCHEMA_LISTS``) a list of schemas.
_SCHEMA_KEYS = frozenset({"items", "additionalProperties", "not"})
_SCHEMA_LISTS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})


MISSING_VALUE: Any = object()  # "delete the node" for _Repairs._replace


class _Repairs:
    """One document's repairs (see the module's rules), made on a copy, and what they were."""

    def __init__(self, source: str, document: dict[str, Any]) -> None:
        self.source = source
        self.document = document
        self.problems: list[Problem] = []
        self._copied = False

    def degraded(self, path: Sequence[str | int], message: str) -> None:
        self.problems.append(Problem(self.source, json_pointer(path), message, "degraded"))

    def fatal(self, path: Sequence[str | int], message: str) -> SpecErrors:
        return SpecErrors([SpecError(self.source, json_pointer(path), message)])

    def _replace(self, path: Sequence[str | int], value: Any = MISSING_VALUE) -> None:
        """Set the node at ``path`` to ``value``, or delete it (the parsed document is never
        changed in place: it may be the caller's)."""
        if not self._copied:
            self.document = copy.deepcopy(self.document)
            self._copied = True
        parent: Any = self.document
        for key in path[:-1]:
            parent = parent[key]
        if value is MISSING_VALUE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value

    def positional_items(self) -> None:
        schemas = self.document.get("components", {}).get("schemas")
        if not isinstance(schemas, dict):
            return
        for path, items in list(_positional_items(schemas, ["components", "schemas"])):
            self.degraded(
                [*path, "items"], "'items' is an object keyed by positions; read as a tuple"
            )
            node = dict(self._at(path))
            del node["items"]
            node["prefixItems"] = [items[key] for key in sorted(items, key=int)]
            self._replace(path, node)

    def structure(self) -> None:
        """Check the document's shape; repair what is wrong inside a schema, refuse the rest."""
        found = self._structure_errors()
        if not found:
            return
        fatal = [
            SpecError(self.source, json_pointer(path), message)
            for path, message in found
            if path[:2] != ["components", "schemas"] or len(path) < 3
        ]
        if fatal:
            raise SpecErrors(fatal)
        done: list[list[str | int]] = []
        for path, message in found:
            node = _schema_node(path)
            if any(node[: len(before)] == before for before in done):
                continue  # inside a node already replaced or a keyword already dropped
            if len(path) > len(node):
                target = path[: len(node) + 1]
                self.degraded(path, f"{message}; the keyword {path[len(node)]!r} is ignored")
            else:
                target = node
                self.degraded(path, f"{message}; typed as Any")
            self._replace(target, {} if target == node else MISSING_VALUE)
            done.append(target)
        left = self._structure_errors()
        if left:  # a repair the rules above did not foresee: refuse rather than guess
            raise SpecErrors([SpecError(self.source, json_pointer(p), m) for p, m in left])

    def _structure_errors(self) -> list[tuple[list[str | int], str]]:
        try:
            errors = sorted(
                _validator().iter_errors(self.document),
                key=lambda error: [str(part) for part in error.absolute_path],
            )
        except RecursionError:
            raise self.fatal([], "schemas are nested too deeply") from None
        found = []
        for error in errors:
            path = list(error.absolute_path)
            if error.validator == "not" and isinstance(error.schema, dict):
                found.append((path, str(error.schema.get("description", "unsupported"))))
            else:
                found.append((path, _shorten(error.message)))
        return found

    def references(self) -> None:
        """References into the schemas that point nowhere, elsewhere, or close a cycle become
        untyped; the queue paths' references are checked by :meth:`queue_schemas`."""
        schemas: dict[str, Any] = self.document["components"]["schemas"]
        for path, ref in list(iter_refs(schemas, ["components", "schemas"])):
            name = ref_target(ref)
            if name is None:
                message = (
                    f"unsupported reference {ref!r}: only '{SCHEMA_REF_PREFIX}<Name>' is supported"
                )
            elif name not in schemas:
                message = f"dangling reference {ref!r}"
            else:
                continue
            self.degraded(path, f"{message}; typed as Any")
            self._replace(path[:-1], _untyped(self._at(path[:-1])))
            schemas = self.document["components"]["schemas"]
        while cycle := _first_cycle(schemas):
            path, names = cycle
            self.degraded(
                path,
                "recursive schema references are not supported: "
                + " -> ".join(names)
                + "; the reference is typed as Any",
            )
            self._replace(path[:-1], _untyped(self._at(path[:-1])))
            schemas = self.document["components"]["schemas"]

    def _at(self, path: Sequence[str | int]) -> Any:
        node: Any = self.document
        for key in path:
            node = node[key]
        return node

    def queue_schemas(self, endpoint_id: str) -> tuple[str, str, bool]:
        """The Input (submit body) and Output (result) components, found through the queue
        paths, and whether the output is untyped."""
        paths = self.document["paths"]
        submit_path = f"/{endpoint_id}"
        result_path = f"/{endpoint_id}/requests/{{request_id}}"
        required = {
            submit_path: "post",
            result_path: "get",
            f"{result_path}/status": "get",
            f"{result_path}/cancel": "put",
        }
        missing = [
            SpecError(
                self.source,
                json_pointer(["paths", path]),
                f"missing the fal queue operation {method.upper()}",
            )
            for path, method in required.items()
            if not isinstance(paths.get(path), dict)
            or not isinstance(paths[path].get(method), dict)
        ]
        if missing:
            raise SpecErrors(missing)
        body = ["paths", submit_path, "post", "requestBody", "content", "application/json"]
        reply = ["paths", result_path, "get", "responses", "200", "content", "application/json"]
        input_schema, problem = self._component([*body, "schema"])
        if problem:
            raise self.fatal(*problem)
        output_schema, problem = self._component([*reply, "schema"])
        if not problem:
            return input_schema, output_schema, False
        # The result is still a JSON object; its fields are not known.
        self.degraded(problem[0], f"{problem[1]}; the output is untyped")
        name = output_schema or unique(
            pascal_name(endpoint_id.split("/", 1)[-1]) + "Output",
            set(self.document["components"]["schemas"]),
        )
        self._replace(["components", "schemas", name], {"type": "object"})
        return input_schema, name, True

    def _component(self, path: list[str]) -> tuple[str, tuple[list[str | int], str] | None]:
        """The object component referenced at ``path`` (its name, also when it is unusable),
        or what is wrong there."""
        node: Any = self.document
        for depth, key in enumerate(path):
            if not isinstance(node, dict):
                return "", (list(path[:depth]), "must be an object")
            if key not in node:
                return "", (list(path[: depth + 1]), "missing")
            node = node[key]
        ref = node.get("$ref") if isinstance(node, dict) else None
        name = ref_target(ref) if isinstance(ref, str) else None
        if name is None:
            return "", (list(path), f"must be a '$ref' to '{SCHEMA_REF_PREFIX}<Name>'")
        schemas = self.document["components"]["schemas"]
        if name not in schemas:
            return name, ([*path, "$ref"], f"dangling reference {ref!r}")
        schema = schemas[name]
        pointer: list[str | int] = ["components", "schemas", name]
        if not schema.get("properties") and schema.get("type") != "object":
            what = "is empty" if not schema else "must be an object schema"
            return name, (pointer, what)
        return name, None


def _positional_items(node: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], Any]]:
    """Schemas whose ``items`` is an object keyed ``"0"``, ``"1"``... (and their paths)."""
    for where, schema in iter_nodes(node, path):
        items = schema.get("items")
        if (
            isinstance(items, dict)
            and items
            and all(key.isdigit() for key in items)
            and sorted(int(key) for key in items) == list(range(len(items)))
            and "prefixItems" not in schema
        ):
            yield where, items


def _schema_node(path: Sequence[str | int]) -> list[str | int]:
    """The path of the schema node that holds ``path`` (inside ``#/components/schemas``)."""
    end, index = 3, 3
    while index < len(path):
        key = path[index]
        following = path[index + 1] if index + 1 < len(path) else None
        if (key == "properties" and following is not None) or (
            key in _SCHEMA_LISTS and isinstance(following, int)
        ):
            index += 2
        elif key in _SCHEMA_KEYS and index + 1 < len(path):
            index += 1
        else:
            break
        end = index
    return list(path[:end])


def _untyped(node: Any) -> dict[str, Any]:
    """An untyped schema in place of ``node``, keeping what documents it."""
    if not isinstance(node, dict):
        return {}
    return {key: node[key] for key in ("title", "description") if isinstance(node.get(key), str)}


def _first_cycle(schemas: dict[str, Any]) -> tuple[list[str | int], list[str]] | None:
    """The first reference (its path) that closes a cycle of components, and the cycle."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(name: str, trail: list[str]) -> tuple[list[str | int], list[str]] | None:
        state[name] = 1
        refs = sorted(
            ((ref_target(ref), path) for path, ref in iter_refs(schemas[name], [])),
            key=lambda item: (str(item[0]), [str(part) for part in item[1]]),
        )
        for target, path in refs:
            if target is None or target not in schemas:
                continue
            if state.get(target) == 1:
                start = trail.index(target) if target in trail else len(trail) - 1
                return ["components", "schemas", name, *path], [*trail[start:], target]
            if target not in state and (cycle := visit(target, [*trail, target])):
                return cycle
        state[name] = 2
        return None

    for name in sorted(schemas):
        if name not in state and (cycle := visit(name, [name])):
            return cycle
    return None
