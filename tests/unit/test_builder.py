"""generator.builder: the schema rules (one per test), the examples and defaults checks, and
what reaches the models' code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from generator.builder import UNTYPED_OUTPUT, build_package, prepare
from generator.ir import (
    MISSING,
    AnyType,
    DictType,
    Endpoint,
    LiteralType,
    ModelRef,
    NoneType,
    Package,
    Primitive,
    TupleType,
    UnionType,
)
from generator.loader import read_spec
from tests.helpers import make_spec

INT = Primitive("int")


def package_of(properties: dict[str, Any], **schemas: Any) -> Package:
    document = make_spec("fal-ai/demo", properties, schemas=schemas or None)
    return build_package([read_spec("fal-ai/demo.json", json.dumps(document).encode())])


def build(properties: dict[str, Any], **schemas: Any) -> Endpoint:
    (endpoint,) = package_of(properties, **schemas).endpoints
    return endpoint


def field_of(endpoint: Endpoint, name: str) -> Any:
    return next(field for field in endpoint.input.fields if field.name == name)


def input_schema(endpoint: Endpoint, name: str) -> Any:
    return endpoint.input.schema["properties"][name]


def test_a_nullable_constrained_scalar_is_one_annotated_field() -> None:
    endpoint = build(
        {
            "n": {
                "anyOf": [{"type": "integer", "minimum": 1, "maximum": 8}, {"type": "null"}],
                "default": 4,
            },
            "m": {"type": "integer", "nullable": True, "maximum": 3},
        }
    )
    assert field_of(endpoint, "n").type == UnionType((INT, NoneType()))
    assert field_of(endpoint, "n").constraints.describe() == "1 <= value <= 8"
    assert input_schema(endpoint, "n") == {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 8,
        "default": 4,
    }
    assert input_schema(endpoint, "m") == {"type": ["integer", "null"], "maximum": 3}


def test_constraints_inside_a_union_of_types_are_not_enforced() -> None:
    scale = {"anyOf": [{"type": "object"}, {"type": "number", "maximum": 4}], "default": 1}
    endpoint = build({"scale": scale})
    assert input_schema(endpoint, "scale")["anyOf"] == [{"type": "object"}, {"type": "number"}]
    assert endpoint.input.fields[0].type == UnionType((DictType(AnyType()), Primitive("float")))


def test_a_default_the_schema_rejects_is_admitted() -> None:
    package = package_of(
        {
            "frames": {"type": "string", "enum": ["129", "85"], "default": 129},
            "audio": {"allOf": [{"$ref": "#/components/schemas/File"}], "default": "https://x/a"},
        },
        File={"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]},
    )
    endpoint = package.endpoints[0]
    frames, audio = field_of(endpoint, "frames"), field_of(endpoint, "audio")
    assert frames.type == LiteralType(("129", "85", 129)) and frames.default == 129
    assert audio.type == UnionType((ModelRef("File", shared=False), LiteralType(("https://x/a",))))
    assert [problem.message for problem in package.problems] == [
        'default "https://x/a" does not match the schema; the field also accepts it',
        "default 129 does not match the schema; the field also accepts it",
    ]


def test_examples_that_contradict_their_schema_are_not_used() -> None:
    endpoint = build(
        {
            "prompt": {"type": "string", "examples": ["a lighthouse"]},
            "count": {"type": "integer", "examples": ["two"]},
            "size": {
                "$ref": "#/components/schemas/Size",
                "examples": [{"width": 1, "height": 2}],  # height: not a field of Size
            },
        },
        Size={"type": "object", "properties": {"width": {"type": "integer"}}},
    )
    assert endpoint.example_input == {"prompt": "a lighthouse"}
    assert endpoint.example_complete  # nothing is required


def test_an_incomplete_example_is_flagged() -> None:
    document = make_spec(
        "fal-ai/demo",
        {"prompt": {"type": "string"}, "seed": {"type": "integer", "examples": [1]}},
        required=["prompt"],
    )
    spec = read_spec("fal-ai/demo.json", json.dumps(document).encode())
    (endpoint,) = build_package([spec]).endpoints
    assert endpoint.example_input == {"seed": 1} and not endpoint.example_complete


def test_what_the_models_cannot_express_is_untyped_with_a_problem() -> None:
    document = make_spec(
        "fal-ai/demo",
        {
            "mixed": {"allOf": [{"type": "integer"}, {"minimum": 1}]},
            "odd": {"enum": [{"a": 1}]},
        },
        required=["ghost"],
    )
    spec = read_spec("fal-ai/demo.json", json.dumps(document).encode())
    package = build_package([spec])
    assert [field.type for field in package.endpoints[0].input.fields] == [AnyType(), AnyType()]
    assert [problem.message for problem in package.problems] == [  # by pointer
        "'allOf' of several schemas; typed as Any",
        "enum values that are objects or arrays; typed as Any",
        "required properties ['ghost'] are not defined in 'properties'; ignored",
    ]


def test_tuples_const_and_type_lists_are_typed() -> None:
    endpoint = build(
        {
            "t": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]},
            "c": {"type": "string", "const": "3"},
            "u": {"type": ["integer", "string"]},
        }
    )
    types = [field.type for field in endpoint.input.fields]
    assert types == [
        TupleType((Primitive("float"), Primitive("str"))),
        LiteralType(("3",)),
        UnionType((INT, Primitive("str"))),
    ]
    assert types[0].annotation() == "tuple[float, str]"


def test_the_models_code_gets_only_what_it_needs() -> None:
    endpoint = build(
        {
            "image_size": {
                "title": "Image Size",
                "type": "string",
                "format": "uri",
                "examples": ["x"],
            },
            "seed": {"title": "The seed to use", "type": "integer", "deprecated": True},
        }
    )
    assert input_schema(endpoint, "image_size") == {"type": "string"}
    assert input_schema(endpoint, "seed") == {"title": "The seed to use", "type": "integer"}
    assert field_of(endpoint, "seed").deprecated and field_of(endpoint, "seed").default is MISSING
    # outputs keep the fields a reply has beyond the schema, inputs do not
    assert endpoint.output.schema["additionalProperties"] is True
    assert "additionalProperties" not in endpoint.input.schema


def test_an_inline_object_is_named_by_its_title_else_by_where_it_is_used() -> None:
    inline = {"type": "object", "properties": {"x": {"type": "integer"}}}
    endpoint = build(
        {
            "first": {**inline, "title": "Point"},
            "second": {**inline, "title": "Point", "description": "another"},
            "third": inline,
        }
    )
    names = {model.class_name for model in endpoint.models}
    assert names == {"DemoInput", "DemoOutput", "Point", "DemoInputSecondPoint", "DemoInputThird"}


def test_a_title_without_words_on_a_property_without_words() -> None:
    """Found by the hypothesis run: the title check failed on names with no letters."""
    endpoint = build({":": {"type": "string", "title": "?"}})
    assert endpoint.input.fields[0].name == ":"


def test_an_untyped_output_has_no_fields() -> None:
    document = make_spec("fal-ai/demo", {"prompt": {"type": "string"}})
    document["components"]["schemas"]["DemoOutput"] = {}
    spec = read_spec("fal-ai/demo.json", json.dumps(document).encode())
    doc = prepare(spec)
    (endpoint,) = build_package([spec]).endpoints
    assert endpoint.output.untyped and endpoint.output.fields == ()
    assert endpoint.output.schema["description"] == UNTYPED_OUTPUT  # the class's docstring
    assert endpoint.output.schema["additionalProperties"] is True
    assert doc.spec.untyped_output


def test_an_invalid_pattern_is_ignored() -> None:
    package = package_of({"code": {"type": "string", "pattern": "([a-z"}})
    assert "pattern" not in input_schema(package.endpoints[0], "code")
    assert [problem.message for problem in package.problems] == [
        "the pattern is not a valid regular expression; ignored"
    ]


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ({}, ""),
        ({"x-fal-catalog": {"status": "active"}}, ""),
        ({"x-fal-catalog": {"status": "deprecated"}}, "fal lists it as deprecated"),
        ({"x-falgen-unpublished": True}, "fal no longer publishes it"),
        ({"x-falgen-unpublished": False}, ""),
    ],
)
def test_an_endpoint_is_deprecated_for_the_reason_its_document_gives(
    info: dict[str, Any], reason: str
) -> None:
    document = make_spec("fal-ai/demo", {"prompt": {"type": "string"}})
    document["info"].update(info)
    spec = read_spec("fal-ai/demo.json", json.dumps(document).encode())
    (endpoint,) = build_package([spec]).endpoints
    assert (endpoint.deprecation, endpoint.deprecated) == (reason, bool(reason))
