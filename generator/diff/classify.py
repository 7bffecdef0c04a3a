"""The classifier: compares two versions of each endpoint and gives every change a kind and a
severity (see the package's docstring for the rules)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from ..schema import CATALOG_KEY, deprecation, schema_ref
from ..specfile import queue_component
from .changes import SEVERITIES, Change, ChangeKind, DiffError, DiffReport, Direction, Severity
from .resolve import MAX_DEPTH, Branch, Resolver, View, as_dict, json_type


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


def _type_label(resolver: Resolver, view: View, depth: int = 0) -> str:
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


_Pair = tuple[Branch, Branch, str]  # old alternative, new alternative, type compared as


class _EndpointDiff:
    """Compares two versions of one endpoint's document, collecting :class:`Change` items."""

    def __init__(self, endpoint_id: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.endpoint_id = endpoint_id
        self.old, self.new = old, new
        self.old_resolver, self.new_resolver = Resolver(old), Resolver(new)
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
        return {"$ref": schema_ref(name)}

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
        old_info, new_info = as_dict(self.old.get("info")), as_dict(self.new.get("info"))
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
        self._catalog(old_info, new_info)

    def _catalog(self, old_info: dict[str, Any], new_info: dict[str, Any]) -> None:
        """fal's catalogue entry (``info.x-fal-catalog``): status, names and descriptions; and
        whether the endpoint is deprecated (also when fal publishes it no longer)."""
        old, new = as_dict(old_info.get(CATALOG_KEY)), as_dict(new_info.get(CATALOG_KEY))
        old_status, new_status = old.get("status", "active"), new.get("status", "active")
        old_reason, new_reason = deprecation(old_info), deprecation(new_info)
        if new_reason and not old_reason:
            message = f"endpoint deprecated: {new_reason}"
            self._add("status", ChangeKind.ENDPOINT_DEPRECATED, "deprecation", message)
        elif old_reason and not new_reason:
            message = f"endpoint no longer deprecated (was: {old_reason})"
            self._add("status", ChangeKind.METADATA_CHANGED, "documentation", message)
        elif old_status != new_status:
            message = f"status changed from {_show(old_status)} to {_show(new_status)}"
            self._add("status", ChangeKind.METADATA_CHANGED, "documentation", message)
        categories = [
            info.get("category") or as_dict(whole.get("x-fal-metadata")).get("category")
            for info, whole in ((old, old_info), (new, new_info))
        ]
        if categories[0] != categories[1]:
            message = f"category changed from {_show(categories[0])} to {_show(categories[1])}"
            self._add("category", ChangeKind.METADATA_CHANGED, "documentation", message)
        for key in ("display_name", "description", "tags"):
            if _canonical(old.get(key)) == _canonical(new.get(key)):
                continue
            before, after = _show(old.get(key)), _show(new.get(key))
            if key != "display_name":
                message = f"{key} changed"
            elif old.get(key) is None:
                message = f"display name {after} added"
            else:
                message = f"display name changed from {before} to {after}"
            self._add(key, ChangeKind.METADATA_CHANGED, "documentation", message)

    # -- one schema ---------------------------------------------------------------------------

    def _compare(
        self, old: View, new: View, path: str, direction: Direction, *, depth: int
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

    def _type_changes(self, old: View, new: View, path: str, direction: Direction) -> list[_Pair]:
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
            if "object" in added:  # an object now: its fields are news too
                anything = Branch({}, old.branches["any"][0].refs)
                pairs.append((anything, new.branches["object"][0], "object"))
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
        self, old: Branch, new: Branch, path: str, direction: Direction, *, depth: int
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
        self, old: Branch, new: Branch, path: str, direction: Direction, *, depth: int
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
    def _fields(resolver: Resolver, branch: Branch) -> dict[str, View]:
        properties = as_dict(branch.schema.get("properties"))
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
        self, old: Branch, new: Branch, path: str, direction: Direction, *, depth: int
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
        if value is not None and (type_name == "any" or json_type(value) in kinds)
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
