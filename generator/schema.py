"""The schema dialect of fal's documents, in one place: local ``$ref`` strings, JSON pointers,
which keywords hold data or names rather than schemas, and the single-schema ``allOf`` wrapper.

The loader, the builder, ``falgen diff`` and the spec-file helpers all read schemas; they share
these rules instead of spelling them out each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

SCHEMA_REF_PREFIX = "#/components/schemas/"

# Keywords whose values are data, not schemas: a "$ref" inside them is no reference.
VALUE_KEYWORDS = frozenset({"default", "enum", "const", "example", "examples"})
# Keywords whose values map names to schemas; a name may be spelled like a keyword ("default").
NAMED_SCHEMAS = frozenset({"properties", "schemas"})


def escape_token(part: str | int) -> str:
    """One JSON pointer step, escaped as RFC 6901 says (``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return str(part).replace("~", "~0").replace("/", "~1")


def unescape_token(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def json_pointer(parts: Sequence[str | int]) -> str:
    """Render path parts as an RFC 6901 fragment pointer, e.g. ``#/components/schemas/Image``."""
    if not parts:
        return "#"
    return "#/" + "/".join(escape_token(part) for part in parts)


def schema_ref(name: str) -> str:
    """The local reference to component ``name``: ``#/components/schemas/<name>``."""
    return SCHEMA_REF_PREFIX + escape_token(name)


def ref_target(ref: str) -> str | None:
    """The component name a local schema reference points at, or None for other references."""
    if not ref.startswith(SCHEMA_REF_PREFIX):
        return None
    name = ref[len(SCHEMA_REF_PREFIX) :]
    if not name or "/" in name:
        return None
    return unescape_token(name)


def single_all_of(node: dict[str, Any]) -> Any | None:
    """The one schema of an ``allOf: [X]`` wrapper (how fal attaches a description or default to
    a shared type), or None when ``node`` is no such wrapper."""
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        return all_of[0]
    return None


def iter_nodes(
    node: Any, path: list[str | int]
) -> Iterator[tuple[list[str | int], dict[str, Any]]]:
    """Every object in ``node`` with its path, depth first, leaving out values (``default``,
    ``enum``, ``examples``...), whatever they hold: the nodes a schema rule may apply to. In a
    map of names (``properties``...) every entry is a schema, whatever its name."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in NAMED_SCHEMAS and isinstance(value, dict):
                for name, schema in value.items():
                    yield from iter_nodes(schema, [*path, key, name])
            elif key not in VALUE_KEYWORDS:
                yield from iter_nodes(value, [*path, key])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_nodes(value, [*path, index])


def iter_refs(node: Any, path: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """Every ``$ref`` string in ``node`` with the path where it occurs."""
    for where, found in iter_nodes(node, path):
        ref = found.get("$ref")
        if isinstance(ref, str):
            yield [*where, "$ref"], ref


# ``info[CATALOG_KEY]``: the endpoint's entry in fal's model catalogue (Platform API
# ``metadata``: display_name, category, description, status, tags...), as falgen fetch keeps it.
CATALOG_KEY = "x-fal-catalog"
# ``info[UNPUBLISHED_KEY]: true``: fal publishes the endpoint no longer (its catalogue does not
# list it, its document URL answers 404) and the spec is the last one known. Ours, not fal's: a
# document fetched from fal drops it (see generator.specfile).
UNPUBLISHED_KEY = "x-falgen-unpublished"


def unpublished(info: Mapping[str, Any]) -> bool:
    """Whether a document's ``info`` says fal publishes the endpoint no longer."""
    return info.get(UNPUBLISHED_KEY) is True


def deprecation(info: Mapping[str, Any]) -> str:
    """Why the endpoint of a document's ``info`` is deprecated, "" when it is not: the one rule
    for the generated warnings and docs and for the diff."""
    if unpublished(info):
        return "fal no longer publishes it"
    catalog = info.get(CATALOG_KEY)
    if isinstance(catalog, Mapping) and catalog.get("status") == "deprecated":
        return "fal lists it as deprecated"
    return ""
