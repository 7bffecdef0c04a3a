"""Read spec files and check that each one is a fal queue OpenAPI document we can generate from.

Every problem becomes a :class:`SpecError` naming the file and a JSON pointer; nothing here
raises anything else for bad input.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecErrors
from .overlay import OverlayFile, is_overlay, orphans, overlaid, overlay_for, spec_digest
from .schema import SCHEMA_REF_PREFIX as SCHEMA_REF_PREFIX  # re-exported for older imports
from .schema import iter_refs, json_pointer
from .schema import ref_target as ref_target

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
    "prefixItems",
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
                "x-fal-catalog": {
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
    """One validated spec: the endpoint it describes and its parsed JSON."""

    source: str  # path relative to the specs folder, with "/" separators
    endpoint_id: str
    document: dict[str, Any]
    input_schema: str  # component name of the request body
    output_schema: str  # component name of the result
    digest: str  # sha256 of the file's bytes

    @property
    def schemas(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self.document["components"]["schemas"]
        return schemas


def discover(specs_dir: Path) -> list[Path]:
    """All spec files under ``specs_dir`` in a stable, file-system independent order."""
    return sorted(
        (path for path in specs_dir.rglob("*.json") if not is_overlay(path)),
        key=lambda path: path.relative_to(specs_dir).as_posix(),
    )


def spec_digests(specs_dir: Path) -> dict[str, str]:
    """What the specs load as, cheaply: each spec's digest (overlay included) by source, and
    overlays without a spec (an error when loading) under their own name."""
    digests = {}
    for path in discover(specs_dir):
        try:
            overlay = overlay_for(specs_dir, path)
        except SpecErrors:
            overlay = OverlayFile("", b"unreadable")  # never current: loading reports it
        source = path.relative_to(specs_dir).as_posix()
        digests[source] = spec_digest(path.read_bytes(), overlay)
    digests.update((error.source, "orphan") for error in orphans(specs_dir))
    return digests


def load_specs(specs_dir: Path, trusted: Mapping[str, str] | None = None) -> list[SpecDocument]:
    """Load and validate every spec; raise :class:`SpecErrors` listing all problems found.

    ``trusted`` maps sources to digests of files that this same generator validated before
    (from the output's manifest): files with those exact bytes are not checked again.
    """
    trusted = trusted or {}
    if not specs_dir.is_dir():
        raise SpecErrors([SpecError(str(specs_dir), "#", "specs folder does not exist")])
    documents: list[SpecDocument] = []
    errors: list[SpecError] = []
    for path in discover(specs_dir):
        source = path.relative_to(specs_dir).as_posix()
        try:
            raw = path.read_bytes()
            overlay = overlay_for(specs_dir, path)
            digest = spec_digest(raw, overlay)
            documents.append(
                load_spec_bytes(source, raw, trusted=trusted.get(source) == digest, overlay=overlay)
            )
        except SpecErrors as problem:
            errors.extend(problem.errors)
        except OSError as problem:
            errors.append(SpecError(source, "#", f"cannot read file: {problem.strerror}"))
    errors.extend(orphans(specs_dir))
    seen: dict[str, str] = {}
    for document in documents:
        if document.endpoint_id in seen:
            errors.append(
                SpecError(
                    document.source,
                    "#/info/x-fal-metadata/endpointId",
                    f"endpoint {document.endpoint_id!r} is also defined by "
                    f"{seen[document.endpoint_id]}",
                )
            )
        seen.setdefault(document.endpoint_id, document.source)
    if errors:
        raise SpecErrors(errors)
    return documents


def load_spec_bytes(
    source: str, raw: bytes, *, trusted: bool = False, overlay: OverlayFile | None = None
) -> SpecDocument:
    """Parse and validate one spec given as bytes; ``source`` names it in errors.

    ``trusted``: these bytes passed every check before (the checks are slow, parsing is not).
    ``overlay``: an OpenAPI Overlay applied to the document before it is checked.
    """
    document = json.loads(raw) if trusted else parse_json(source, raw)
    if overlay is not None:
        document = overlaid(source, document, overlay)
    if not trusted:
        problems = list(_structure_errors(source, document))
        problems = problems or list(_reference_errors(source, document))
        if problems:
            if overlay is not None:  # the pointers are into the overlaid document
                problems = [
                    SpecError(e.source, e.pointer, f"{e.message} (with {overlay.source})")
                    for e in problems
                ]
            raise SpecErrors(problems)
    endpoint_id = _endpoint_id(source, document)
    input_schema, output_schema = _queue_schemas(source, document, endpoint_id)
    return SpecDocument(
        source=source,
        endpoint_id=endpoint_id,
        document=document,
        input_schema=input_schema,
        output_schema=output_schema,
        digest=spec_digest(raw, overlay),
    )


def parse_json(source: str, raw: bytes) -> dict[str, Any]:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, no lone surrogates, at most
    :data:`MAX_DEPTH` levels deep, an object at the top."""
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecErrors(
            [SpecError(source, "#", f"document is {len(raw)} bytes; the limit is {MAX_SPEC_BYTES}")]
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


def _structure_errors(source: str, document: dict[str, Any]) -> Iterator[SpecError]:
    try:
        found = sorted(
            _validator().iter_errors(document), key=lambda error: list(error.absolute_path)
        )
    except RecursionError:
        yield SpecError(source, "#", "schemas are nested too deeply")
        return
    for error in found:
        pointer = json_pointer(list(error.absolute_path))
        if error.validator == "not" and isinstance(error.schema, dict):
            yield SpecError(source, pointer, str(error.schema.get("description", "unsupported")))
        else:
            yield SpecError(source, pointer, _shorten(error.message))


def _shorten(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def _reference_errors(source: str, document: dict[str, Any]) -> Iterator[SpecError]:
    schemas: dict[str, Any] = document["components"]["schemas"]
    for path, ref in iter_refs(document, []):
        name = ref_target(ref)
        if name is None:
            yield SpecError(
                source,
                json_pointer(path),
                f"unsupported reference {ref!r}: only '{SCHEMA_REF_PREFIX}<Name>' is supported",
            )
        elif name not in schemas:
            yield SpecError(source, json_pointer(path), f"dangling reference {ref!r}")
    yield from _cycle_errors(source, schemas)


def _cycle_errors(source: str, schemas: dict[str, Any]) -> Iterator[SpecError]:
    """Recursive schemas cannot be deduplicated or sampled reliably: report the first cycle."""
    edges = {
        name: sorted({target for _, ref in iter_refs(schema, []) if (target := ref_target(ref))})
        for name, schema in schemas.items()
    }
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(name: str, trail: list[str]) -> list[str] | None:
        state[name] = 1
        for target in edges.get(name, []):
            if state.get(target) == 1:
                return (
                    [*trail[trail.index(target) :], target] if target in trail else [name, target]
                )
            if target not in state and (cycle := visit(target, [*trail, target])):
                return cycle
        state[name] = 2
        return None

    for name in sorted(schemas):
        if name not in state and (cycle := visit(name, [name])):
            yield SpecError(
                source,
                json_pointer(["components", "schemas", cycle[0]]),
                "recursive schema references are not supported: " + " -> ".join(cycle),
            )
            return


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


def _queue_schemas(source: str, document: dict[str, Any], endpoint_id: str) -> tuple[str, str]:
    """Find the Input (submit body) and Output (result) components through the queue paths."""
    paths = document["paths"]
    submit_path = f"/{endpoint_id}"
    result_path = f"/{endpoint_id}/requests/{{request_id}}"
    required = {
        submit_path: "post",
        result_path: "get",
        f"{result_path}/status": "get",
        f"{result_path}/cancel": "put",
    }
    problems = [
        SpecError(
            source,
            json_pointer(["paths", path]),
            f"missing the fal queue operation {method.upper()}",
        )
        for path, method in required.items()
        if not isinstance(paths.get(path), dict) or not isinstance(paths[path].get(method), dict)
    ]
    if problems:
        raise SpecErrors(problems)
    body_path = [
        "paths",
        submit_path,
        "post",
        "requestBody",
        "content",
        "application/json",
        "schema",
    ]
    reply_path = [
        "paths",
        result_path,
        "get",
        "responses",
        "200",
        "content",
        "application/json",
        "schema",
    ]
    return _component_at(source, document, body_path), _component_at(source, document, reply_path)


def _component_at(source: str, document: dict[str, Any], path: list[str]) -> str:
    node: Any = document
    for depth, key in enumerate(path):
        if not isinstance(node, dict):
            raise SpecErrors([SpecError(source, json_pointer(path[:depth]), "must be an object")])
        if key not in node:
            raise SpecErrors([SpecError(source, json_pointer(path[: depth + 1]), "missing")])
        node = node[key]
    ref = node.get("$ref") if isinstance(node, dict) else None
    name = ref_target(ref) if isinstance(ref, str) else None
    if name is None:
        raise SpecErrors(
            [
                SpecError(
                    source, json_pointer(path), f"must be a '$ref' to '{SCHEMA_REF_PREFIX}<Name>'"
                )
            ]
        )
    schema = document["components"]["schemas"][name]
    if schema.get("type") != "object" and "properties" not in schema:
        raise SpecErrors(
            [
                SpecError(
                    source,
                    json_pointer(["components", "schemas", name]),
                    "must be an object schema",
                )
            ]
        )
    return name
