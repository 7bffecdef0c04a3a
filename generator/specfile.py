"""Where spec files live and how they are written, shared by ``falgen fetch`` and ``falgen diff``.

Three rules keep the ``specs/`` folder reviewable:

* every spec is written in one canonical form (:func:`normalise`), so a refresh that changes
  nothing leaves the file byte-for-byte identical and a real change shows up as a small diff;
* an endpoint id maps to exactly one file inside the specs folder (:func:`spec_path`), and an id
  that could escape the folder is refused before any file is touched;
* our own ``x-falgen-*`` annotations survive a refresh from fal (:func:`carry_over_extensions`),
  because fal never sends them and losing them silently would lose reviewed knowledge.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .loader import ENDPOINT_ID_PATTERN
from .schema import VALUE_KEYWORDS, json_pointer, ref_target

# Vendor extensions that belong to falgen, not to fal: see carry_over_extensions. Not
# ``x-falgen-unpublished``: a document fal sends is published.
INFO_EXTENSIONS = ("x-falgen-capabilities", "x-falgen-summary")
NOTE_KEY = "x-falgen-note"

# Keys whose values are maps from names (property names, component names, paths, media types...)
# to nodes: inside them, a key such as "default" or "enum" is a name, not a keyword.
_NAME_MAPS = frozenset(
    {"properties", "schemas", "paths", "responses", "content", "securitySchemes", "$defs"}
)

PathPart = str | int


class InvalidEndpointId(ValueError):
    """An endpoint id that is not ``owner/alias[/path...]`` made of safe segments."""


def normalise(document: dict[str, Any]) -> str:
    """The canonical text of a spec: sorted keys, two-space indent, UTF-8 kept, final newline.

    This is the form the hand-written specs use (see notes/spec-format.md), so fetched documents
    and hand-written ones diff cleanly against each other.
    """
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def validate_endpoint_id(endpoint_id: str) -> str:
    """Return ``endpoint_id`` unchanged, or raise :class:`InvalidEndpointId` saying why not.

    The loader's pattern already forbids empty segments and segments starting with ``.``;
    the explicit checks below keep that guarantee even if the pattern is ever loosened, because
    this id becomes a file path.
    """
    if not ENDPOINT_ID_PATTERN.fullmatch(endpoint_id):
        raise InvalidEndpointId(
            f"invalid endpoint id {endpoint_id!r}: expected owner/alias[/path...] "
            "with letters, digits, '.', '_' and '-'"
        )
    segments = endpoint_id.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or "\\" in endpoint_id:
        raise InvalidEndpointId(f"invalid endpoint id {endpoint_id!r}: unsafe path segment")
    return endpoint_id


def spec_path(specs_dir: Path, endpoint_id: str) -> Path:
    """The file that holds ``endpoint_id``'s spec: ``specs_dir/<owner>/<alias>/....json``."""
    segments = validate_endpoint_id(endpoint_id).split("/")
    path = specs_dir.joinpath(*segments[:-1], segments[-1] + ".json")
    # Defence in depth: the id was validated, but the result must stay inside the folder.
    if not path.is_relative_to(specs_dir):
        raise InvalidEndpointId(f"invalid endpoint id {endpoint_id!r}: leaves the specs folder")
    return path


def endpoint_id_for(specs_dir: Path, path: Path) -> str:
    """The endpoint id a spec file under ``specs_dir`` stands for (the inverse of spec_path)."""
    return path.relative_to(specs_dir).as_posix().removesuffix(".json")


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that readers see the old file or the new one, never half.

    The temporary file lives in the same folder (``os.replace`` is only atomic within one file
    system) and is named ``.<name>.*.tmp`` so spec discovery (``*.json``) never picks it up.
    The existing file's permissions are kept; a new file gets 0644 rather than the 0600 of
    temporary files.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass
class CarryOver:
    """What :func:`carry_over_extensions` kept and what it could not place.

    Pointers are JSON pointers into the *old* document for ``dropped`` and into the *new* one
    for ``kept``, so a caller can tell the user exactly which note needs re-adding by hand.
    """

    document: dict[str, Any]
    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def carry_over_extensions(old: dict[str, Any], new: dict[str, Any]) -> CarryOver:
    """Copy falgen's own annotations from the spec we had (``old``) into a fresh fal document.

    Which keys are ours: ``info["x-falgen-capabilities"]``, ``info["x-falgen-summary"]`` and
    every ``x-falgen-note``, wherever it is. fal never sends them, so a document downloaded from
    fal would otherwise drop them on each refresh.

    Rules, chosen so that nothing is silently lost and nothing is attached to the wrong thing:

    * ``new`` is not modified; the result is a deep copy.
    * A key ``new`` already has is never overwritten: if fal (or a later edit) provides a value,
      that value is the fresher one.
    * The info extensions are copied whenever ``new`` has an ``info`` object.
    * A note is re-attached to the node at the *same place*: same component and property names.
      The endpoint's Input and Output components are matched by role (the queue paths' request
      body and result) rather than by name, because fal renames them (``TextToImageInput`` vs
      ``Flux1SchnellInput``) without changing what they are. Every other component is matched
      by name.
    * A note that sits below a list (inside ``anyOf``/``allOf`` items, ``parameters``...) is
      only re-attached when that list has the same length in both documents, since a position
      in a list of a different length may now be a different thing.
    * Notes inside data (``default``, ``enum``, ``examples``...) are data, not annotations, and
      are neither searched nor copied.
    * A note whose place no longer exists (the field was removed or renamed) is reported in
      :attr:`CarryOver.dropped` instead of being guessed onto something else.
    """
    result = CarryOver(document=copy.deepcopy(new))
    _carry_info(old, result)
    renames = _role_renames(old, new)
    for path, note in _notes(old, []):
        target = _translate(path, renames)
        node = _node_at(result.document, target, old, path)
        if node is None:
            result.dropped.append(json_pointer(path))
        elif NOTE_KEY not in node:
            node[NOTE_KEY] = copy.deepcopy(note)
            result.kept.append(json_pointer(target))
    return result


def _carry_info(old: dict[str, Any], result: CarryOver) -> None:
    old_info, new_info = old.get("info"), result.document.get("info")
    if not isinstance(old_info, dict):
        return
    for key in INFO_EXTENSIONS:
        if key not in old_info:
            continue
        if not isinstance(new_info, dict):
            result.dropped.append(json_pointer(["info", key]))
        elif key not in new_info:
            new_info[key] = copy.deepcopy(old_info[key])
            result.kept.append(json_pointer(["info", key]))


def _notes(
    node: Any, path: list[PathPart], *, names: bool = False
) -> Iterator[tuple[list[PathPart], Any]]:
    """Every ``x-falgen-note`` in ``node`` with the path of the object that holds it.

    ``names`` is true when ``node`` is a map from names to nodes (see ``_NAME_MAPS``).
    """
    if isinstance(node, dict):
        if not names and NOTE_KEY in node:
            yield path, node[NOTE_KEY]
        for key, value in node.items():
            if not names and (key == NOTE_KEY or key in VALUE_KEYWORDS):
                continue
            yield from _notes(value, [*path, key], names=not names and key in _NAME_MAPS)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _notes(value, [*path, index])


def _role_renames(old: dict[str, Any], new: dict[str, Any]) -> dict[str, str]:
    """Old component name -> new component name for the Input and Output components."""
    renames: dict[str, str] = {}
    for role in ("input", "output"):
        before, after = queue_component(old, role), queue_component(new, role)
        if before and after and before != after:
            renames[before] = after
    return renames


def _translate(path: list[PathPart], renames: dict[str, str]) -> list[PathPart]:
    if len(path) >= 3 and path[:2] == ["components", "schemas"] and path[2] in renames:
        return ["components", "schemas", renames[str(path[2])], *path[3:]]
    return path


def _node_at(
    document: dict[str, Any], path: list[PathPart], old: dict[str, Any], old_path: list[PathPart]
) -> dict[str, Any] | None:
    """The object at ``path`` in ``document`` if it exists and lists on the way match ``old``."""
    node: Any = document
    old_node: Any = old
    for step, old_step in zip(path, old_path, strict=True):
        if isinstance(step, int):
            if not (isinstance(node, list) and isinstance(old_node, list)):
                return None
            if len(node) != len(old_node) or step >= len(node):
                return None
        elif not (isinstance(node, dict) and step in node):
            return None
        node = node[step]
        old_node = old_node[old_step]
    return node if isinstance(node, dict) else None


def queue_component(document: dict[str, Any], role: str) -> str | None:
    """The component name of the endpoint's Input (``role="input"``) or Output (``"output"``).

    Found through the queue paths like the loader does, but tolerant: returns None for a
    document that does not have the expected shape instead of raising, because callers use it
    on documents that may not have been validated.
    """
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return None
    for path, item in paths.items():
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        if role == "input" and "{" not in path:
            keys = ["post", "requestBody", "content", "application/json", "schema", "$ref"]
        elif role == "output" and path.endswith("/requests/{request_id}"):
            keys = ["get", "responses", "200", "content", "application/json", "schema", "$ref"]
        else:
            continue
        ref = _dig(item, keys)
        name = ref_target(ref) if isinstance(ref, str) else None
        if name is not None:
            return name
    return None


def _dig(node: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node
