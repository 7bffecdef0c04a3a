"""The endpoints the server speaks for, built from the loaded specs.

fal addresses a submitted request by its *app* (``owner/alias``, one more leading segment for the
``workflows/`` and ``comfy/`` namespaces), not by the full endpoint id; this module is where that
rule and the lookups built on it live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.loader import SpecDocument

from .schemas import SchemaSet

APP_NAMESPACES = ("workflows", "comfy")


def app_id_of(endpoint_id: str) -> str:
    """The app part of an endpoint id: ``fal-ai/flux-1/schnell`` -> ``fal-ai/flux-1``."""
    parts = endpoint_id.split("/")
    size = 3 if parts[0] in APP_NAMESPACES else 2
    return "/".join(parts[:size])


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: its spec, its app and the schemas to validate against."""

    endpoint_id: str
    app_id: str
    spec: SpecDocument
    schemas: SchemaSet
    streaming: bool
    realtime: bool

    @property
    def alias(self) -> str:
        return self.app_id.rsplit("/", 1)[-1]

    @property
    def input_component(self) -> str:
        return self.spec.input_schema

    @property
    def output_component(self) -> str:
        return self.spec.output_schema

    def input_errors(self, payload: Any) -> list[dict[str, Any]]:
        return self.schemas.errors(self.input_component, payload)

    def output_errors(self, payload: Any) -> list[dict[str, Any]]:
        return self.schemas.errors(self.output_component, payload)

    def with_defaults(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The input as the model sees it: top-level defaults filled in, as pydantic does."""
        properties = self.schemas.components[self.input_component].get("properties", {})
        filled = {
            name: schema["default"]
            for name, schema in properties.items()
            if isinstance(schema, dict) and "default" in schema
        }
        return {**filled, **payload}


class Catalog:
    """All endpoints by id, with the app-level lookups fal's URLs need."""

    def __init__(self, specs: Iterable[SpecDocument]) -> None:
        self._endpoints: dict[str, Endpoint] = {}
        for spec in specs:
            capabilities = spec.document["info"].get("x-falgen-capabilities", [])
            self._endpoints[spec.endpoint_id] = Endpoint(
                endpoint_id=spec.endpoint_id,
                app_id=app_id_of(spec.endpoint_id),
                spec=spec,
                schemas=SchemaSet(spec.schemas),
                streaming="streaming" in capabilities,
                realtime="realtime" in capabilities,
            )

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(self._endpoints.values())

    def get(self, endpoint_id: str) -> Endpoint | None:
        return self._endpoints.get(endpoint_id)

    def realtime_endpoint(self, path: str) -> Endpoint | None:
        """The realtime endpoint a websocket path names: an endpoint id, or an app with exactly
        one realtime endpoint (official clients connect to ``<app>/realtime``)."""
        endpoint = self._endpoints.get(path)
        if endpoint is not None:
            return endpoint if endpoint.realtime else None
        matches = [e for e in self._endpoints.values() if e.app_id == path and e.realtime]
        return matches[0] if len(matches) == 1 else None
