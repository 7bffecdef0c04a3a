"""Schemas as ``falgen diff`` compares them: ``$ref`` and ``allOf`` wrappers followed, unions
split by JSON type, accepting null kept apart."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..schema import ref_target, single_all_of

MAX_DEPTH = 64  # schemas nested deeper than this are not compared further


_ANNOTATIONS = ("title", "description", "examples", "default")
# Keywords of a union node that do not carry over into its alternatives.
_NOT_INHERITED = frozenset(
    {*_ANNOTATIONS, "anyOf", "oneOf", "allOf", "$ref", "type", "nullable", "enum", "const"}
)


@dataclass(frozen=True)
class Branch:
    """One alternative of a schema, fully resolved, with the components followed to reach it.

    ``refs`` lets nested schemas notice a reference cycle instead of recursing forever (the
    loader rejects cycles, but :func:`diff_specs` also takes documents it has not seen).
    """

    schema: dict[str, Any]
    refs: tuple[str, ...]


@dataclass(frozen=True)
class View:
    """A schema as the comparison sees it.

    ``site`` holds the annotations written where the schema is used (a property, an array's
    items), before following any ``$ref``; ``branches`` maps each JSON type the schema accepts
    to its resolved alternative(s) of that type; accepting null is the separate ``nullable``.
    """

    site: dict[str, Any]
    branches: dict[str, list[Branch]]
    nullable: bool


class Resolver:
    """Follows references inside one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        components = document.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        self.schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}

    def view(self, node: Any, refs: tuple[str, ...] = ()) -> View:
        """Resolve ``node``; ``refs`` are the components already followed on the way here."""
        site: dict[str, Any] = {}
        branches: dict[str, list[Branch]] = {}
        nullable = self._collect(node, refs, site, branches, outer=True)
        return View(site=site, branches=branches, nullable=nullable)

    def _collect(
        self,
        node: Any,
        refs: tuple[str, ...],
        site: dict[str, Any],
        branches: dict[str, list[Branch]],
        *,
        outer: bool,
        inherited: Mapping[str, Any] | None = None,
    ) -> bool:
        """Add ``node``'s type branches to ``branches``; return whether it accepts null.

        Constraints written beside ``anyOf``/``oneOf`` (``{"minimum": 1, "anyOf": [...]}``)
        apply to every alternative, so they are ``inherited`` into each one.
        """
        schema, followed = self._unwrap(node, refs, site if outer else None)
        if inherited:
            schema = {**inherited, **schema}
        if len(followed) > MAX_DEPTH or len(set(followed)) < len(followed):
            branches.setdefault("any", []).append(Branch({}, followed))
            return False
        union = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(union, list):
            shared = {key: value for key, value in schema.items() if key not in _NOT_INHERITED}
            nullable = allows_null(schema)
            for item in union:
                nullable |= self._collect(
                    item, followed, site, branches, outer=False, inherited=shared
                )
            return nullable
        for type_name in types_of(schema):
            branches.setdefault(type_name, []).append(Branch(schema, followed))
        return allows_null(schema)

    def _unwrap(
        self, node: Any, refs: tuple[str, ...], site: dict[str, Any] | None
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """Follow ``$ref`` and single-item ``allOf`` wrappers, merging the wrappers' keywords.

        Keywords written next to a reference win over the referenced schema's (that is how fal
        attaches a field's description and default to a shared type). When ``site`` is given,
        the outermost annotations are recorded there.
        """
        merged: dict[str, Any] = {}
        followed = refs
        current: Any = node
        first = True
        while isinstance(current, dict):
            for key, value in current.items():
                if key not in ("$ref", "allOf"):
                    merged.setdefault(key, value)
                    if first and site is not None and key in _ANNOTATIONS:
                        site.setdefault(key, value)
            first = False
            target = self._target(current)
            if target is None:
                break
            name, current = target
            if name is not None:
                if name in followed:  # a cycle: stop here
                    return merged, (*followed, name)
                followed = (*followed, name)
        all_of = current.get("allOf") if isinstance(current, dict) else None
        if isinstance(all_of, list) and len(all_of) > 1:
            merged = merge_all_of(
                merged, [self._unwrap(item, followed, None)[0] for item in all_of]
            )
        return merged, followed

    def _target(self, node: dict[str, Any]) -> tuple[str | None, Any] | None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref_target(ref)
            return (name, self.schemas.get(name, {}) if name is not None else {})
        inner = single_all_of(node)
        return None if inner is None else (None, inner)


def merge_all_of(base: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """An approximation of ``allOf`` for objects: union of properties and required names."""
    merged = dict(base)
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in parts:
        properties.update(as_dict(part.get("properties")))
        required.extend(name for name in part.get("required", []) if name not in required)
        for key, value in part.items():
            merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged


def allows_null(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    enum = schema.get("enum")
    return schema.get("nullable") is True or (isinstance(enum, list) and None in enum)


def types_of(schema: dict[str, Any]) -> list[str]:
    """The non-null JSON types a resolved, non-union schema accepts; ``any`` if unconstrained."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [] if declared == "null" else [declared]
    if isinstance(declared, list):
        return [name for name in declared if isinstance(name, str) and name != "null"]
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if isinstance(values, list):
        inferred = sorted({json_type(value) for value in values if value is not None})
        return inferred
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return ["any"]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (documents may not be validated)."""
    return value if isinstance(value, dict) else {}
