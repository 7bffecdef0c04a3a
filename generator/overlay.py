"""OpenAPI Overlay 1.0 files: fixes to a vendor document, kept beside it and applied on load.

fal's documents are sometimes wrong (an Output published as an empty schema). Editing the
document would be undone by the next ``falgen fetch``; an overlay is a separate file that says
what to change, so the document stays exactly what fal publishes and the fix survives refreshes.

``specs/<endpoint id>.overlay.yaml`` (or ``.overlay.yml``, ``.overlay.json``) applies to
``specs/<endpoint id>.json``. The format is the OpenAPI Overlay Specification 1.0
(``overlay: 1.0.0``, ``info``, optional ``extends``, ``actions`` of ``target`` + ``update`` or
``remove: true``); targets are RFC 9535 JSONPath queries. ``update`` merges as the Overlay
specification describes (wording of 1.1, which made 1.0's merge precise): objects merge
recursively, arrays are concatenated (an update that is not an array is appended to a selected
array), primitives replace primitives, any other pairing is an error.

falgen is stricter than the specification in one place: an action whose target selects nothing
is an error, not a silent no-op, because after fal changes a document a fix that no longer
applies must be looked at, never dropped unnoticed.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import SpecError, SpecErrors
from .reading import read_inside
from .schema import json_pointer

OVERLAY_SUFFIXES = (".overlay.yaml", ".overlay.yml", ".overlay.json")
SPEC_SUFFIX = ".json"
MAX_OVERLAY_BYTES = 1024 * 1024
# JSON values an overlay file may hold (after YAML aliases are expanded): far more than any fix.
MAX_OVERLAY_NODES = 200_000
MAX_OVERLAY_DEPTH = 64


def is_overlay(path: Path) -> bool:
    return path.name.endswith(OVERLAY_SUFFIXES)


@dataclass(frozen=True)
class OverlayFile:
    """An overlay's bytes and the name errors give it (its path relative to the specs folder)."""

    source: str
    raw: bytes


@dataclass(frozen=True)
class Action:
    index: int
    target: str
    description: str
    update: Any
    remove: bool

    @property
    def pointer(self) -> str:
        return json_pointer(["actions", self.index])


@dataclass(frozen=True)
class Overlay:
    source: str
    title: str
    version: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Effect:
    """What one action did: the places it selected (RFC 9535 normalized paths)."""

    action: Action
    locations: tuple[str, ...]


@dataclass(frozen=True)
class Applied:
    document: dict[str, Any]
    overlay: Overlay
    effects: tuple[Effect, ...]

    @property
    def unmatched(self) -> tuple[Effect, ...]:
        return tuple(effect for effect in self.effects if not effect.locations)

    def unmatched_errors(self, spec: str) -> list[SpecError]:
        return [
            SpecError(
                self.overlay.source,
                f"{effect.action.pointer}/target",
                f"{effect.action.target} selects nothing in {spec}: "
                "update the overlay or remove the action",
            )
            for effect in self.unmatched
        ]


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def overlay_for(
    specs_dir: Path, spec: Path, listed: Container[Path] | None = None
) -> OverlayFile | None:
    """The overlay beside spec file ``spec``, if there is one; SpecErrors if it is unreadable.
    ``listed``: the folder's files, when a walk listed them already (no look-up for the others)."""
    stem = spec.name.removesuffix(SPEC_SUFFIX)
    found = [spec.with_name(stem + suffix) for suffix in OVERLAY_SUFFIXES]
    found = [path for path in found if (listed is None or path in listed) and path.is_file()]
    if not found:
        return None
    names = [path.relative_to(specs_dir).as_posix() for path in found]
    if len(found) > 1:
        raise SpecErrors(
            [SpecError(names[1], "#", f"{names[0]} is an overlay for the same spec: keep one")]
        )
    return OverlayFile(names[0], _read(specs_dir, found[0], names[0]))


def _read(specs_dir: Path, path: Path, source: str) -> bytes:
    try:
        raw = read_inside(specs_dir, path, MAX_OVERLAY_BYTES)
    except OSError as problem:
        raise SpecErrors(
            [SpecError(source, "#", f"cannot read file: {problem.strerror}")]
        ) from None
    if len(raw) > MAX_OVERLAY_BYTES:
        raise SpecErrors([SpecError(source, "#", f"larger than {MAX_OVERLAY_BYTES} bytes")])
    return raw


def orphans(specs_dir: Path, listed: Iterable[Path]) -> list[SpecError]:
    """Overlays with no spec beside them: reported, since they would otherwise do nothing.
    ``listed``: the folder's files, as a walk listed them (see ``loader.SpecFiles``)."""
    files = set(listed)
    errors = []
    for path in sorted(path for path in files if is_overlay(path)):
        if path.is_file():
            name = path.name
            stem = next(name.removesuffix(s) for s in OVERLAY_SUFFIXES if name.endswith(s))
            spec = path.with_name(stem + SPEC_SUFFIX)
            if spec not in files or not spec.is_file():
                source = path.relative_to(specs_dir).as_posix()
                errors.append(SpecError(source, "#", f"no spec {stem}{SPEC_SUFFIX} beside it"))
    return errors


def spec_digest(raw: bytes, overlay: OverlayFile | None) -> str:
    """The digest of what a spec loads as: its bytes, and its overlay's when it has one."""
    digest = hashlib.sha256(raw)
    if overlay is not None:
        digest.update(b"\0overlay\0" + overlay.raw)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_overlay(file: OverlayFile) -> Overlay:
    """The overlay in ``file``, checked; SpecErrors naming the file and JSON pointer if not."""
    value = _parse(file)
    errors: list[SpecError] = []

    def problem(path: list[str | int], message: str) -> None:
        errors.append(SpecError(file.source, json_pointer(path), message))

    if not isinstance(value, dict):
        raise SpecErrors([SpecError(file.source, "#", "an overlay must be an object")])
    version = value.get("overlay")
    if not (isinstance(version, str) and version.startswith("1.0.")):
        problem(["overlay"], "must be the Overlay Specification version '1.0.0'")
    info = value.get("info")
    if not isinstance(info, dict):
        problem(["info"], "must be an object with 'title' and 'version'")
        info = {}
    for key in ("title", "version"):
        if not isinstance(info.get(key), str):
            problem(["info", key], "must be a string")
    if "extends" in value and not isinstance(value["extends"], str):
        problem(["extends"], "must be a URL")
    actions = value.get("actions")
    if not isinstance(actions, list) or not actions:
        problem(["actions"], "must be a list of at least one action")
        actions = []
    for key in value:
        if key not in ("overlay", "info", "extends", "actions") and not key.startswith("x-"):
            problem([key], "unknown field")
    parsed = [
        action for index, item in enumerate(actions) if (action := _action(index, item, problem))
    ]
    if errors:
        raise SpecErrors(errors)
    return Overlay(file.source, str(info["title"]), str(info["version"]), tuple(parsed))


def _action(index: int, item: Any, problem: Any) -> Action | None:
    where: list[str | int] = ["actions", index]
    if not isinstance(item, dict):
        problem(where, "an action must be an object")
        return None
    target = item.get("target")
    if not isinstance(target, str) or not target.startswith("$"):
        problem([*where, "target"], "must be a JSONPath query starting with '$'")
        return None
    try:
        _compile(target)
    except ValueError as error:
        problem([*where, "target"], f"invalid JSONPath: {error}")
        return None
    remove = item.get("remove", False)
    if not isinstance(remove, bool):
        problem([*where, "remove"], "must be true or false")
        return None
    if not remove and "update" not in item:
        problem(where, "an action needs 'update' or 'remove: true'")
        return None
    description = item.get("description", "")
    for key in item:
        if key not in ("target", "description", "update", "remove") and not key.startswith("x-"):
            problem([*where, key], "unknown field")
    return Action(index, target, str(description), item.get("update"), remove)


def _parse(file: OverlayFile) -> Any:
    """JSON for ``.json``; YAML otherwise, limited to what JSON can say."""
    if file.source.endswith(".json"):
        from .loader import parse_json  # the loader applies overlays: import it when used

        return parse_json(file.source, file.raw)
    import yaml

    try:
        value = yaml.safe_load(file.raw)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or "not YAML"
        raise SpecErrors([SpecError(file.source, "#", f"invalid YAML{where}: {reason}")]) from None
    except RecursionError:
        raise SpecErrors([SpecError(file.source, "#", "nested too deeply")]) from None
    found = _not_json(value)
    if found is not None:
        path, message = found
        raise SpecErrors([SpecError(file.source, json_pointer(path), message)])
    return value


def _not_json(value: Any) -> tuple[list[str | int], str] | None:
    """Where a YAML value first holds something JSON cannot (dates, non-string keys...)."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    seen = 0
    while stack:
        node, path = stack.pop()
        seen += 1
        if seen > MAX_OVERLAY_NODES:
            return [], f"more than {MAX_OVERLAY_NODES} values (YAML aliases expand)"
        if len(path) > MAX_OVERLAY_DEPTH:
            return path, f"nested more than {MAX_OVERLAY_DEPTH} levels deep"
        if isinstance(node, dict):
            for key, item in node.items():
                if not isinstance(key, str):
                    return path, f"key {key!r} is not a string"
                stack.append((item, [*path, key]))
        elif isinstance(node, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            return path, "numbers must be finite"
        elif node is not None and not isinstance(node, str | int | float | bool):
            return path, f"a {type(node).__name__} is not a JSON value (quote it)"
    return None


def _compile(target: str) -> Any:
    import jsonpath_rfc9535

    try:
        return jsonpath_rfc9535.compile(target)
    except jsonpath_rfc9535.JSONPathError as error:
        raise ValueError(str(error)) from None


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def apply_overlay(document: dict[str, Any], overlay: Overlay) -> Applied:
    """A copy of ``document`` with the overlay's actions applied in order.

    Raises SpecErrors (pointing at the overlay's action) for an update that cannot merge or a
    removal of the whole document; unmatched targets are returned in :attr:`Applied.unmatched`.
    """
    result = copy.deepcopy(document)
    effects = []
    for action in overlay.actions:
        nodes = list(_compile(action.target).find(result))
        locations = tuple(node.path() for node in nodes)
        places = [tuple(node.location) for node in nodes]
        if action.remove:
            _remove(result, places, overlay, action)
        else:
            for place in places:
                _update(result, place, action, overlay)
        effects.append(Effect(action, locations))
    return Applied(result, overlay, tuple(effects))


def _error(overlay: Overlay, path: list[str | int], message: str) -> SpecErrors:
    return SpecErrors([SpecError(overlay.source, json_pointer(path), message)])


def _parent(document: Any, place: tuple[str | int, ...]) -> Any:
    node = document
    for step in place[:-1]:
        node = node[step]
    return node


def _remove(
    document: dict[str, Any], places: list[tuple[str | int, ...]], overlay: Overlay, action: Action
) -> None:
    if () in places:
        raise _error(overlay, ["actions", action.index, "target"], "cannot remove the document")
    # Later array positions first, so that earlier ones still mean what the query selected.
    for place in sorted(places, key=_removal_order, reverse=True):
        parent = _parent(document, place)
        if isinstance(parent, list):
            del parent[int(place[-1])]
        elif place[-1] in parent:
            del parent[str(place[-1])]


def _removal_order(place: tuple[str | int, ...]) -> tuple[Any, ...]:
    return tuple((1, step) if isinstance(step, int) else (0, step) for step in place)


def _update(
    document: dict[str, Any], place: tuple[str | int, ...], action: Action, overlay: Overlay
) -> None:
    where: list[str | int] = ["actions", action.index, "update"]
    update = action.update
    if place:
        parent = _parent(document, place)
        target = parent[place[-1]]
    else:
        parent, target = None, document
    if isinstance(target, dict):
        if not isinstance(update, dict):
            raise _error(overlay, where, "the target is an object: the update must be one too")
        _merge(target, update, overlay, where)
    elif isinstance(target, list):
        target.extend(
            copy.deepcopy(update) if isinstance(update, list) else [copy.deepcopy(update)]
        )
    elif isinstance(update, dict | list):
        raise _error(overlay, where, "the target is a single value: the update must be one too")
    else:
        parent[place[-1]] = update


def _merge(
    target: dict[str, Any], update: dict[str, Any], overlay: Overlay, where: list[str | int]
) -> None:
    for key, value in update.items():
        if key not in target:
            target[key] = copy.deepcopy(value)
            continue
        current = target[key]
        if isinstance(current, dict) and isinstance(value, dict):
            _merge(current, value, overlay, [*where, key])
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(copy.deepcopy(value))
        elif not isinstance(current, dict | list) and not isinstance(value, dict | list):
            target[key] = value
        else:
            raise _error(
                overlay, [*where, key], "cannot merge an object or array with another kind of value"
            )


def overlaid(spec: str, document: dict[str, Any], file: OverlayFile) -> dict[str, Any]:
    """What the loader uses: ``document`` with the overlay applied, every action matching."""
    applied = apply_overlay(document, parse_overlay(file))
    errors = applied.unmatched_errors(spec)
    if errors:
        raise SpecErrors(errors)
    return applied.document
