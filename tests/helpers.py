"""Helpers for tests: fal-style spec documents built in code, and sample values from schemas."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from generator.naming import pascal_name

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
GENERATED = ROOT / "generated"
REALSPECS = ROOT.parent / "shared" / "realspecs"
CATALOG = ROOT.parent / "shared" / "catalog"  # fal's catalogue answers, by category
# A valid output of fal-ai/flux-1/schnell, for fake servers.
FLUX_OUTPUT = {
    "images": [{"url": "https://cdn.test/a.png", "width": 8, "height": 8}],
    "timings": {},
    "seed": 1,
    "has_nsfw_concepts": [False],
    "prompt": "p",
}


def make_spec(
    endpoint_id: str,
    input_properties: dict[str, Any],
    output_properties: dict[str, Any] | None = None,
    *,
    required: list[str] | None = None,
    output_required: list[str] | None = None,
    schemas: dict[str, Any] | None = None,
    capabilities: list[str] | None = None,
) -> dict[str, Any]:
    """A queue OpenAPI document in fal's published shape."""
    name = pascal_name(endpoint_id.split("/", 1)[1])
    output_properties = output_properties or {"seed": {"type": "integer", "title": "Seed"}}
    base = f"/{endpoint_id}/requests/{{request_id}}"
    info: dict[str, Any] = {
        "title": f"Queue OpenAPI for {endpoint_id}",
        "version": "1.0.0",
        "x-fal-metadata": {"endpointId": endpoint_id, "category": "text-to-image"},
    }
    if capabilities:
        info["x-falgen-capabilities"] = capabilities

    def ref(schema: str) -> dict[str, Any]:
        return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}

    return {
        "openapi": "3.0.4",
        "info": info,
        "components": {
            "securitySchemes": {
                "apiKeyAuth": {"type": "apiKey", "in": "header", "name": "Authorization"}
            },
            "schemas": {
                "QueueStatus": {"type": "object", "properties": {"status": {"type": "string"}}},
                f"{name}Input": {
                    "type": "object",
                    "properties": input_properties,
                    "x-fal-order-properties": list(input_properties),
                    **({"required": required} if required else {}),
                },
                f"{name}Output": {
                    "type": "object",
                    "properties": output_properties,
                    "required": output_required or list(output_properties),
                },
                **(schemas or {}),
            },
        },
        "paths": {
            f"/{endpoint_id}": {
                "post": {
                    "requestBody": {"required": True, "content": ref(f"{name}Input")},
                    "responses": {"200": {"description": "", "content": ref("QueueStatus")}},
                }
            },
            f"{base}/status": {"get": {"responses": {}}},
            f"{base}/cancel": {"put": {"responses": {}}},
            base: {
                "get": {"responses": {"200": {"description": "", "content": ref(f"{name}Output")}}}
            },
        },
        "servers": [{"url": "https://queue.fal.run"}],
        "security": [{"apiKeyAuth": []}],
    }


def write_spec(specs_dir: Path, document: dict[str, Any]) -> Path:
    endpoint_id = document["info"]["x-fal-metadata"]["endpointId"]
    path = specs_dir / f"{endpoint_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def sample(schema: Any, components: dict[str, Any]) -> Any:
    """A small value valid against ``schema``: required properties only, first options."""
    if not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return sample(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "default" in schema and not isinstance(schema["default"], dict | list):
        return schema["default"]
    examples = schema.get("examples") or [None]
    if isinstance(examples[0], str | int | float | bool):  # page examples of objects are partial
        return examples[0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return sample(schema[key][0], components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: sample(properties[name], components) for name in schema.get("required", [])}
    if kind == "array":
        return [sample(schema.get("items", {}), components)]
    return {"string": "text", "integer": 1, "number": 1.5, "boolean": True, "null": None}[kind]


@dataclass(frozen=True)
class CodeBlock:
    page: str
    section: str
    index: int
    language: str
    code: str

    @property
    def name(self) -> str:
        return f"{Path(self.page).stem}_{self.section.lower()}_{self.index}"


def code_blocks(markdown: Path) -> list[CodeBlock]:
    """Fenced code blocks (also indented ones, inside content tabs) with their ``##`` section."""
    blocks: list[CodeBlock] = []
    section = ""
    lines = markdown.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("## "):
            section = line[3:].strip()
        opening = re.fullmatch(r"(\s*)(`{3,})(\w+)", line)
        if opening:
            indent, fence, language = opening.groups()
            body = []
            index += 1
            while lines[index].strip() != fence:
                body.append(lines[index][len(indent) :])
                index += 1
            count = sum(1 for block in blocks if block.section == section)
            blocks.append(CodeBlock(markdown.name, section, count, language, "\n".join(body)))
        index += 1
    return blocks


def calling(endpoint: Any) -> contextlib.AbstractContextManager[object]:
    """Around a call of ``endpoint`` (an IR Endpoint): a deprecated one must warn, saying why."""
    if endpoint.deprecated:
        message = f"{endpoint.endpoint_id} is deprecated: {endpoint.deprecation}"
        return pytest.warns(DeprecationWarning, match=f"^{re.escape(message)}$")
    return contextlib.nullcontext()


def explode_catalog(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Write every model of ``CATALOG`` into ``folder`` as ``falgen fetch`` keeps it (see
    ``write_catalog_answer``). The models, by category (the answer file's stem)."""
    from generator.fetch import write_catalog_answer

    by_category: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(CATALOG.glob("*.json")):
        answer = json.loads(path.read_bytes())
        write_catalog_answer(answer, folder)
        by_category[path.stem] = answer["models"]
    return by_category


@contextlib.contextmanager
def importable(folder: Path, import_name: str) -> Iterator[None]:
    """The package ``import_name`` generated into ``folder``, importable inside the block and
    forgotten after it (``sys.path`` and ``sys.modules``), so that another package of that name
    can follow in the same test run."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == import_name]:
            del sys.modules[name]
