"""Each kind of bad spec ends in one clear error naming the file and JSON pointer, and the
output folder stays untouched."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.errors import SpecErrors
from generator.loader import load_spec_bytes, load_specs
from tests.helpers import GENERATED, make_spec, write_spec

SOURCE = "fal-ai/demo.json"


def good() -> dict[str, Any]:
    return make_spec(
        "fal-ai/demo",
        {"prompt": {"type": "string"}, "size": {"$ref": "#/components/schemas/Size"}},
        required=["prompt"],
        schemas={"Size": {"type": "object", "properties": {"w": {"type": "integer"}}}},
    )


def errors_of(raw: bytes, source: str = SOURCE) -> list[str]:
    with pytest.raises(SpecErrors) as caught:
        load_spec_bytes(source, raw)
    return [str(error) for error in caught.value.errors]


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def test_a_good_spec_loads() -> None:
    spec = load_spec_bytes(SOURCE, encode(good()))
    assert (spec.endpoint_id, spec.input_schema, spec.output_schema) == (
        "fal-ai/demo",
        "DemoInput",
        "DemoOutput",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"openapi": ', f"{SOURCE}: #: invalid JSON at line 1 column 13"),
        (b'{"a": 1, "a": 2}', f"{SOURCE}: #: invalid JSON: duplicate key 'a'"),
        (b'{"a": NaN}', f"{SOURCE}: #: invalid JSON: NaN is not valid JSON"),
        (b'{"a": 1e999}', f"{SOURCE}: #: invalid JSON: number 1e999 is out of range"),
        (b"\xff\xfe", f"{SOURCE}: #: not UTF-8 text"),
        (b"[1, 2]", f"{SOURCE}: #: the document must be a JSON object"),
        (b"[" * 100_000 + b"]" * 100_000, f"{SOURCE}: #: JSON is nested too deeply"),
    ],
)
def test_unreadable_documents(raw: bytes, expected: str) -> None:
    assert errors_of(raw)[0].startswith(expected)


def mutate(path: list[str], value: Any, *, delete: bool = False) -> bytes:
    document = good()
    node = document
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return encode(document)


SCHEMAS = ["components", "schemas"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (mutate(["openapi"], "2.0"), "#/openapi: '2.0' does not match"),
        (mutate(["components"], None, delete=True), "#: 'components' is a required property"),
        (
            mutate(
                [*SCHEMAS, "DemoInput", "properties", "size", "$ref"], "#/components/schemas/Nope"
            ),
            "#/components/schemas/DemoInput/properties/size/$ref: dangling reference "
            "'#/components/schemas/Nope'",
        ),
        (
            mutate([*SCHEMAS, "DemoInput", "properties", "size", "$ref"], "other.json#/Size"),
            "#/components/schemas/DemoInput/properties/size/$ref: unsupported reference",
        ),
        (
            mutate([*SCHEMAS, "Size", "properties", "w"], {"$ref": "#/components/schemas/Size"}),
            "#/components/schemas/Size: recursive schema references are not supported: "
            "Size -> Size",
        ),
        (
            mutate([*SCHEMAS, "Size", "not"], {"type": "string"}),
            "#/components/schemas/Size/not: unsupported schema keyword 'not'",
        ),
        (
            mutate([*SCHEMAS, "Size", "properties", "w", "type"], "int"),
            "#/components/schemas/Size/properties/w/type: 'int' is not valid",
        ),
        (
            mutate(["paths", "/fal-ai/demo/requests/{request_id}/cancel"], None, delete=True),
            "#/paths/~1fal-ai~1demo~1requests~1{request_id}~1cancel: missing the fal queue "
            "operation PUT",
        ),
        (
            mutate(["info", "x-fal-metadata", "endpointId"], "fal-ai/other"),
            "#/info/x-fal-metadata/endpointId: endpoint id 'fal-ai/other' does not match",
        ),
        (
            mutate(["info", "x-fal-metadata", "endpointId"], "fal-ai/../../etc"),
            "#/info/x-fal-metadata/endpointId: invalid endpoint id 'fal-ai/../../etc'",
        ),
    ],
)
def test_invalid_specs(raw: bytes, expected: str) -> None:
    found = errors_of(raw)
    assert any(error.startswith(f"{SOURCE}: {expected}") for error in found), found


def test_semantic_errors_are_reported_by_the_builder(tmp_path: Path) -> None:
    from generator.pipeline import load_package

    document = good()
    document["components"]["schemas"]["DemoInput"]["required"] = ["prompt", "ghost"]
    write_spec(tmp_path, document)
    with pytest.raises(SpecErrors) as caught:
        load_package(tmp_path)
    assert str(caught.value) == (
        "fal-ai/demo.json: #/components/schemas/DemoInput/required: "
        "required properties ['ghost'] are not defined in 'properties'"
    )


def test_all_problems_of_all_files_are_reported_together(tmp_path: Path) -> None:
    write_spec(tmp_path, good())
    (tmp_path / "fal-ai" / "broken.json").write_text("{")
    (tmp_path / "fal-ai" / "empty.json").write_text("{}")
    with pytest.raises(SpecErrors) as caught:
        load_specs(tmp_path)
    sources = sorted({error.source for error in caught.value.errors})
    assert sources == ["fal-ai/broken.json", "fal-ai/empty.json"]


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_a_bad_spec_leaves_the_output_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out, ignore=shutil.ignore_patterns("__pycache__"))
    specs = tmp_path / "specs"
    write_spec(specs, good())
    (specs / "fal-ai" / "bad.json").write_text('{"openapi": "3.0.4"}')
    before = tree_digest(out)

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 1

    assert tree_digest(out) == before
    err = capsys.readouterr().err
    assert "fal-ai/bad.json: #: 'info' is a required property" in err
    assert "Traceback" not in err
