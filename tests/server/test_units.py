"""The server's building blocks on their own: schemas, synthesis, images, catalog, faults."""

from __future__ import annotations

import random
from typing import Any

import pytest

from generator.loader import SpecDocument
from generator.server import Faults, ServerConfig, input_digest
from generator.server.catalog import Catalog, app_id_of
from generator.server.faults import FaultInjector
from generator.server.files import FileStore
from generator.server.images import png_size, requested_size, solid_png
from generator.server.schemas import SchemaSet, to_json_schema
from generator.server.synthetic_outputs import OutputRequest, Synthesizer
from tests.server.support import build_spec, output_validator

FILE = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "content_type": {"type": "string"},
        "file_size": {"type": "integer"},
        "file_data": {"type": "string", "format": "binary"},
    },
    "required": ["url"],
}


def synthesize(spec_output: dict[str, Any], model_input: dict[str, Any] | None = None) -> Any:
    spec = build_spec("owner/app", {}, spec_output, schemas={"File": FILE})
    endpoint = next(iter(Catalog([spec])))
    request = OutputRequest(model_input or {}, random.Random(0), "http://cdn", 0.25)
    output = Synthesizer(endpoint, FileStore()).output(request)
    output_validator(spec).validate(output)
    return output


def test_synthesis_respects_examples_bounds_enums_unions_and_arrays() -> None:
    output = synthesize(
        {
            "label": {"type": "string", "examples": ["a cat"]},
            "bad_example": {"type": "integer", "minimum": 5, "examples": [1]},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            "steps": {"type": "integer", "exclusiveMinimum": 0},
            "kind": {"type": "string", "enum": ["fast", "slow"]},
            "maybe": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 8}]},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            "timings": {"type": "object", "additionalProperties": {"type": "number"}},
            "video": {"allOf": [{"$ref": "#/components/schemas/File"}], "examples": [{"url": ""}]},
        }
    )

    assert output["label"] == "a cat"
    assert output["bad_example"] >= 5
    assert 0 < output["ratio"] <= 1
    assert output["steps"] >= 1
    assert output["kind"] == "fast"
    assert len(output["maybe"]) >= 8
    assert len(output["tags"]) == 2
    assert output["timings"] == {"inference": 0.25}
    assert output["video"]["url"].startswith("http://cdn/files/")
    assert output["video"]["content_type"] == "video/mp4"  # by the property name
    assert "file_data" not in output["video"]  # optional and binary: left out


def test_echoed_fields_are_used_only_when_they_fit_the_schema() -> None:
    output = synthesize(
        {"prompt": {"type": "string"}, "seed": {"type": "integer", "maximum": 10}},
        {"prompt": 123, "seed": 5},
    )

    assert isinstance(output["prompt"], str)
    assert output["seed"] == 5


def test_openapi_keywords_are_rewritten_as_json_schema() -> None:
    converted = to_json_schema(
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer", "nullable": True, "minimum": 0, "exclusiveMinimum": True},
                "b": {"enum": ["x"], "type": "string", "nullable": True, "default": "x"},
                "c": {"$ref": "#/components/schemas/C", "nullable": True},
            },
        }
    )

    a, b, c = (converted["properties"][name] for name in "abc")
    assert a == {"type": ["integer", "null"], "exclusiveMinimum": 0}
    assert b["enum"] == ["x", None] and b["type"] == ["string", "null"]
    assert c == {"anyOf": [{"$ref": "#/components/schemas/C"}, {"type": "null"}]}


def test_validation_errors_read_like_fastapi() -> None:
    schemas = SchemaSet(
        {
            "In": {
                "type": "object",
                "required": ["prompt"],
                "properties": {
                    "prompt": {"type": "string"},
                    "steps": {"type": "integer", "minimum": 1, "maximum": 50},
                    "size": {"anyOf": [{"$ref": "#/components/schemas/Size"}, {"enum": ["sq"]}]},
                },
            },
            "Size": {"type": "object", "properties": {"width": {"type": "integer"}}},
        }
    )

    errors = schemas.errors("In", {"steps": 99, "size": {"width": "x"}})

    by_loc = {tuple(item["loc"]): item for item in errors}
    assert by_loc[("body", "prompt")]["type"] == "missing"
    assert by_loc[("body", "steps")]["ctx"] == {"le": 50}
    assert by_loc[("body", "size", "width")]["type"] == "int_type"
    assert all(item["url"].endswith(item["type"]) for item in errors)


def test_png_encoding_and_sizes() -> None:
    assert png_size(solid_png(3, 2, (1, 2, 3))) == (3, 2)
    assert requested_size({"image_size": "landscape_16_9"}) == (1024, 576)
    assert requested_size({"image_size": {"width": 640, "height": 480}}) == (640, 480)
    assert requested_size({"aspect_ratio": "9:16"}) == (576, 1024)
    assert requested_size({"aspect_ratio": "weird"}) == (1024, 1024)
    with pytest.raises(ValueError):
        solid_png(0, 10, (0, 0, 0))


def test_app_ids_follow_fal_namespaces() -> None:
    assert app_id_of("fal-ai/flux-1/schnell") == "fal-ai/flux-1"
    assert app_id_of("fal-ai/stable-cascade") == "fal-ai/stable-cascade"
    assert app_id_of("workflows/owner/flow/extra") == "workflows/owner/flow"
    assert app_id_of("comfy/owner/graph") == "comfy/owner/graph"


def test_input_digest_ignores_key_order() -> None:
    assert input_digest({"a": 1, "b": [1, 2]}) == input_digest({"b": [1, 2], "a": 1})
    assert input_digest({"a": 1}) != input_digest({"a": 2})


def test_fault_sequences_are_reproducible_per_seed_and_route() -> None:
    faults = Faults(error_rate=0.3, rate_limit_rate=0.2, drop_rate=0.1, slow_rate=0.5)

    def sequence(seed: int) -> list[tuple[str | None, bool]]:
        injector = FaultInjector(faults, seed)
        injector.decide("result")  # traffic on another route does not shift the sequence
        return [(d.failure, d.slow) for d in (injector.decide("status") for _ in range(200))]

    first = sequence(1)
    assert first == sequence(1) != sequence(2)
    failures = [failure for failure, _ in first]
    assert 40 <= failures.count("error") <= 80
    assert 20 <= failures.count("rate_limit") <= 60
    assert 5 <= failures.count("drop") <= 40


def test_fault_limit_and_routes() -> None:
    injector = FaultInjector(Faults(error_rate=1.0, limit=2, routes=frozenset({"submit"})), 0)

    decisions = [injector.decide("submit").failure for _ in range(4)]

    assert decisions == ["error", "error", None, None]
    assert injector.decide("status").failure is None
    assert injector.injected == {"error": 2}


@pytest.mark.parametrize(
    "options",
    [
        {"error_rate": 1.5},
        {"error_rate": 0.6, "drop_rate": 0.6},
        {"error_status": 404},
        {"routes": frozenset({"nowhere"})},
    ],
)
def test_invalid_fault_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Faults(**options)


@pytest.mark.parametrize(
    "options",
    [{"runners": 0}, {"public_url": "localhost:1"}, {"accepted_keys": frozenset({""})}],
)
def test_invalid_server_settings_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ServerConfig(**options)


def unloaded_endpoint(
    output: Any, components: dict[str, Any] | None = None, category: str = ""
) -> Any:
    """An endpoint whose Output is ``output``, built without the loader: JSON Schema forms in
    fal's documents that the loader does not take yet (tuples) must not break the server."""
    document = {
        "openapi": "3.0.4",
        "info": {"title": "t", "x-fal-metadata": {"endpointId": "owner/app", "category": category}},
        "paths": {},
        "components": {"schemas": {"In": {"type": "object"}, "Out": output, **(components or {})}},
    }
    spec = SpecDocument("owner/app.json", "owner/app", document, "In", "Out", "0" * 64)
    return next(iter(Catalog([spec])))


def synthesized(endpoint: Any, model_input: dict[str, Any] | None = None) -> Any:
    request = OutputRequest(model_input or {}, random.Random(0), "http://cdn", 0.25)
    output = Synthesizer(endpoint, FileStore()).output(request)
    assert endpoint.output_errors(output) == []
    return output


def test_every_schema_form_gets_a_valid_value() -> None:
    endpoint = unloaded_endpoint(
        {
            "type": "object",
            "required": ["pair", "fixed", "anything", "either", "both", "step", "text", "nested"],
            "properties": {
                "pair": {
                    "type": "array",
                    "prefixItems": [{"type": "number"}, {"type": "string", "minLength": 9}],
                },
                "fixed": {"const": "v1"},
                "anything": {},
                "either": {"type": ["null", "integer"], "minimum": 3},
                "both": {
                    "allOf": [
                        {"type": "object", "properties": {"a": {"type": "integer"}}},
                        {"properties": {"b": {"type": "string"}}, "required": ["a", "b"]},
                    ]
                },
                "step": {"type": "integer", "minimum": 10, "maximum": 30, "multipleOf": 8},
                "text": {"type": "string", "maxLength": 3},
                "nested": {
                    "type": "object",
                    "required": ["deeper"],
                    "properties": {"deeper": {"type": "array", "items": {"type": "boolean"}}},
                },
            },
        }
    )

    output = synthesized(endpoint)

    assert isinstance(output["pair"][0], float) and len(output["pair"][1]) >= 9
    assert output["fixed"] == "v1"
    assert output["either"] == 3
    assert set(output["both"]) == {"a", "b"}
    assert output["step"] in (16, 24)
    assert output["nested"] == {"deeper": [False]}


def test_an_untyped_output_is_an_empty_object() -> None:
    assert synthesized(unloaded_endpoint({})) == {}


FILE_OBJECT = {
    "type": "object",
    "properties": {"url": {"type": "string"}, "content_type": {"type": "string"}},
    "required": ["url"],
}


@pytest.mark.parametrize(
    ("name", "node", "category", "expected"),
    [
        ("result", {"examples": [{"url": "https://x/a/clip.webm?x=1"}]}, "", "video/mp4"),
        ("audio_file", {}, "text-to-image", "audio/wav"),
        ("model_glb", {}, "", "model/gltf-binary"),
        ("frames_zip", {}, "", "application/zip"),
        ("result", {}, "text-to-speech", "audio/wav"),
        ("result", {}, "image-to-3d", "model/gltf-binary"),
        ("result", {}, "", "image/png"),
    ],
    ids=["example-url", "name", "glb", "zip", "category-audio", "category-3d", "default"],
)
def test_files_are_of_the_kind_the_document_tells(
    name: str, node: dict[str, Any], category: str, expected: str
) -> None:
    endpoint = unloaded_endpoint(
        {
            "type": "object",
            "required": [name],
            "properties": {name: {"allOf": [{"$ref": "#/components/schemas/File"}], **node}},
        },
        {"File": FILE_OBJECT},
        category,
    )

    (file,) = [synthesized(endpoint)[name]]

    assert file["content_type"] == expected
    assert file["url"].startswith("http://cdn/files/")


def test_objects_holding_files_are_made_not_copied_from_examples() -> None:
    """Examples carry URLs of fal's CDN: a client of the local server could not fetch them."""
    endpoint = unloaded_endpoint(
        {
            "type": "object",
            "required": ["model_urls"],
            "properties": {
                "model_urls": {
                    "type": "object",
                    "properties": {"glb": {"$ref": "#/components/schemas/File"}},
                    "examples": [{"glb": {"url": "https://v3.fal.media/files/model.glb"}}],
                }
            },
        },
        {"File": FILE_OBJECT},
    )

    glb = synthesized(endpoint)["model_urls"]["glb"]

    assert glb["url"].startswith("http://cdn/files/")
    assert glb["content_type"] == "model/gltf-binary"  # by the example's extension
