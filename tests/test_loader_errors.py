"""Each kind of bad spec ends in one clear error naming the file and JSON pointer, and the
output folder stays untouched."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from generator.cli import EXIT_SKIPPED, main
from generator.errors import SpecErrors
from generator.loader import MAX_DEPTH, MAX_SPEC_BYTES, load_spec_bytes, load_specs
from generator.settings import read_options
from tests.helpers import GENERATED, ROOT, make_spec, write_spec

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
        (b'{"a": NaN}', f"{SOURCE}: #/a: invalid JSON: NaN is not valid JSON"),
        (b'{"a": 1e999}', f"{SOURCE}: #/a: invalid JSON: number 1e999 is out of range"),
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
            "#/components/schemas/Size/properties/w/$ref: recursive schema references are not "
            "supported: Size -> Size",
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
    expected = (
        "fal-ai/demo.json: #/components/schemas/DemoInput/required: "
        "required properties ['ghost'] are not defined in 'properties'; ignored"
    )
    package = load_package(tmp_path)
    assert [str(problem) for problem in package.problems] == [expected]
    assert package.problems[0].severity == "degraded"
    assert [field.name for field in package.endpoints[0].input.fields] == ["prompt", "size"]
    with pytest.raises(SpecErrors) as caught:
        load_package(tmp_path, strict=True)
    assert str(caught.value) == expected


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


def test_a_bad_spec_leaves_the_output_untouched_when_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    shutil.copytree(GENERATED, out, ignore=shutil.ignore_patterns("__pycache__"))
    specs = tmp_path / "specs"
    write_spec(specs, good())
    (specs / "fal-ai" / "bad.json").write_text('{"openapi": "3.0.4"}')
    before = tree_digest(out)

    assert main(["generate", "--strict", "--specs", str(specs), "--out", str(out)]) == 1

    assert tree_digest(out) == before
    err = capsys.readouterr().err
    assert "fal-ai/bad.json: #: 'info' is a required property" in err
    assert "Traceback" not in err


def test_a_bad_spec_is_skipped_and_the_others_are_generated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    specs = tmp_path / "specs"
    write_spec(specs, good())
    (specs / "fal-ai" / "bad.json").write_text('{"openapi": "3.0.4"}')

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == EXIT_SKIPPED

    err = capsys.readouterr().err.splitlines()
    assert err[0] == "falgen: 1 spec skipped, 0 degraded:"
    assert err[1:4] == [
        f"  skipped: fal-ai/bad.json: #: '{key}' is a required property; endpoint skipped"
        for key in ("info", "paths", "components")
    ]
    assert (out / "fal_models" / "endpoints" / "demo.py").is_file()
    manifest = json.loads((out / ".falgen-manifest.json").read_text())
    assert {problem["source"] for problem in manifest["problems"]} == {"fal-ai/bad.json"}
    assert set(manifest["specs"]) == {"fal-ai/bad.json", "fal-ai/demo.json"}
    # Unchanged, the same report and status, from the manifest; also with --check.
    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == EXIT_SKIPPED
    assert main(["generate", "--check", "--specs", str(specs), "--out", str(out)]) == EXIT_SKIPPED
    assert "skipped: fal-ai/bad.json: #: 'info'" in capsys.readouterr().err
    # --strict refuses what the manifest says was skipped.
    assert main(["generate", "--strict", "--specs", str(specs), "--out", str(out)]) == 1


def test_nothing_generated_leaves_the_output_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "generated"
    specs = tmp_path / "specs"
    (specs / "fal-ai").mkdir(parents=True)
    (specs / "fal-ai" / "bad.json").write_text("{")

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == 1

    assert not out.exists()
    assert "fal-ai/bad.json: #: invalid JSON" in capsys.readouterr().err


def test_an_empty_specs_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "specs").mkdir()
    out = tmp_path / "generated"

    assert main(["generate", "--specs", str(tmp_path / "specs"), "--out", str(out)]) == 1

    err = capsys.readouterr().err
    assert err == f"falgen: no spec files (*.json) in {tmp_path / 'specs'}: nothing to generate\n"
    assert not out.exists()


def test_an_error_object_from_fal_is_an_unavailable_endpoint(tmp_path: Path) -> None:
    from generator.pipeline import load_package

    write_spec(tmp_path, good())
    error = {"error": {"code": "expansion_failed", "message": "OpenAPI schema not available"}}
    (tmp_path / "fal-ai" / "gone.json").write_text(json.dumps(error))

    package = load_package(tmp_path)

    assert [str(problem) for problem in package.problems] == [
        "fal-ai/gone.json: #/error: fal could not provide the document (expansion_failed: "
        "OpenAPI schema not available); endpoint skipped"
    ]
    assert package.skipped == package.problems


def test_the_strict_setting(tmp_path: Path) -> None:
    write_spec(tmp_path / "specs", good())
    (tmp_path / "specs" / "fal-ai" / "bad.json").write_text("{")
    (tmp_path / "specs" / "falgen.toml").write_text("[generate]\nstrict = true\n")
    out = tmp_path / "generated"

    assert main(["generate", "--specs", str(tmp_path / "specs"), "--out", str(out)]) == 1

    assert not out.exists()
    (tmp_path / "specs" / "falgen.toml").write_text("[generate]\nstrict = 1\n")
    with pytest.raises(SpecErrors, match="#/generate/strict: must be true or false"):
        read_options(tmp_path / "specs")


# --- every kind of malformed spec through the falgen command ----------------------------------

PATH = "/fal-ai/demo"
RESULT = "/fal-ai/demo/requests/{request_id}"
BODY = ["paths", PATH, "post", "requestBody", "content", "application/json", "schema"]
SIZE_W = [*SCHEMAS, "Size", "properties", "w"]


def replaced(old: bytes, new: bytes, document: bytes | None = None) -> bytes:
    raw = encode(good()) if document is None else document
    assert old in raw
    return raw.replace(old, new, 1)


def nested(opening: str, closing: str, depth: int) -> bytes:
    """The good spec with ``Size.w`` nested ``depth`` schemas deep (written as text: the JSON
    encoder would give up first)."""
    schema = opening * depth + '{"type": "string"}' + closing * depth
    return replaced(b'"w": {"type": "integer"}', f'"w": {schema}'.encode())


def with_schemas(**schemas: Any) -> bytes:
    document = good()
    document["components"]["schemas"].update(schemas)
    return encode(document)


def cycle_through(name: str) -> bytes:
    """Size -> <name> -> Size."""
    ref = {"$ref": "#/components/schemas/" + name.replace("~", "~0").replace("/", "~1")}
    document = good()
    document["components"]["schemas"]["Size"]["properties"]["w"] = ref
    document["components"]["schemas"][name] = {
        "type": "object",
        "properties": {"s": {"$ref": "#/components/schemas/Size"}},
    }
    return encode(document)


DEEP = '{"type": "array", "items": '
# (malformed spec, the start of the one problem reported after "<file>: ")
MALFORMED: dict[str, tuple[bytes, str]] = {
    # invalid JSON
    "empty file": (b"", "#: invalid JSON at line 1 column 1: Expecting value"),
    "trailing comma": (b'{"openapi": "3.0.4",}', "#: invalid JSON at line 1 column 21"),
    "comment": (b'{"openapi": "3.0.4" /* c */}', "#: invalid JSON at line 1 column 21"),
    "text after the object": (encode(good()) + b" {}", "#: invalid JSON at line 1 column"),
    # wrong types at various places
    "openapi as a number": (mutate(["openapi"], 3.0), "#/openapi: 3.0 is not of type 'string'"),
    "info as a string": (mutate(["info"], "demo"), "#/info: 'demo' is not of type 'object'"),
    "paths as an array": (mutate(["paths"], []), "#/paths: [] is not of type 'object'"),
    "schemas as an array": (mutate(SCHEMAS, []), "#/components/schemas: [] is not of type"),
    "properties as an array": (
        mutate([*SCHEMAS, "Size", "properties"], []),
        "#/components/schemas/Size/properties: [] is not of type 'object'",
    ),
    "required as a string": (
        mutate([*SCHEMAS, "DemoInput", "required"], "prompt"),
        "#/components/schemas/DemoInput/required: 'prompt' is not of type 'array'",
    ),
    "items as an array": (
        mutate(SIZE_W, {"type": "array", "items": [{"type": "string"}]}),
        "#/components/schemas/Size/properties/w/items: [{'type': 'string'}] is not of type",
    ),
    "endpoint id as a number": (
        mutate(["info", "x-fal-metadata", "endpointId"], 7),
        "#/info/x-fal-metadata/endpointId: 7 is not of type 'string'",
    ),
    "summary as a number": (
        mutate(["info", "x-falgen-summary"], 7),
        "#/info/x-falgen-summary: 7 is not of type 'string'",
    ),
    "request body as an array": (
        mutate(BODY[:4], []),
        "#/paths/~1fal-ai~1demo/post/requestBody: must be an object",
    ),
    "result response as a string": (
        mutate(["paths", RESULT, "get", "responses", "200"], "ok"),
        "#/paths/~1fal-ai~1demo~1requests~1{request_id}/get/responses/200: must be an object",
    ),
    "inline request body schema": (
        mutate(BODY, {"type": "object"}),
        "#/paths/~1fal-ai~1demo/post/requestBody/content/application~1json/schema: must be a "
        "'$ref' to '#/components/schemas/<Name>'",
    ),
    "enum of objects": (
        mutate([*SIZE_W, "enum"], [{"a": 1}]),
        "#/components/schemas/Size/properties/w: enum values that are objects or arrays; typed as",
    ),
    # dangling references
    "dangling reference in items": (
        mutate(SIZE_W, {"type": "array", "items": {"$ref": "#/components/schemas/Nope"}}),
        "#/components/schemas/Size/properties/w/items/$ref: dangling reference",
    ),
    "dangling reference in anyOf": (
        mutate(SIZE_W, {"anyOf": [{"$ref": "#/components/schemas/Nope"}, {"type": "null"}]}),
        "#/components/schemas/Size/properties/w/anyOf/0/$ref: dangling reference",
    ),
    "dangling request body": (
        mutate([*BODY, "$ref"], "#/components/schemas/Nope"),
        "#/paths/~1fal-ai~1demo/post/requestBody/content/application~1json/schema/$ref: "
        "dangling reference '#/components/schemas/Nope'",
    ),
    # a property named like a keyword whose value is data: still a schema
    "dangling reference in a property named examples": (
        mutate([*SCHEMAS, "Size", "properties", "examples"], {"$ref": "#/components/schemas/No"}),
        "#/components/schemas/Size/properties/examples/$ref: dangling reference",
    ),
    # cyclic references
    "indirect cycle": (
        cycle_through("Other"),
        "#/components/schemas/Other/properties/s/$ref: recursive schema references are not "
        "supported: Size -> Other -> Size; the reference is typed as Any",
    ),
    "cycle through items": (
        mutate(SIZE_W, {"type": "array", "items": {"$ref": "#/components/schemas/Size"}}),
        "#/components/schemas/Size/properties/w/items/$ref: recursive schema references are not "
        "supported: Size -> Size",
    ),
    "cycle through additionalProperties": (
        mutate(SIZE_W, {"additionalProperties": {"$ref": "#/components/schemas/Size"}}),
        "#/components/schemas/Size/properties/w/additionalProperties/$ref: recursive schema "
        "references are not supported: Size -> Size",
    ),
    # unsupported constructs
    "patternProperties": (
        mutate([*SCHEMAS, "Size", "patternProperties"], {"^x": {"type": "string"}}),
        "#/components/schemas/Size/patternProperties: unsupported schema keyword",
    ),
    "discriminator": (
        mutate([*SCHEMAS, "Size", "discriminator"], {"propertyName": "w"}),
        "#/components/schemas/Size/discriminator: unsupported schema keyword 'discriminator'",
    ),
    "allOf of two schemas": (
        mutate(SIZE_W, {"allOf": [{"type": "integer"}, {"minimum": 1}]}),
        "#/components/schemas/Size/properties/w/allOf: 'allOf' of several schemas; typed as Any",
    ),
    "remote reference": (
        mutate([*SIZE_W], {"$ref": "https://example.com/size.json#/Size"}),
        "#/components/schemas/Size/properties/w/$ref: unsupported reference "
        "'https://example.com/size.json#/Size'",
    ),
    "reference into a schema": (
        mutate([*SIZE_W], {"$ref": "#/components/schemas/DemoInput/properties/prompt"}),
        "#/components/schemas/Size/properties/w/$ref: unsupported reference",
    ),
    # huge documents
    "over the size limit": (
        b'{"openapi": "' + b"x" * MAX_SPEC_BYTES + b'"}',
        f"#: document is larger than the limit of {MAX_SPEC_BYTES} bytes",
    ),
    "schemas nested too deeply": (
        nested(DEEP, "}", MAX_DEPTH),
        f"#/components/schemas/Size/properties/w{'/items' * (MAX_DEPTH - 5)}: nested more than "
        f"{MAX_DEPTH} levels deep",
    ),
    "JSON nested beyond the parser": (
        nested(DEEP, "}", 200_000),
        "#: JSON is nested too deeply",
    ),
    # not UTF-8, or not Unicode
    "Latin-1 text": (replaced(b'"prompt": {', b'"pr\xe9mpt": {'), "#: not UTF-8 text (byte"),
    "UTF-16 text": (json.dumps(good()).encode("utf-16"), "#: not UTF-8 text (byte 0)"),
    "lone surrogate": (
        mutate([*SCHEMAS, "Size", "description"], "broken \ud83d text"),
        "#/components/schemas/Size/description: the string has a lone surrogate (U+D83D)",
    ),
    # duplicate keys, NaN
    "duplicate key in a schema": (
        replaced(b'"w": {"type": "integer"}', b'"w": {"type": "integer", "type": "string"}'),
        "#/components/schemas/Size/properties/w: invalid JSON: duplicate key 'type'",
    ),
    "NaN default": (
        replaced(b'"w": {"type": "integer"}', b'"w": {"type": "number", "default": NaN}'),
        "#/components/schemas/Size/properties/w/default: invalid JSON: NaN is not valid JSON",
    ),
    "Infinity maximum": (
        replaced(b'"w": {"type": "integer"}', b'"w": {"type": "number", "maximum": Infinity}'),
        "#/components/schemas/Size/properties/w/maximum: invalid JSON: Infinity is not valid",
    ),
}


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A copy of generated/ (which the command would replace) and its digest."""
    out = tmp_path_factory.mktemp("untouched") / "generated"
    shutil.copytree(GENERATED, out, ignore=shutil.ignore_patterns("__pycache__"))
    return out, tree_digest(out)


@pytest.mark.parametrize(("raw", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_the_command_reports_a_malformed_spec_in_one_line(
    raw: bytes,
    expected: str,
    output: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "fal-ai").mkdir()
    (tmp_path / SOURCE).write_bytes(raw)
    out, digest = output

    assert main(["generate", "--strict", "--specs", str(tmp_path), "--out", str(out)]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    first, *problems = captured.err.splitlines()
    assert first == "falgen: 1 problem in the specs:"
    assert len(problems) == 1 and problems[0].startswith(f"  {SOURCE}: {expected}"), problems
    assert tree_digest(out) == digest


def test_names_in_errors_are_printed_on_one_line(output: tuple[Path, str], tmp_path: Path) -> None:
    """In a real process: names from the spec cannot break the line or hide text (bidirectional
    overrides), and nothing fails while printing them."""
    name = "Evil\n\u202eName\x00"
    write_spec(tmp_path / "specs", json.loads(cycle_through(name)))
    (tmp_path / "specs" / "fal-ai" / "deep.json").write_bytes(nested(DEEP, "}", 100_000))
    out, digest = output
    done = subprocess.run(
        [
            *(sys.executable, "-m", "generator.cli", "generate", "--strict"),
            *("--specs", "specs", "--out", str(out)),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == "", done.stderr
    assert done.stderr.splitlines() == [
        "falgen: 2 problems in the specs:",
        "  fal-ai/deep.json: #: JSON is nested too deeply",
        "  fal-ai/demo.json: #/components/schemas/Evil\\n\\u202eName\\x00/properties/s/$ref: "
        "recursive schema references are not supported: Size -> Evil\\n\\u202eName\\x00 -> "
        "Size; the reference is typed as Any",
    ]
    assert tree_digest(out) == digest


# The malformed specs above whose endpoint is still generated, the problem worked around.
DEGRADED = {
    "properties as an array",
    "required as a string",
    "items as an array",
    "enum of objects",
    "dangling reference in items",
    "dangling reference in anyOf",
    "dangling reference in a property named examples",
    "indirect cycle",
    "cycle through items",
    "cycle through additionalProperties",
    "patternProperties",
    "discriminator",
    "allOf of two schemas",
    "remote reference",
    "reference into a schema",
    "result response as a string",  # the output is untyped
}


@pytest.mark.parametrize(("raw", "expected"), MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_spec_is_degraded_or_skipped(
    raw: bytes, expected: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from generator.pipeline import load_package

    write_spec(tmp_path, make_spec("fal-ai/other", {"prompt": {"type": "string"}}))
    (tmp_path / SOURCE).write_bytes(raw)

    package = load_package(tmp_path)

    degraded = request.node.callspec.id in DEGRADED
    ids = {endpoint.endpoint_id for endpoint in package.endpoints}
    assert ids == ({"fal-ai/demo", "fal-ai/other"} if degraded else {"fal-ai/other"})
    assert {problem.severity for problem in package.problems} == (
        {"degraded"} if degraded else {"skipped"}
    )
    assert str(package.problems[0]).startswith(f"{SOURCE}: {expected}")


def test_links_out_of_the_specs_folder_are_not_followed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A spec or overlay that links to a file outside the folder is skipped, never read (its
    text would reach messages and docs); links inside the folder are followed."""
    from generator.diff.sources import load_folder as diff_folder

    elsewhere = tmp_path / "elsewhere"
    secret = write_spec(
        elsewhere, make_spec("fal-ai/secret-7f3a9c", {"prompt": {"type": "string"}})
    )
    overlay = elsewhere / "overlay.yaml"
    overlay.write_text("overlay: 1.0.0\ninfo: {title: x, version: '1'}\nactions: []\n")
    specs = tmp_path / "specs"
    write_spec(specs, good())
    (specs / "fal-ai" / "leak.json").symlink_to(secret)
    stored = specs / "store" / "inner.data"  # not a spec file name: found through the link only
    stored.parent.mkdir()
    stored.write_text(json.dumps(make_spec("fal-ai/inner", {"seed": {"type": "integer"}})))
    (specs / "fal-ai" / "inner.json").symlink_to(Path("..", "store", "inner.data"))
    (specs / "fal-ai" / "demo.overlay.yaml").symlink_to(overlay)
    (specs / "linked").symlink_to(elsewhere, target_is_directory=True)  # not entered
    out = tmp_path / "generated"

    assert main(["generate", "--specs", str(specs), "--out", str(out)]) == EXIT_SKIPPED

    err = capsys.readouterr().err
    refused = "a link to outside the specs folder; not followed; endpoint skipped"
    assert f"skipped: fal-ai/leak.json: #: cannot read file: {refused}" in err
    assert f"skipped: fal-ai/demo.overlay.yaml: #: cannot read file: {refused}" in err
    manifest = json.loads((out / ".falgen-manifest.json").read_text())
    problems = {problem["source"] for problem in manifest["problems"]}
    assert problems == {"fal-ai/leak.json", "fal-ai/demo.overlay.yaml"}
    endpoints = sorted(path.name for path in (out / "fal_models" / "endpoints").glob("[!_]*.py"))
    assert endpoints == ["inner.py"]  # demo: its overlay is refused; leak: refused
    assert not [
        path for path in out.rglob("*") if path.is_file() and b"7f3a9c" in path.read_bytes()
    ]
    with pytest.raises(SpecErrors, match=r"leak\.json: #: cannot read file: a link to outside"):
        diff_folder(specs)
