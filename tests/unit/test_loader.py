"""generator.loader: what is refused (the endpoint is skipped) and what is repaired (degraded),
one rule each, on small documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from generator.errors import SpecErrors
from generator.loader import SpecFiles, discover, load_folder, read_spec, spec_digests
from tests.helpers import make_spec, write_spec

SOURCE = "fal-ai/demo.json"
SCHEMAS = ("components", "schemas")


def spec(properties: dict[str, Any], **schemas: Any) -> dict[str, Any]:
    return make_spec("fal-ai/demo", properties, schemas=schemas or None)


def read(document: dict[str, Any]) -> Any:
    return read_spec(SOURCE, json.dumps(document).encode())


def problems(document: dict[str, Any]) -> list[str]:
    return [f"{p.pointer}: {p.message}" for p in read(document).problems]


def test_a_good_document_has_no_problem() -> None:
    loaded = read(spec({"prompt": {"type": "string"}}))
    assert loaded.problems == () and not loaded.untyped_output
    assert (loaded.input_schema, loaded.output_schema) == ("DemoInput", "DemoOutput")


def test_an_error_object_is_refused_with_fals_message() -> None:
    with pytest.raises(SpecErrors) as caught:
        read({"error": {"code": "expansion_failed", "message": "not available"}})
    assert str(caught.value) == (
        f"{SOURCE}: #/error: fal could not provide the document (expansion_failed: not available)"
    )


def test_a_dangling_reference_in_a_property_becomes_untyped() -> None:
    document = spec({"track": {"type": "array", "items": {"$ref": "#/components/schemas/Pt"}}})
    loaded = read(document)
    assert problems(document) == [
        "#/components/schemas/DemoInput/properties/track/items/$ref: dangling reference "
        "'#/components/schemas/Pt'; typed as Any"
    ]
    assert loaded.schemas["DemoInput"]["properties"]["track"]["items"] == {}
    # the document as published is kept (the local server lists it as fal would)
    assert loaded.original == document
    assert read(spec({"prompt": {"type": "string"}})).published is None  # nothing repaired


def test_a_dangling_input_is_refused() -> None:
    document = spec({"prompt": {"type": "string"}})
    del document["components"]["schemas"]["DemoInput"]
    with pytest.raises(SpecErrors, match="dangling reference '#/components/schemas/DemoInput'"):
        read(document)


@pytest.mark.parametrize(
    ("output", "message"),
    [({}, "is empty"), ({"type": "string"}, "must be an object schema")],
)
def test_an_unusable_output_makes_the_output_untyped(output: Any, message: str) -> None:
    document = spec({"prompt": {"type": "string"}})
    document["components"]["schemas"]["DemoOutput"] = output
    loaded = read(document)
    assert loaded.untyped_output
    assert problems(document) == [
        f"#/components/schemas/DemoOutput: {message}; the output is untyped"
    ]
    assert loaded.schemas["DemoOutput"] == {"type": "object"}


def test_an_unsupported_keyword_is_dropped_and_a_non_schema_becomes_untyped() -> None:
    document = spec(
        {
            "a": {"type": "string", "not": {"const": "x"}},
            "b": {"type": "strung", "description": "kept"},
            "c": 5,
        }
    )
    properties = read(document).schemas["DemoInput"]["properties"]
    assert properties["a"] == {"type": "string"}
    assert properties["b"] == {"description": "kept"}
    assert properties["c"] == {}
    assert [line.split(":")[0] for line in problems(document)] == [
        "#/components/schemas/DemoInput/properties/a/not",
        "#/components/schemas/DemoInput/properties/b/type",
        "#/components/schemas/DemoInput/properties/c",
    ]


def test_positional_items_are_a_tuple() -> None:
    document = spec({"t": {"type": "array", "items": {"0": {"type": "number"}, "1": {}}}})
    node = read(document).schemas["DemoInput"]["properties"]["t"]
    assert node == {"type": "array", "prefixItems": [{"type": "number"}, {}]}
    assert problems(document) == [
        "#/components/schemas/DemoInput/properties/t/items: 'items' is an object keyed by "
        "positions; read as a tuple"
    ]


@pytest.mark.parametrize("name", ["default", "enum", "examples"])
def test_a_property_named_like_a_keyword_is_a_schema_all_the_same(name: str) -> None:
    """In ``properties`` every entry is a schema, whatever its name (see schema.iter_nodes)."""
    document = spec({name: {"type": "array", "items": {"0": {"type": "number"}, "1": {}}}})
    node = read(document).schemas["DemoInput"]["properties"][name]
    assert node == {"type": "array", "prefixItems": [{"type": "number"}, {}]}
    assert problems(document) == [
        f"#/components/schemas/DemoInput/properties/{name}/items: 'items' is an object keyed "
        "by positions; read as a tuple"
    ]


def test_a_cycle_is_cut_where_it_closes() -> None:
    node = {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}}}
    document = spec({"node": {"$ref": "#/components/schemas/Node"}}, Node=node)
    loaded = read(document)
    assert loaded.schemas["Node"]["properties"]["next"] == {}
    assert problems(document) == [
        "#/components/schemas/Node/properties/next/$ref: recursive schema references are not "
        "supported: Node -> Node; the reference is typed as Any"
    ]


def test_a_folder_lists_what_it_skipped_and_every_digest(tmp_path: Path) -> None:
    write_spec(tmp_path, spec({"prompt": {"type": "string"}}))
    (tmp_path / "fal-ai" / "bad.json").write_bytes(b"{")
    loaded = load_folder(tmp_path)
    assert [document.endpoint_id for document in loaded.documents] == ["fal-ai/demo"]
    assert [str(problem) for problem in loaded.skipped] == [
        "fal-ai/bad.json: #: invalid JSON at line 1 column 2: Expecting property name enclosed "
        "in double quotes; endpoint skipped"
    ]
    assert sorted(loaded.digests) == ["fal-ai/bad.json", SOURCE]


def test_a_spec_digested_is_the_spec_loaded(tmp_path: Path) -> None:
    """Deciding whether anything changed and loading read each spec once: a spec changed in
    between is loaded as it was digested, never with the digest of other bytes."""
    write_spec(tmp_path, spec({"prompt": {"type": "string"}}))
    files = SpecFiles.walk(tmp_path)
    digests = spec_digests(tmp_path, files)
    write_spec(tmp_path, spec({"seed": {"type": "integer"}}))

    loaded = load_folder(tmp_path, files=files)

    assert loaded.digests == digests
    assert list(loaded.documents[0].schemas["DemoInput"]["properties"]) == ["prompt"]
    assert load_folder(tmp_path, files=files).digests != digests  # read again: handed over once


def test_one_walk_finds_specs_overlays_and_orphans(tmp_path: Path) -> None:
    write_spec(tmp_path, spec({"prompt": {"type": "string"}}))
    (tmp_path / "fal-ai" / "demo.overlay.yaml").write_text("overlay: 1.0.0\n")
    (tmp_path / "fal-ai" / "gone.overlay.json").write_text("{}")
    (tmp_path / "b" / "c").mkdir(parents=True)
    (tmp_path / "b" / "c" / "d.json").write_text("{}")
    (tmp_path / "a.json").write_text("{}")

    files = SpecFiles.walk(tmp_path)

    assert list(files.specs) == ["a.json", "b/c/d.json", SOURCE]
    assert discover(tmp_path) == list(files.specs.values())
    assert files.read(SOURCE).overlay is not None
    assert files.read("a.json").overlay is None
    assert [error.source for error in files.orphans()] == ["fal-ai/gone.overlay.json"]
