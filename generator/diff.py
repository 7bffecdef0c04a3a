"""``falgen diff``: what changed in fal's endpoint specs, and whether it breaks generated clients.

The comparison is structural. Each endpoint's Input and Output schemas are resolved (``$ref``,
single-item ``allOf`` wrappers, ``anyOf [X, null]`` nullability) and walked side by side, so
renaming a shared component without changing it is no change, and a change deep inside an array
of objects is reported at a readable path such as ``input.loras[].scale``.

Every change gets a severity, which is what decides the version bump of the generated package:

* ``breaking`` - code written against the old client can stop working;
* ``behaviour`` - the same call now does something else (a default changed). Counted as
  breaking, because callers who relied on the old default get different results silently;
* ``addition`` - new capability, nothing existing breaks;
* ``documentation`` - titles, descriptions, examples, field order.

Direction matters, and the rules follow from who reads what:

* Inputs are written by callers and read by fal. Anything fal *no longer accepts* breaks
  callers: a removed field, a field that became required, a narrower or different type, a
  removed enum value, a tightened constraint. Accepting more is an addition.
* Outputs are written by fal and read by callers. Anything callers *can no longer count on*
  breaks them: a removed field, a field no longer required (it may be missing), a field that may
  now be null, a different or wider type. Promising more (a newly required field, a narrower
  type) is an addition. Value-level details of outputs - enum values and numeric or length
  constraints - are reported as additions either way: generated clients must treat output enums
  as open sets anyway, because fal adds values to them without notice.

Annotations of a shared component as a whole (its title and description) are not compared:
what a type is called is not part of the API; its fields are compared instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, TextIO, TypeGuard

from .errors import SpecError, SpecErrors
from .loader import SCHEMA_REF_PREFIX, discover, load_spec_bytes, parse_json, ref_target
from .specfile import queue_component

Severity = Literal["breaking", "behaviour", "addition", "documentation"]
SEVERITIES: tuple[Severity, ...] = ("breaking", "behaviour", "addition", "documentation")
Direction = Literal["input", "output"]
SemverBump = Literal["major", "minor", "patch"]

EXIT_OK = 0
EXIT_BREAKING = 1
EXIT_USAGE = 2

MAX_DEPTH = 64  # schemas nested deeper than this are not compared further


class ChangeKind(StrEnum):
    """What changed; the severity depends on the kind *and* on where it happened."""

    ENDPOINT_ADDED = "endpoint-added"
    ENDPOINT_REMOVED = "endpoint-removed"
    CAPABILITY_ADDED = "capability-added"
    CAPABILITY_REMOVED = "capability-removed"
    FIELD_ADDED = "field-added"
    FIELD_REMOVED = "field-removed"
    BECAME_REQUIRED = "became-required"
    BECAME_OPTIONAL = "became-optional"
    TYPE_CHANGED = "type-changed"
    ENUM_VALUE_ADDED = "enum-value-added"
    ENUM_VALUE_REMOVED = "enum-value-removed"
    CONSTRAINT_TIGHTENED = "constraint-tightened"
    CONSTRAINT_LOOSENED = "constraint-loosened"
    DEFAULT_CHANGED = "default-changed"
    TITLE_CHANGED = "title-changed"
    DESCRIPTION_CHANGED = "description-changed"
    EXAMPLES_CHANGED = "examples-changed"
    ORDER_CHANGED = "order-changed"
    METADATA_CHANGED = "metadata-changed"


@dataclass(frozen=True)
class Change:
    """One difference between two versions of an endpoint.

    ``path`` is empty for the endpoint itself, ``capabilities``/``summary``/``category`` for
    its metadata, and ``input.<field>...``/``output.<field>...`` inside its schemas, where
    ``[]`` steps into array items and ``{}`` into map values.
    """

    endpoint_id: str
    path: str
    kind: ChangeKind
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "endpoint_id": self.endpoint_id,
            "path": self.path,
            "kind": self.kind.value,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True)
class DiffReport:
    """All changes between two sets of specs, ordered by endpoint, severity, then path."""

    changes: tuple[Change, ...] = ()

    @property
    def is_breaking(self) -> bool:
        """True when any change is breaking, behaviour changes included."""
        return any(change.severity in ("breaking", "behaviour") for change in self.changes)

    def semver_bump(self) -> SemverBump | None:
        """The version bump the changes call for; None when there is nothing to release."""
        severities = {change.severity for change in self.changes}
        if severities & {"breaking", "behaviour"}:
            return "major"
        if "addition" in severities:
            return "minor"
        if "documentation" in severities:
            return "patch"
        return None

    def counts(self) -> dict[Severity, int]:
        counted = Counter(change.severity for change in self.changes)
        return {severity: counted[severity] for severity in SEVERITIES}

    def by_endpoint(self) -> dict[str, list[Change]]:
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.endpoint_id, []).append(change)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "breaking": self.is_breaking,
            "semver_bump": self.semver_bump(),
            "counts": dict(self.counts()),
            "endpoints": list(self.by_endpoint()),
            "changes": [change.to_dict() for change in self.changes],
        }


class DiffError(Exception):
    """The inputs cannot be compared (a document without queue paths, a bad git revision...)."""


# --------------------------------------------------------------------------------------------
# Library entry point
# --------------------------------------------------------------------------------------------


def diff_specs(old: Mapping[str, dict[str, Any]], new: Mapping[str, dict[str, Any]]) -> DiffReport:
    """Compare two sets of spec documents keyed by endpoint id.

    The documents should have passed the loader's validation; documents that lack the queue
    paths raise :class:`DiffError`, anything else unexpected (dangling references) is compared
    as "any value" rather than raised, so one odd spec cannot hide the rest of the report.
    """
    changes: list[Change] = []
    for endpoint_id in sorted(old.keys() | new.keys()):
        before, after = old.get(endpoint_id), new.get(endpoint_id)
        if after is None:
            changes.append(
                Change(endpoint_id, "", ChangeKind.ENDPOINT_REMOVED, "breaking", "endpoint removed")
            )
        elif before is None:
            changes.append(
                Change(endpoint_id, "", ChangeKind.ENDPOINT_ADDED, "addition", "endpoint added")
            )
        else:
            changes.extend(_EndpointDiff(endpoint_id, before, after).run())
    return DiffReport(tuple(sorted(changes, key=_order)))


def _order(change: Change) -> tuple[str, int, str, str, str]:
    return (
        change.endpoint_id,
        SEVERITIES.index(change.severity),
        change.path,
        change.kind.value,
        change.message,
    )


# --------------------------------------------------------------------------------------------
# Resolving schemas
# --------------------------------------------------------------------------------------------

_ANNOTATIONS = ("title", "description", "examples", "default")
# Keywords of a union node that do not carry over into its alternatives.
_NOT_INHERITED = frozenset(
    {*_ANNOTATIONS, "anyOf", "oneOf", "allOf", "$ref", "type", "nullable", "enum", "const"}
)


@dataclass(frozen=True)
class _Branch:
    """One alternative of a schema, fully resolved, with the components followed to reach it.

    ``refs`` lets nested schemas notice a reference cycle instead of recursing forever (the
    loader rejects cycles, but :func:`diff_specs` also takes documents it has not seen).
    """

    schema: dict[str, Any]
    refs: tuple[str, ...]


@dataclass(frozen=True)
class _View:
    """A schema as the comparison sees it.

    ``site`` holds the annotations written where the schema is used (a property, an array's
    items), before following any ``$ref``; ``branches`` maps each JSON type the schema accepts
    to its resolved alternative(s) of that type; accepting null is the separate ``nullable``.
    """

    site: dict[str, Any]
    branches: dict[str, list[_Branch]]
    nullable: bool


class _Resolver:
    """Follows references inside one document."""

    def __init__(self, document: dict[str, Any]) -> None:
        components = document.get("components")
        schemas = components.get("schemas") if isinstance(components, dict) else None
        self.schemas: dict[str, Any] = schemas if isinstance(schemas, dict) else {}

    def view(self, node: Any, refs: tuple[str, ...] = ()) -> _View:
        """Resolve ``node``; ``refs`` are the components already followed on the way here."""
        site: dict[str, Any] = {}
        branches: dict[str, list[_Branch]] = {}
        nullable = self._collect(node, refs, site, branches, outer=True)
        return _View(site=site, branches=branches, nullable=nullable)

    def _collect(
        self,
        node: Any,
        refs: tuple[str, ...],
        site: dict[str, Any],
        branches: dict[str, list[_Branch]],
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
            branches.setdefault("any", []).append(_Branch({}, followed))
            return False
        union = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(union, list):
            shared = {key: value for key, value in schema.items() if key not in _NOT_INHERITED}
            nullable = _allows_null(schema)
            for item in union:
                nullable |= self._collect(
                    item, followed, site, branches, outer=False, inherited=shared
                )
            return nullable
        for type_name in _types_of(schema):
            branches.setdefault(type_name, []).append(_Branch(schema, followed))
        return _allows_null(schema)

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
            merged = _merge_all_of(
                merged, [self._unwrap(item, followed, None)[0] for item in all_of]
            )
        return merged, followed

    def _target(self, node: dict[str, Any]) -> tuple[str | None, Any] | None:
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref_target(ref) if ref.startswith(SCHEMA_REF_PREFIX) else None
            return (name, self.schemas.get(name, {}) if name is not None else {})
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1:
            return (None, all_of[0])
        return None


def _merge_all_of(base: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """An approximation of ``allOf`` for objects: union of properties and required names."""
    merged = dict(base)
    properties: dict[str, Any] = dict(merged.get("properties", {}))
    required: list[str] = list(merged.get("required", []))
    for part in parts:
        properties.update(_dict(part.get("properties")))
        required.extend(name for name in part.get("required", []) if name not in required)
        for key, value in part.items():
            merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged


def _allows_null(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    enum = schema.get("enum")
    return schema.get("nullable") is True or (isinstance(enum, list) and None in enum)


def _types_of(schema: dict[str, Any]) -> list[str]:
    """The non-null JSON types a resolved, non-union schema accepts; ``any`` if unconstrained."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return [] if declared == "null" else [declared]
    if isinstance(declared, list):
        return [name for name in declared if isinstance(name, str) and name != "null"]
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if isinstance(values, list):
        inferred = sorted({_json_type(value) for value in values if value is not None})
        return inferred
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return ["any"]


def _json_type(value: Any) -> str:
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


# --------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    """A text form in which equal JSON values are equal (``1 == 1.0``, but ``true != 1``)."""

    def fold(item: Any) -> Any:
        if isinstance(item, float) and item.is_integer():
            return int(item)
        if isinstance(item, list):
            return [fold(element) for element in item]
        if isinstance(item, dict):
            return {key: fold(element) for key, element in item.items()}
        return item

    return json.dumps(fold(value), sort_keys=True, ensure_ascii=False)


def _show(value: Any, limit: int = 60) -> str:
    """A short readable JSON rendering of a value for messages."""
    text = _canonical(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_list(values: Iterable[Any]) -> str:
    return ", ".join(_show(value) for value in values)


def _squash(text: Any) -> str:
    """Descriptions differ in fal's documents by indentation alone; compare words only."""
    return " ".join(str(text).split())


def _type_label(resolver: _Resolver, view: _View, depth: int = 0) -> str:
    """``integer``, ``string | null``, ``array of object``... for messages and rename hints."""
    parts: list[str] = []
    for type_name, branches in sorted(view.branches.items()):
        for branch in branches:
            label = type_name
            if type_name == "array" and "items" in branch.schema and depth < 4:
                items = resolver.view(branch.schema["items"], branch.refs)
                label = f"array of {_type_label(resolver, items, depth + 1)}"
            elif _enum_values(branch.schema, type_name) is not None:
                label = f"{type_name} enum"
            parts.append(label)
    if view.nullable:
        parts.append("null")
    return " | ".join(parts) if parts else "null"


# --------------------------------------------------------------------------------------------
# Comparing one endpoint
# --------------------------------------------------------------------------------------------

_Pair = tuple[_Branch, _Branch, str]  # old alternative, new alternative, type compared as


class _EndpointDiff:
    """Compares two versions of one endpoint's document, collecting :class:`Change` items."""

    def __init__(self, endpoint_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.endpoint_id = endpoint_id
        self.old, self.new = old, new
        self.old_resolver, self.new_resolver = _Resolver(old), _Resolver(new)
        self.changes: list[Change] = []

    def run(self) -> list[Change]:
        self._metadata()
        directions: tuple[Direction, ...] = ("input", "output")
        for direction in directions:
            old_view = self.old_resolver.view(self._root(self.old, direction, "old"))
            new_view = self.new_resolver.view(self._root(self.new, direction, "new"))
            self._compare(old_view, new_view, direction, direction, depth=0)
        return self.changes

    def _root(self, document: dict[str, Any], direction: Direction, side: str) -> dict[str, str]:
        name = queue_component(document, direction)
        if name is None:
            where = "request body of the submit path" if direction == "input" else "result path"
            raise DiffError(
                f"{self.endpoint_id} ({side}): cannot find the {direction} schema "
                f"(a $ref in the {where})"
            )
        return {"$ref": SCHEMA_REF_PREFIX + name.replace("~", "~0").replace("/", "~1")}

    def _add(self, path: str, kind: ChangeKind, severity: Severity, message: str) -> None:
        self.changes.append(Change(self.endpoint_id, path, kind, severity, message))

    def _constraint(
        self, path: str, direction: Direction, *, tightened: bool, message: str
    ) -> None:
        """A change in what values are allowed: breaks callers only when inputs get stricter."""
        kind = ChangeKind.CONSTRAINT_TIGHTENED if tightened else ChangeKind.CONSTRAINT_LOOSENED
        severity: Severity = "breaking" if tightened and direction == "input" else "addition"
        self._add(path, kind, severity, message)

    def _narrowed(self, path: str, direction: Direction, message: str) -> None:
        """Fewer types: fal rejects what callers send (input) / callers get less (output)."""
        severity: Severity = "breaking" if direction == "input" else "addition"
        self._add(path, ChangeKind.TYPE_CHANGED, severity, message)

    def _widened(self, path: str, direction: Direction, message: str) -> None:
        """More types: fal accepts more (input) / callers must handle more (output)."""
        severity: Severity = "addition" if direction == "input" else "breaking"
        self._add(path, ChangeKind.TYPE_CHANGED, severity, message)

    # -- metadata ---------------------------------------------------------------------------

    def _metadata(self) -> None:
        old_info, new_info = _dict(self.old.get("info")), _dict(self.new.get("info"))
        before = _string_set(old_info.get("x-falgen-capabilities"))
        after = _string_set(new_info.get("x-falgen-capabilities"))
        for capability in sorted(before - after):
            self._add(
                "capabilities",
                ChangeKind.CAPABILITY_REMOVED,
                "breaking",
                f"capability {capability!r} removed",
            )
        for capability in sorted(after - before):
            self._add(
                "capabilities",
                ChangeKind.CAPABILITY_ADDED,
                "addition",
                f"capability {capability!r} added",
            )
        old_summary = _squash(old_info.get("x-falgen-summary", ""))
        if old_summary != _squash(new_info.get("x-falgen-summary", "")):
            self._add("summary", ChangeKind.METADATA_CHANGED, "documentation", "summary changed")
        old_category = _dict(old_info.get("x-fal-metadata")).get("category")
        new_category = _dict(new_info.get("x-fal-metadata")).get("category")
        if old_category != new_category:
            self._add(
                "category",
                ChangeKind.METADATA_CHANGED,
                "documentation",
                f"category changed from {_show(old_category)} to {_show(new_category)}",
            )

    # -- one schema ---------------------------------------------------------------------------

    def _compare(
        self, old: _View, new: _View, path: str, direction: Direction, *, depth: int
    ) -> None:
        """Compare the schema at ``path``: annotations, null, types, then each type in depth."""
        if depth > MAX_DEPTH:
            return
        self._annotations(old.site, new.site, path, direction)
        self._nullability(old.nullable, new.nullable, path, direction)
        for old_branch, new_branch, type_name in self._type_changes(old, new, path, direction):
            self._enum(old_branch.schema, new_branch.schema, type_name, path, direction)
            if type_name == "object":
                self._object(old_branch, new_branch, path, direction, depth=depth)
            elif type_name == "array":
                self._array(old_branch, new_branch, path, direction, depth=depth)
            elif type_name in ("integer", "number"):
                self._numeric(old_branch.schema, new_branch.schema, path, direction)
            elif type_name == "string":
                self._string(old_branch.schema, new_branch.schema, path, direction)

    def _annotations(
        self, old: dict[str, Any], new: dict[str, Any], path: str, direction: Direction
    ) -> None:
        self._default(old, new, path, direction)
        if old.get("title") != new.get("title"):
            self._add(
                path,
                ChangeKind.TITLE_CHANGED,
                "documentation",
                f"title changed from {_show(old.get('title'))} to {_show(new.get('title'))}",
            )
        if _squash(old.get("description", "")) != _squash(new.get("description", "")):
            self._add(path, ChangeKind.DESCRIPTION_CHANGED, "documentation", "description changed")
        if _canonical(old.get("examples")) != _canonical(new.get("examples")):
            self._add(path, ChangeKind.EXAMPLES_CHANGED, "documentation", "examples changed")

    def _default(
        self, old: dict[str, Any], new: dict[str, Any], path: str, direction: Direction
    ) -> None:
        """A changed input default changes what an unchanged call does: a behaviour change.

        Adding or removing a default counts too: generated signatures carry the default, so
        either way the same call sends something else (or leaves fal to choose).
        """
        had, has = "default" in old, "default" in new
        if not had and not has:
            return
        if had and has:
            if _canonical(old["default"]) == _canonical(new["default"]):
                return
            message = f"default changed from {_show(old['default'])} to {_show(new['default'])}"
        elif has:
            message = f"default {_show(new['default'])} added"
        else:
            message = f"default {_show(old['default'])} removed"
        severity: Severity = "behaviour" if direction == "input" else "documentation"
        self._add(path, ChangeKind.DEFAULT_CHANGED, severity, message)

    def _nullability(self, before: bool, after: bool, path: str, direction: Direction) -> None:
        if before == after:
            return
        if direction == "input":
            message = "now accepts null" if after else "no longer accepts null"
        else:
            message = "may now be null" if after else "is no longer null"
        (self._widened if after else self._narrowed)(path, direction, message)

    def _type_changes(self, old: _View, new: _View, path: str, direction: Direction) -> list[_Pair]:
        """Report types gained or lost; return the alternatives to compare in depth."""
        before, after = set(old.branches), set(new.branches)
        pairs: list[_Pair] = []
        for type_name in sorted(before & after):
            old_list, new_list = old.branches[type_name], new.branches[type_name]
            pairs.extend((o, n, type_name) for o, n in zip(old_list, new_list, strict=False))
            if len(old_list) != len(new_list):
                message = (
                    f"{type_name} alternatives changed from {len(old_list)} to {len(new_list)}"
                )
                grown = len(new_list) > len(old_list)
                (self._widened if grown else self._narrowed)(path, direction, message)
        removed, added = before - after, after - before
        if not removed and not added:
            return pairs
        old_label = _type_label(self.old_resolver, old)
        new_label = _type_label(self.new_resolver, new)
        if "any" in removed:
            self._narrowed(path, direction, f"narrowed from any value to {new_label}")
            return pairs
        if "any" in added:
            self._widened(path, direction, f"widened from {old_label} to any value")
            return pairs
        # integer -> number widens and number -> integer narrows: the same kind of value.
        if removed == {"integer"} and added == {"number"}:
            self._widened(path, direction, "widened from integer to number")
            return [*pairs, (old.branches["integer"][0], new.branches["number"][0], "number")]
        if removed == {"number"} and added == {"integer"}:
            self._narrowed(path, direction, "narrowed from number to integer")
            return [*pairs, (old.branches["number"][0], new.branches["integer"][0], "integer")]
        if removed and added:
            self._add(
                path,
                ChangeKind.TYPE_CHANGED,
                "breaking",
                f"type changed from {old_label} to {new_label}",
            )
            return pairs
        for type_name in sorted(removed):
            verb = "accepts" if direction == "input" else "returns"
            self._narrowed(path, direction, f"no longer {verb} {type_name}")
        for type_name in sorted(added):
            verb = "now also accepts" if direction == "input" else "may now return"
            self._widened(path, direction, f"{verb} {type_name}")
        return pairs

    # -- enums and constraints ----------------------------------------------------------------

    def _enum(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        type_name: str,
        path: str,
        direction: Direction,
    ) -> None:
        before, after = _enum_values(old, type_name), _enum_values(new, type_name)
        if before is None and after is None:
            return
        if before is None:
            assert after is not None
            values = _show_list(after.values())
            self._constraint(
                path, direction, tightened=True, message=f"now limited to the values {values}"
            )
            return
        if after is None:
            self._constraint(
                path,
                direction,
                tightened=False,
                message="no longer limited to a fixed set of values",
            )
            return
        severity: Severity = "breaking" if direction == "input" else "addition"
        for key in sorted(before.keys() - after.keys()):
            self._add(
                path,
                ChangeKind.ENUM_VALUE_REMOVED,
                severity,
                f"enum value {_show(before[key])} removed",
            )
        for key in sorted(after.keys() - before.keys()):
            self._add(
                path,
                ChangeKind.ENUM_VALUE_ADDED,
                "addition",
                f"enum value {_show(after[key])} added",
            )

    def _numeric(
        self, old: dict[str, Any], new: dict[str, Any], path: str, direction: Direction
    ) -> None:
        for side in ("lower", "upper"):
            before, after = _bound(old, side), _bound(new, side)
            if before == after:
                continue
            word = "minimum" if side == "lower" else "maximum"
            if after is None:
                message, tightened = f"{word} removed (was {_show_bound(before, side)})", False
            elif before is None:
                message, tightened = f"{word} added: {_show_bound(after, side)}", True
            else:
                tightened = _is_tighter(after, before, side)
                verb = _bound_verb(before, after)
                message = (
                    f"{word} {verb} from {_show_bound(before, side)} to {_show_bound(after, side)}"
                )
            self._constraint(path, direction, tightened=tightened, message=message)
        self._multiple_of(old.get("multipleOf"), new.get("multipleOf"), path, direction)

    def _multiple_of(self, before: Any, after: Any, path: str, direction: Direction) -> None:
        if _canonical(before) == _canonical(after):
            return
        if not _is_number(after):
            self._constraint(
                path, direction, tightened=False, message=f"multipleOf {before} removed"
            )
        elif not _is_number(before):
            self._constraint(path, direction, tightened=True, message=f"multipleOf {after} added")
        else:
            # Looser only when every multiple of the old step is a multiple of the new one.
            self._constraint(
                path,
                direction,
                tightened=not _divides(after, before),
                message=f"multipleOf changed from {before} to {after}",
            )

    def _string(
        self, old: dict[str, Any], new: dict[str, Any], path: str, direction: Direction
    ) -> None:
        self._length(old, new, ("minLength", "maxLength"), path, direction)
        for keyword in ("pattern", "format"):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if after is None:
                message, tightened = f"{keyword} {_show(before)} removed", False
            elif before is None:
                message, tightened = f"{keyword} {_show(after)} added", True
            else:
                # Two patterns or formats cannot be compared: assume the worst for inputs.
                message = f"{keyword} changed from {_show(before)} to {_show(after)}"
                tightened = True
            self._constraint(path, direction, tightened=tightened, message=message)

    def _length(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        keywords: tuple[str, str],
        path: str,
        direction: Direction,
    ) -> None:
        """``minLength``/``maxLength`` or ``minItems``/``maxItems``: raising a minimum or
        lowering a maximum tightens."""
        low, high = keywords
        for keyword in (low, high):
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            if not _is_number(after):
                message, tightened = f"{keyword} removed (was {before})", False
            elif not _is_number(before):
                message, tightened = f"{keyword} added: {after}", True
            else:
                raised = after > before
                message = f"{keyword} {'raised' if raised else 'lowered'} from {before} to {after}"
                tightened = raised if keyword == low else not raised
            self._constraint(path, direction, tightened=tightened, message=message)

    # -- arrays and objects -------------------------------------------------------------------

    def _array(
        self, old: _Branch, new: _Branch, path: str, direction: Direction, *, depth: int
    ) -> None:
        self._length(old.schema, new.schema, ("minItems", "maxItems"), path, direction)
        unique_before, unique_after = (
            bool(old.schema.get("uniqueItems")),
            bool(new.schema.get("uniqueItems")),
        )
        if unique_before != unique_after:
            message = "items must now be unique" if unique_after else "items may now repeat"
            self._constraint(path, direction, tightened=unique_after, message=message)
        old_items = self.old_resolver.view(old.schema.get("items", {}), old.refs)
        new_items = self.new_resolver.view(new.schema.get("items", {}), new.refs)
        self._compare(old_items, new_items, f"{path}[]", direction, depth=depth + 1)

    def _object(
        self, old: _Branch, new: _Branch, path: str, direction: Direction, *, depth: int
    ) -> None:
        old_fields = self._fields(self.old_resolver, old)
        new_fields = self._fields(self.new_resolver, new)
        old_required = _string_set(old.schema.get("required"))
        new_required = _string_set(new.schema.get("required"))
        removed = sorted(old_fields.keys() - new_fields.keys())
        added = sorted(new_fields.keys() - old_fields.keys())
        old_labels = {name: _type_label(self.old_resolver, old_fields[name]) for name in removed}
        new_labels = {name: _type_label(self.new_resolver, new_fields[name]) for name in added}
        for name in removed:
            self._field_removed(f"{path}.{name}", old_labels[name], new_labels)
        for name in added:
            self._field_added(
                f"{path}.{name}", new_labels[name], old_labels, name in new_required, direction
            )
        for name in sorted(old_fields.keys() & new_fields.keys()):
            field_path = f"{path}.{name}"
            self._requirement(name in old_required, name in new_required, field_path, direction)
            self._compare(
                old_fields[name], new_fields[name], field_path, direction, depth=depth + 1
            )
        self._order(old.schema, new.schema, path)
        self._additional(old, new, path, direction, depth=depth)

    @staticmethod
    def _fields(resolver: _Resolver, branch: _Branch) -> dict[str, _View]:
        properties = _dict(branch.schema.get("properties"))
        return {name: resolver.view(node, branch.refs) for name, node in properties.items()}

    def _field_removed(self, path: str, label: str, added: dict[str, str]) -> None:
        """Removing a field always breaks someone; a same-typed new field hints at a rename."""
        matches = [name for name, other in added.items() if other == label]
        hint = f" (renamed to {' or '.join(matches)}?)" if matches else ""
        self._add(path, ChangeKind.FIELD_REMOVED, "breaking", f"field removed{hint}")

    def _field_added(
        self, path: str, label: str, removed: dict[str, str], required: bool, direction: Direction
    ) -> None:
        matches = [name for name, other in removed.items() if other == label]
        hint = f" (renamed from {' or '.join(matches)}?)" if matches else ""
        if direction == "input" and required:
            self._add(
                path, ChangeKind.FIELD_ADDED, "breaking", f"new required field ({label}){hint}"
            )
        else:
            which = "optional field" if direction == "input" else "field"
            self._add(path, ChangeKind.FIELD_ADDED, "addition", f"new {which} ({label}){hint}")

    def _requirement(self, before: bool, after: bool, path: str, direction: Direction) -> None:
        if before == after:
            return
        if after:
            severity: Severity = "breaking" if direction == "input" else "addition"
            message = "became required" if direction == "input" else "is now always present"
            self._add(path, ChangeKind.BECAME_REQUIRED, severity, message)
        else:
            severity = "addition" if direction == "input" else "breaking"
            message = (
                "became optional" if direction == "input" else "no longer required: may be missing"
            )
            self._add(path, ChangeKind.BECAME_OPTIONAL, severity, message)

    def _order(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        """The display order of fields shared by both versions (fal's x-fal-order-properties)."""
        before = _string_list(old.get("x-fal-order-properties"))
        after = _string_list(new.get("x-fal-order-properties"))
        common = set(before) & set(after)
        if [name for name in before if name in common] != [
            name for name in after if name in common
        ]:
            self._add(path, ChangeKind.ORDER_CHANGED, "documentation", "field order changed")

    def _additional(
        self, old: _Branch, new: _Branch, path: str, direction: Direction, *, depth: int
    ) -> None:
        """Extra keys (``additionalProperties``): maps are compared value by value at ``{}``."""
        before = old.schema.get("additionalProperties", True)
        after = new.schema.get("additionalProperties", True)
        if isinstance(before, dict) and before and isinstance(after, dict) and after:
            self._compare(
                self.old_resolver.view(before, old.refs),
                self.new_resolver.view(after, new.refs),
                f"{path}{{}}",
                direction,
                depth=depth + 1,
            )
            return
        rank_before, rank_after = _openness(before), _openness(after)
        if rank_before != rank_after:
            self._constraint(
                path,
                direction,
                tightened=rank_after < rank_before,
                message=f"now allows {_OPENNESS[rank_after]} (was {_OPENNESS[rank_before]})",
            )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _string_set(value: Any) -> set[str]:
    return set(_string_list(value))


def _string_list(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


_OPENNESS = {0: "no extra keys", 1: "extra keys of one type", 2: "any extra keys"}


def _openness(value: Any) -> int:
    """How many extra object keys ``additionalProperties`` allows: none, typed, any."""
    if value is False:
        return 0
    if isinstance(value, dict) and value:
        return 1
    return 2


def _enum_values(schema: dict[str, Any], type_name: str) -> dict[str, Any] | None:
    """The enum values of one type alternative, keyed by canonical text; None if not an enum.

    A mixed enum (``["a", 1]``) is split by type so each alternative reports its own values.
    """
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if not isinstance(values, list):
        return None
    kinds = {"number": ("integer", "number")}.get(type_name, (type_name,))
    return {
        _canonical(value): value
        for value in values
        if value is not None and (type_name == "any" or _json_type(value) in kinds)
    }


Bound = tuple[float, bool]  # (limit, exclusive)


def _bound(schema: dict[str, Any], side: str) -> Bound | None:
    """The effective lower or upper bound, from OpenAPI 3.0 and JSON Schema 2020 spellings.

    OpenAPI 3.0 writes ``minimum: 0, exclusiveMinimum: true``; fal's documents (pydantic) write
    ``exclusiveMinimum: 0``. Both become ``(0.0, True)``; if both forms appear, the tighter wins.
    """
    inclusive_key, exclusive_key = (
        ("minimum", "exclusiveMinimum") if side == "lower" else ("maximum", "exclusiveMaximum")
    )
    inclusive, exclusive = schema.get(inclusive_key), schema.get(exclusive_key)
    candidates: list[Bound] = []
    if _is_number(inclusive):
        candidates.append((float(inclusive), exclusive is True))
    if _is_number(exclusive):
        candidates.append((float(exclusive), True))
    if not candidates:
        return None
    best = candidates[0]
    for candidate in candidates[1:]:
        if _is_tighter(candidate, best, side):
            best = candidate
    return best


def _is_number(value: object) -> TypeGuard[int | float]:
    """JSON numbers only: ``True`` is a bool here, not 1."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_tighter(candidate: Bound, other: Bound, side: str) -> bool:
    """True when ``candidate`` excludes a value that ``other`` allows."""
    limit, exclusive = candidate
    other_limit, other_exclusive = other
    if limit != other_limit:
        return limit > other_limit if side == "lower" else limit < other_limit
    return exclusive and not other_exclusive


def _bound_verb(before: Bound, after: Bound) -> str:
    if after[0] != before[0]:
        return "raised" if after[0] > before[0] else "lowered"
    return "made exclusive" if after[1] else "made inclusive"


def _show_bound(bound: Bound | None, side: str) -> str:
    if bound is None:
        return "none"
    limit, exclusive = bound
    operator = (">" if exclusive else ">=") if side == "lower" else ("<" if exclusive else "<=")
    number = int(limit) if limit.is_integer() else limit
    return f"{operator} {number}"


def _divides(divisor: float, value: float) -> bool:
    """True when ``value`` is a whole multiple of ``divisor``."""
    if divisor == 0:
        return False
    ratio = value / divisor
    return abs(ratio - round(ratio)) < 1e-9


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_TEXT_LABELS: dict[Severity, str] = {
    "breaking": "BREAKING",
    "behaviour": "BEHAVIOUR",
    "addition": "ADDED",
    "documentation": "DOCS",
}
_ANSI: dict[Severity, str] = {
    "breaking": "\x1b[1;31m",
    "behaviour": "\x1b[1;33m",
    "addition": "\x1b[32m",
    "documentation": "\x1b[2m",
}
_ANSI_RESET = "\x1b[0m"
_ANSI_BOLD = "\x1b[1m"
_MARKDOWN_LABELS: dict[Severity, str] = {
    "breaking": ":boom: breaking",
    "behaviour": ":warning: behaviour",
    "addition": ":sparkles: addition",
    "documentation": ":memo: docs",
}
_NOUNS: dict[Severity, tuple[str, str]] = {
    "breaking": ("breaking change", "breaking changes"),
    "behaviour": ("behaviour change", "behaviour changes"),
    "addition": ("addition", "additions"),
    "documentation": ("documentation change", "documentation changes"),
}


def use_color(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _summary(report: DiffReport) -> str:
    counts = report.counts()
    parts = [
        f"{count} {_NOUNS[severity][count != 1]}" for severity, count in counts.items() if count
    ]
    endpoints = len(report.by_endpoint())
    noun = "endpoint" if endpoints == 1 else "endpoints"
    return f"{endpoints} {noun} changed: {', '.join(parts)}"


def render_text(report: DiffReport, *, color: bool = False) -> str:
    """Human-readable report: one block per endpoint, breaking changes first."""
    if not report.changes:
        return "No API changes.\n"

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_ANSI_RESET}" if color else text

    lines: list[str] = []
    for endpoint_id, changes in report.by_endpoint().items():
        lines.append(paint(endpoint_id, _ANSI_BOLD))
        for change in changes:
            label = paint(f"{_TEXT_LABELS[change.severity]:<9}", _ANSI[change.severity])
            where = f"{change.path}: " if change.path else ""
            lines.append(f"  {label}  {where}{change.message}")
        lines.append("")
    lines.append(f"{_summary(report)}.")
    lines.append(f"Suggested version bump: {report.semver_bump()}.")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (no pipes, no HTML, no line breaks)."""
    escaped = (
        text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    )
    return " ".join(escaped.split())


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{_md_cell(text)}{fence}"


def render_markdown(report: DiffReport) -> str:
    """A pull-request comment: summary line, then one table per endpoint."""
    lines = ["## API changes", ""]
    if not report.changes:
        lines.append("No API changes.")
        return "\n".join(lines) + "\n"
    lines.append(f"{_summary(report)}. Suggested version bump: **{report.semver_bump()}**.")
    for endpoint_id, changes in report.by_endpoint().items():
        lines += [
            "",
            f"### {_md_code(endpoint_id)}",
            "",
            "| | Path | Change |",
            "| --- | --- | --- |",
        ]
        for change in changes:
            where = _md_code(change.path) if change.path else "(endpoint)"
            lines.append(
                f"| {_MARKDOWN_LABELS[change.severity]} | {where} | {_md_cell(change.message)} |"
            )
    return "\n".join(lines) + "\n"


def render_json(report: DiffReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


_CHANGELOG_SECTIONS: dict[Severity, str] = {
    "breaking": "Breaking changes",
    "behaviour": "Behaviour changes",
    "addition": "Added",
    "documentation": "Documentation",
}


def changelog_entry(report: DiffReport, version: str, date: dt.date | str) -> str:
    """A Markdown changelog section for a release made from ``report``."""
    day = date.isoformat() if isinstance(date, dt.date) else date
    lines = [f"## {version} ({day})", ""]
    if not report.changes:
        lines.append("No API changes.")
        return "\n".join(lines) + "\n"
    for severity in SEVERITIES:
        entries = [change for change in report.changes if change.severity == severity]
        if not entries:
            continue
        lines += [f"### {_CHANGELOG_SECTIONS[severity]}", ""]
        for change in entries:
            where = f" {_md_code(change.path)}:" if change.path else ""
            lines.append(f"- {_md_code(change.endpoint_id)}:{where} {change.message}")
        lines.append("")
    return "\n".join(lines)


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown}


# --------------------------------------------------------------------------------------------
# Loading what to compare
# --------------------------------------------------------------------------------------------


def load_file(path: Path) -> tuple[str, dict[str, Any]]:
    """One spec file anywhere on disk: its endpoint id (from the document) and the document."""
    raw = _read(path)
    endpoint_id = _declared_endpoint_id(str(path), parse_json(str(path), raw))
    return endpoint_id, _validated(f"{endpoint_id}.json", str(path), raw)


def load_folder(specs_dir: Path) -> dict[str, dict[str, Any]]:
    """Every spec in a specs folder, keyed by endpoint id; all problems reported at once."""
    if not specs_dir.is_dir():
        raise SpecErrors([SpecError(str(specs_dir), "#", "specs folder does not exist")])
    entries = [
        (path.relative_to(specs_dir).as_posix(), str(path), _read(path))
        for path in discover(specs_dir)
    ]
    return _load_entries(entries)


def load_revision(specs_dir: Path, revision: str) -> dict[str, dict[str, Any]]:
    """The specs that ``specs_dir`` held at git ``revision``, keyed by endpoint id.

    Uses ``git ls-tree`` and ``git show REV:path`` on the repository that contains
    ``specs_dir``, so it works from any working directory.
    """
    if not revision or revision.startswith("-"):
        # Would reach git as an option (``git show --output=...``): refuse it.
        raise DiffError(f"invalid git revision {revision!r}")
    folder = specs_dir.resolve()
    top = Path(
        _git(folder if folder.is_dir() else folder.parent, "rev-parse", "--show-toplevel")
        .decode()
        .strip()
    )
    relative = folder.relative_to(top.resolve()).as_posix()
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except DiffError:
        raise DiffError(f"unknown git revision {revision!r}") from None
    listing = _git(top, "ls-tree", "-r", "-z", "--name-only", revision, "--", relative)
    entries = []
    names = os.fsdecode(listing).split("\0")
    for name in sorted(item for item in names if item.endswith(".json")):
        source = name[len(relative) + 1 :] if relative != "." else name
        entries.append((source, f"{revision}:{name}", _git(top, "show", f"{revision}:{name}")))
    return _load_entries(entries)


def _load_entries(entries: Sequence[tuple[str, str, bytes]]) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    errors: list[SpecError] = []
    for source, display, raw in entries:
        try:
            spec = load_spec_bytes(source, raw)
        except SpecErrors as problem:
            errors.extend(SpecError(display, e.pointer, e.message) for e in problem.errors)
        else:
            documents[spec.endpoint_id] = spec.document
    if errors:
        raise SpecErrors(errors)
    return documents


def _validated(source: str, display: str, raw: bytes) -> dict[str, Any]:
    try:
        return load_spec_bytes(source, raw).document
    except SpecErrors as problem:
        raise SpecErrors(
            [SpecError(display, e.pointer, e.message) for e in problem.errors]
        ) from None


def _declared_endpoint_id(display: str, document: dict[str, Any]) -> str:
    """The id a document declares (``info.x-fal-metadata.endpointId``) or its submit path names."""
    declared = _dict(_dict(document.get("info")).get("x-fal-metadata")).get("endpointId")
    if isinstance(declared, str) and declared:
        return declared
    paths = _dict(document.get("paths"))
    submits = [path.lstrip("/") for path in paths if isinstance(path, str) and "{" not in path]
    if len(submits) == 1 and submits[0]:
        return submits[0]
    raise SpecErrors(
        [
            SpecError(
                display, "#/info/x-fal-metadata/endpointId", "cannot tell which endpoint this is"
            )
        ]
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as problem:
        raise SpecErrors(
            [SpecError(str(path), "#", f"cannot read file: {problem.strerror}")]
        ) from None


def _git(cwd: Path, *arguments: str) -> bytes:
    try:
        completed = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, check=False)
    except OSError as problem:
        raise DiffError(f"cannot run git: {problem}") from None
    if completed.returncode != 0:
        detail = completed.stderr.decode(errors="replace").strip() or "unknown revision"
        raise DiffError(f"git {arguments[0]} failed: {detail}")
    return completed.stdout


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


class UsageError(Exception):
    """Arguments that do not describe a comparison."""


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "diff",
    help: str | None = None,
) -> None:
    """Register ``falgen diff``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=(
            "Compare two spec files, two specs folders, or the specs folder against a git "
            "revision, and classify every change as breaking, behaviour, addition or "
            "documentation. Exit status: 0 no breaking changes, 1 breaking (or behaviour) "
            "changes, 2 usage or input error."
        ),
    )
    parser.add_argument("old", nargs="?", type=Path, metavar="OLD", help="old spec file or folder")
    parser.add_argument("new", nargs="?", type=Path, metavar="NEW", help="new spec file or folder")
    parser.add_argument(
        "--against",
        metavar="REV",
        help="compare the specs folder at git revision REV with the working specs folder",
    )
    parser.add_argument(
        "--specs", type=Path, default=Path("specs"), help="specs folder (default: specs)"
    )
    parser.add_argument(
        "--format", choices=sorted(RENDERERS), default="text", help="report format (default: text)"
    )
    parser.set_defaults(handler=run)


def run(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """``falgen diff``: print the report, return the exit status."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    try:
        old, new = _sides(args)
        report = diff_specs(old, new)
    except UsageError as problem:
        print(f"falgen diff: error: {problem}", file=err)
        return EXIT_USAGE
    except SpecErrors as problem:
        print(f"falgen diff: invalid specs:\n{problem}", file=err)
        return EXIT_USAGE
    except DiffError as problem:
        print(f"falgen diff: error: {problem}", file=err)
        return EXIT_USAGE
    if args.format == "text":
        out.write(render_text(report, color=use_color(out)))
    else:
        out.write(RENDERERS[args.format](report))
    return EXIT_BREAKING if report.is_breaking else EXIT_OK


def _sides(args: argparse.Namespace) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    old_path: Path | None = args.old
    new_path: Path | None = args.new
    if args.against is not None:
        if old_path is not None or new_path is not None:
            raise UsageError("give either OLD NEW or --against REV, not both")
        return load_revision(args.specs, args.against), load_folder(args.specs)
    if old_path is None or new_path is None:
        raise UsageError("give OLD and NEW (two files or two folders), or --against REV")
    for path in (old_path, new_path):
        if not path.exists():
            raise UsageError(f"{path} does not exist")
    if old_path.is_dir() and new_path.is_dir():
        return load_folder(old_path), load_folder(new_path)
    if old_path.is_file() and new_path.is_file():
        old_id, old_document = load_file(old_path)
        new_id, new_document = load_file(new_path)
        # Two files are compared with each other whatever endpoints they declare: the user
        # paired them explicitly. The report is labelled with the new document's id.
        del old_id
        return {new_id: old_document}, {new_id: new_document}
    raise UsageError("OLD and NEW must both be files or both be folders")
