"""Validate JSON against a spec's components, and report failures the way fal does.

fal's documents are OpenAPI 3.0, whose schema dialect differs from JSON Schema in a few keywords
(``nullable``, boolean ``exclusiveMinimum``); they are rewritten here once so the standard
jsonschema validator can check inputs and our own synthesised outputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator

from generator.schema import SCHEMA_REF_PREFIX, ref_target

JSON = Any

# Keywords whose values are data, not schemas: never rewritten.
_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples", "example"})

# Realtime inputs arrive as msgpack and may carry raw bytes where JSON would carry a string.
_TYPE_CHECKER = Draft202012Validator.TYPE_CHECKER.redefine(
    "string", lambda _checker, instance: isinstance(instance, str | bytes)
)
_Validator = validators.extend(Draft202012Validator, type_checker=_TYPE_CHECKER)


def to_json_schema(node: JSON) -> JSON:
    """A copy of an OpenAPI 3.0 schema rewritten as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    schema = {
        key: value if key in _DATA_KEYWORDS else to_json_schema(value)
        for key, value in node.items()
    }
    for bound in ("Minimum", "Maximum"):
        exclusive = schema.get(f"exclusive{bound}")
        if isinstance(exclusive, bool):
            del schema[f"exclusive{bound}"]
            if exclusive and f"{bound.lower()}" in schema:
                schema[f"exclusive{bound}"] = schema.pop(bound.lower())
    if schema.pop("nullable", False) is True:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        else:
            schema = {"anyOf": [schema, {"type": "null"}]}
    return schema


class SchemaSet:
    """The components of one spec, converted, with a cached validator per component."""

    def __init__(self, components: Mapping[str, JSON]) -> None:
        self.components: dict[str, JSON] = {
            name: to_json_schema(schema) for name, schema in components.items()
        }
        self._validators: dict[str, Validator] = {}

    def resolve(self, node: JSON) -> JSON:
        """Follow ``$ref`` to the schema, and fold ``allOf`` into one (a lone one wraps a
        ``$ref``, as fal writes; several are merged: properties and ``required`` joined)."""
        seen = 0
        while isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (name := ref_target(ref)) in self.components:
                node = {**self.components[name], **{k: v for k, v in node.items() if k != "$ref"}}
            elif isinstance(node.get("allOf"), list) and node["allOf"]:
                rest = {k: v for k, v in node.items() if k != "allOf"}
                node = self._merged([*node["allOf"], rest])
            else:
                return node
            seen += 1
            if seen > 64:  # the loader rejects cycles; this only guards against surprises
                raise ValueError("schema references nest too deeply")
        return node

    def _merged(self, members: list[JSON]) -> JSON:
        """One schema that the members of an ``allOf`` all describe (later keys win)."""
        merged: dict[str, JSON] = {}
        properties: dict[str, JSON] = {}
        required: list[str] = []
        for member in members:
            schema = self.resolve(member)
            if not isinstance(schema, dict):
                continue
            properties |= schema.get("properties", {})
            required += [name for name in schema.get("required", []) if name not in required]
            merged |= schema
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    def validator(self, component: str) -> Validator:
        if component not in self._validators:
            root = {
                "$ref": SCHEMA_REF_PREFIX + component,
                "components": {"schemas": self.components},
            }
            self._validators[component] = _Validator(root)
        return self._validators[component]

    def subschema_validator(self, node: JSON) -> Validator:
        """A validator for an inline schema that may refer to this set's components."""
        return _Validator({**node, "components": {"schemas": self.components}})

    def errors(self, component: str, instance: JSON) -> list[dict[str, JSON]]:
        """fal/FastAPI-style 422 ``detail`` items for ``instance``; empty when it is valid."""
        found = self.validator(component).iter_errors(instance)
        ordered = sorted(found, key=lambda error: [str(part) for part in error.absolute_path])
        return [item for error in ordered for item in _detail_items(error)]


# jsonschema keyword -> (pydantic-v2 error type, message template, ctx key); fal's apps are
# FastAPI/pydantic services, so clients see these types.
_ERROR_TYPES: dict[str, tuple[str, str, str | None]] = {
    "minimum": ("greater_than_equal", "Input should be greater than or equal to {0}", "ge"),
    "maximum": ("less_than_equal", "Input should be less than or equal to {0}", "le"),
    "exclusiveMinimum": ("greater_than", "Input should be greater than {0}", "gt"),
    "exclusiveMaximum": ("less_than", "Input should be less than {0}", "lt"),
    "minLength": ("string_too_short", "String should have at least {0} characters", "min_length"),
    "maxLength": ("string_too_long", "String should have at most {0} characters", "max_length"),
    "minItems": ("too_short", "List should have at least {0} items", "min_length"),
    "maxItems": ("too_long", "List should have at most {0} items", "max_length"),
    "pattern": ("string_pattern_mismatch", "String should match pattern '{0}'", "pattern"),
    "multipleOf": ("multiple_of", "Input should be a multiple of {0}", "multiple_of"),
}
_TYPE_NAMES = {
    "string": ("string_type", "a valid string"),
    "integer": ("int_type", "a valid integer"),
    "number": ("float_type", "a valid number"),
    "boolean": ("bool_type", "a valid boolean"),
    "array": ("list_type", "a valid list"),
    "object": ("dict_type", "a valid dictionary"),
    "null": ("none_required", "None"),
}
ERROR_DOCS_URL = "https://docs.fal.ai/errors#"


def detail_item(
    loc: list[str | int], msg: str, error_type: str, value: JSON, ctx: dict[str, JSON] | None = None
) -> dict[str, JSON]:
    item: dict[str, JSON] = {
        "loc": loc,
        "msg": msg,
        "type": error_type,
        "url": ERROR_DOCS_URL + error_type,
        "input": value if not isinstance(value, bytes) else f"<{len(value)} bytes>",
    }
    if ctx:
        item["ctx"] = ctx
    return item


def _detail_items(error: ValidationError) -> Iterator[dict[str, JSON]]:
    loc: list[str | int] = ["body", *error.absolute_path]
    keyword = str(error.validator)
    if keyword == "required":
        present = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name not in present and repr(name) in error.message:
                yield detail_item([*loc, name], "Field required", "missing", present)
        return
    if keyword == "type":
        expected = error.validator_value
        first = expected[0] if isinstance(expected, list) else expected
        error_type, noun = _TYPE_NAMES.get(first, ("type_error", f"of type {first}"))
        yield detail_item(loc, f"Input should be {noun}", error_type, error.instance)
        return
    if keyword == "enum":
        options = ", ".join(repr(option) for option in error.validator_value)
        yield detail_item(
            loc, f"Input should be {options}", "enum", error.instance, {"expected": options}
        )
        return
    if keyword in _ERROR_TYPES:
        error_type, template, ctx_key = _ERROR_TYPES[keyword]
        ctx = {ctx_key: error.validator_value} if ctx_key else None
        yield detail_item(
            loc, template.format(error.validator_value), error_type, error.instance, ctx
        )
        return
    if keyword in ("anyOf", "oneOf") and error.context:
        # One item for the alternative that got furthest (deepest, and past the type check),
        # rather than one per union member.
        closest = max(
            error.context, key=lambda sub: (len(sub.absolute_path), sub.validator != "type")
        )
        yield from _detail_items(closest)
        return
    yield detail_item(loc, error.message, "value_error", error.instance)
