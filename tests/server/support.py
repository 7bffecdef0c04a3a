"""Helpers shared by the local server's tests."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from generator.loader import SpecDocument, load_spec_bytes
from generator.server import ServerURLs

ROOT = Path(__file__).resolve().parents[2]
SPECS_DIR = ROOT / "specs"
REAL_SPECS_DIR = ROOT.parent / "shared" / "realspecs"
# fal's catalogue as the Platform API answers it, one file per category (see its README).
KEY = "test-key-id:test-key-secret"
AUTH = {"Authorization": f"Key {KEY}"}
FLUX = "fal-ai/flux-1/schnell"


def output_validator(spec: SpecDocument) -> Draft202012Validator:
    """An independent check of outputs: the spec's own components, unconverted."""
    root = {
        "$ref": f"#/components/schemas/{spec.output_schema}",
        "components": {"schemas": spec.schemas},
    }
    return Draft202012Validator(root)


def wait_until(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise AssertionError(f"condition not met within {timeout} s")


def complete(client: httpx.Client, submitted: dict[str, Any]) -> dict[str, Any]:
    """Poll a submitted request's status until COMPLETED; return the final status."""

    def finished() -> dict[str, Any] | None:
        status: dict[str, Any] = client.get(submitted["status_url"], params={"logs": 1}).json()
        return status if status["status"] == "COMPLETED" else None

    result: dict[str, Any] = wait_until(finished)
    return result


def stats(client: httpx.Client, urls: ServerURLs) -> dict[str, Any]:
    body: dict[str, Any] = client.get(urls.admin + "/stats", headers=urls.admin_headers).json()
    return body


def build_spec(
    endpoint_id: str,
    input_properties: dict[str, Any],
    output_properties: dict[str, Any],
    *,
    output_required: list[str] | None = None,
    schemas: dict[str, Any] | None = None,
    capabilities: list[str] | None = None,
    info: dict[str, Any] | None = None,
) -> SpecDocument:
    """A small queue OpenAPI document in fal's shape (``info`` added to its own), loaded like a
    file from specs/."""
    request = f"/{endpoint_id}/requests/{{request_id}}"

    def reply(component: str) -> dict[str, Any]:
        content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}
        return {"responses": {"200": {"description": "ok", "content": content}}}

    document_info: dict[str, Any] = {
        "title": f"Queue OpenAPI for {endpoint_id}",
        "x-fal-metadata": {"endpointId": endpoint_id},
        **(info or {}),
    }
    if capabilities:
        document_info["x-falgen-capabilities"] = capabilities
    document = {
        "openapi": "3.0.4",
        "info": document_info,
        "paths": {
            f"/{endpoint_id}": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/In"}}
                        }
                    },
                    **reply("QueueStatus"),
                }
            },
            request: {"get": reply("Out")},
            request + "/status": {"get": reply("QueueStatus")},
            request + "/cancel": {"put": reply("QueueStatus")},
        },
        "components": {
            "schemas": {
                "QueueStatus": {"type": "object", "properties": {"status": {"type": "string"}}},
                "In": {"type": "object", "properties": input_properties},
                "Out": {
                    "type": "object",
                    "properties": output_properties,
                    "required": output_required or list(output_properties),
                },
                **(schemas or {}),
            }
        },
    }
    return load_spec_bytes(endpoint_id + ".json", json.dumps(document).encode())
