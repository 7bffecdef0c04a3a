"""Edge cases of spec content: generated code snapshots plus behaviour of the result."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
import pytest
from syrupy.assertion import SnapshotAssertion

from generator.output import write_tree
from generator.pipeline import Options, generate_tree
from tests.helpers import importable, make_spec, write_spec

IMPORT_NAME = "edge_models"

EDGE_INPUT: dict[str, Any] = {
    "class": {
        "type": "string",
        "description": 'Keyword name; quotes " and \'single\' and """triple"""',
    },
    "from": {"type": "integer", "minimum": 1, "maximum": 4, "default": 2},
    "a-b": {"type": "string", "description": "Collides with a_b after sanitising."},
    "a_b": {"type": "string"},
    "3d": {"type": "boolean", "description": "Starts with a digit."},
    "timeout": {"type": "number", "description": "Collides with the client's own option name."},
    "ratio": {
        "type": "string",
        "enum": ["16:9", "1:1", "realistic_image/b_and_w"],
        "default": "1:1",
    },
    "size": {
        "anyOf": [
            {"$ref": "#/components/schemas/ImageSize"},
            {"type": "string", "enum": ["square_hd", "landscape_4_3"]},
        ],
        "default": {"width": 1280, "height": 720},
    },
    "loras": {"type": "array", "items": {"$ref": "#/components/schemas/LoraWeight"}},
    "palette": {
        "type": "array",
        "items": {
            "type": "array",
            "items": {"type": "object", "properties": {"r": {"type": "integer"}}},
        },
    },
    "seed": {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "Ünïcødé ✓ \\ back\\slash",
    },
    "style": {"type": "string", "nullable": True, "enum": ["a", None]},
}
SCHEMAS = {
    "ImageSize": {
        "type": "object",
        "properties": {
            "width": {"type": "integer", "exclusiveMinimum": 0},
            "height": {"type": "integer"},
        },
    },
    "LoraWeight": {
        "type": "object",
        "properties": {"path": {"type": "string"}, "scale": {"type": "number", "default": 1.0}},
        "required": ["path"],
    },
}


@pytest.fixture(scope="module")
def edge_package(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[dict[str, str], ModuleType]]:
    root = tmp_path_factory.mktemp("edge")
    specs = root / "specs"
    write_spec(
        specs, make_spec("fal-ai/edge/case", EDGE_INPUT, required=["class"], schemas=SCHEMAS)
    )
    # A second endpoint sharing ImageSize and LoraWeight: they must move to the shared module.
    write_spec(
        specs,
        make_spec(
            "fal-ai/other",
            {"size": {"$ref": "#/components/schemas/ImageSize"}, "loras": EDGE_INPUT["loras"]},
            schemas=SCHEMAS,
        ),
    )
    files = generate_tree(specs, Options(import_name=IMPORT_NAME))
    write_tree(root / "out", files)
    with importable(root / "out", IMPORT_NAME):
        yield files, importlib.import_module(f"{IMPORT_NAME}.endpoints.edge_case")


def test_endpoint_module_snapshot(
    edge_package: tuple[dict[str, str], ModuleType], snapshot: SnapshotAssertion
) -> None:
    files, _ = edge_package
    assert files[f"{IMPORT_NAME}/endpoints/edge_case.py"] == snapshot
    assert files[f"{IMPORT_NAME}/endpoints/_shared.py"] == snapshot


def test_command_table_and_docs_page_snapshot(
    edge_package: tuple[dict[str, str], ModuleType], snapshot: SnapshotAssertion
) -> None:
    files, _ = edge_package
    assert files[f"{IMPORT_NAME}/cli/commands/edge_case.py"] == snapshot
    assert files["docs/endpoints/edge_case.md"] == snapshot


def test_every_generated_python_file_compiles(
    edge_package: tuple[dict[str, str], ModuleType],
) -> None:
    files, _ = edge_package
    for name, text in files.items():
        if name.endswith(".py"):
            compile(text, name, "exec")


def capture(module: ModuleType) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"seed": 7})

    client_module = importlib.import_module(f"{IMPORT_NAME}._client")
    client = client_module.FalClient(
        key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )
    return client, seen


def test_renamed_keywords_are_sent_under_their_json_names(
    edge_package: tuple[dict[str, str], ModuleType],
) -> None:
    _, module = edge_package
    client, seen = capture(module)
    output = client.edge_case.run(
        class_="c", from_=3, a_b="x", a_b_="y", field_3d=True, timeout_=1.5, seed=None
    )
    assert output.seed == 7
    assert json.loads(seen[0].content) == {
        "class": "c",
        "from": 3,
        "a_b": "x",
        "a-b": "y",
        "3d": True,
        "timeout": 1.5,
        "seed": None,
    }


def test_keyword_names_follow_the_ir(edge_package: tuple[dict[str, str], ModuleType]) -> None:
    _, module = edge_package
    # A property that is a usable keyword keeps its name; "a-b" must yield.
    assert module.EdgeCase.renamed == {
        "class_": "class",
        "from_": "from",
        "a_b_": "a-b",
        "field_3d": "3d",
        "timeout_": "timeout",
    }


def test_nested_values_unset_fields_and_shared_models(
    edge_package: tuple[dict[str, str], ModuleType],
) -> None:
    _, module = edge_package
    # Shared models are imported from the endpoint module, under their own names.
    shared = importlib.import_module(f"{IMPORT_NAME}.endpoints._shared")
    assert module.ImageSize is shared.ImageSize and "ImageSize" in module.__all__
    client, seen = capture(module)
    client.edge_case.run(
        class_="c",
        size=module.ImageSize(width=640),
        loras=[module.LoraWeight(path="https://x/l.safetensors")],
        palette=[[{"r": 1}]],
        ratio="realistic_image/b_and_w",
    )
    assert json.loads(seen[0].content) == {
        "class": "c",
        "size": {"width": 640},
        "loras": [{"path": "https://x/l.safetensors"}],
        "palette": [[{"r": 1}]],
        "ratio": "realistic_image/b_and_w",
    }


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"ratio": "2:1"}, "ratio"),
        ({"from_": 9}, "from"),
        ({"size": {"width": 0}}, "size"),
        ({"loras": [{"scale": 2}]}, "loras.0.path"),
    ],
)
def test_invalid_input_is_rejected_before_any_request(
    edge_package: tuple[dict[str, str], ModuleType], arguments: dict[str, Any], field: str
) -> None:
    _, module = edge_package
    errors = importlib.import_module(f"{IMPORT_NAME}._runtime._errors")
    client, seen = capture(module)
    with pytest.raises(errors.ValidationError) as caught:
        client.edge_case.run(class_="c", **arguments)
    assert any(error.path.startswith(field) for error in caught.value.errors), caught.value.errors
    assert field in str(caught.value)
    assert seen == []
