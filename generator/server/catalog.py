"""The endpoints the server speaks for, built from the loaded specs, and the catalogue that lists
them (with the specs that could not be loaded, as fal lists endpoints it cannot document).

fal addresses a submitted request by its *app* (``owner/alias``, one more leading segment for the
``workflows/`` and ``comfy/`` namespaces), not by the full endpoint id; this module is where that
rule and the lookups built on it live.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import SpecError, SpecErrors
from generator.loader import SpecDocument, SpecFiles, read_spec
from generator.schema import unpublished

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


@dataclass(frozen=True)
class Unavailable:
    """A spec file that could not be loaded: listed in the catalogue, not served.

    ``document`` is what the catalogue expands it to, where the file holds one: an OpenAPI
    document that the loader refused (fal publishes such documents too), or the error object
    fal answered instead of a document. ``info`` is that document's ``info``.
    """

    endpoint_id: str
    problem: str  # the loader's first complaint, ``file: #/pointer: message``
    document: dict[str, Any] | None = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Listing:
    """One endpoint as the model catalogue lists it: its document (or fal's error object in its
    place), or why there is none."""

    endpoint_id: str
    info: dict[str, Any]
    document: dict[str, Any] | None
    problem: str | None = None


@dataclass(frozen=True)
class LoadedSpecs:
    documents: list[SpecDocument]
    unavailable: list[Unavailable]


def load_served_specs(folder: Path) -> LoadedSpecs:
    """Every spec in ``folder`` that loads, and the others as :class:`Unavailable`: one bad
    document must not take the server down with it. Raises SpecErrors when the folder itself
    is missing."""
    if not folder.is_dir():
        raise SpecErrors([SpecError(str(folder), "#", "specs folder does not exist")])
    loaded = LoadedSpecs([], [])
    files = SpecFiles.walk(folder)  # links out of the folder are not followed (see reading.py)
    for source in files.specs:
        raw = b""
        try:
            spec = files.take(source)
            raw = spec.raw
            if spec.overlay_errors is not None:
                raise spec.overlay_errors
            # As the generator loads it: with its overlay, repaired where it can be (see the
            # loader); a degraded endpoint is still served.
            loaded.documents.append(read_spec(source, raw, spec.overlay))
        except SpecErrors as problems:
            document = _listable(raw)
            info = document.get("info") if document is not None else None
            loaded.unavailable.append(
                Unavailable(
                    source.removesuffix(".json"),
                    str(problems.errors[0]),
                    document,
                    info if isinstance(info, dict) else {},
                )
            )
        except OSError as problem:
            loaded.unavailable.append(
                Unavailable(source.removesuffix(".json"), f"{source}: {problem.strerror}")
            )
    return loaded


def _listable(raw: bytes) -> dict[str, Any] | None:
    """What the catalogue can expand a file that failed to load to: an OpenAPI document (an
    object with ``openapi``) or fal's error object (``{"error": {"code", "message"}}``)."""
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    error = document.get("error")
    if isinstance(error, dict) and set(document) == {"error"}:
        fields = (error.get("code"), error.get("message"))
        return document if all(isinstance(value, str) for value in fields) else None
    return document if "openapi" in document else None


class Catalog:
    """All endpoints by id, with the app-level lookups fal's URLs need, and the catalogue
    listing (``unavailable``: specs that are listed but not served)."""

    def __init__(
        self, specs: Iterable[SpecDocument], unavailable: Iterable[Unavailable] = ()
    ) -> None:
        self._unavailable = list(unavailable)
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

    @functools.cached_property
    def listings(self) -> list[Listing]:
        """Every endpoint of the catalogue, served or not, in endpoint id order; not those fal
        publishes no longer (``x-falgen-unpublished``): they are served, but fal's catalogue
        does not list them."""
        listings = [
            Listing(e.endpoint_id, e.spec.document["info"], e.spec.original) for e in self
        ] + [Listing(u.endpoint_id, u.info, u.document, u.problem) for u in self._unavailable]
        return sorted(
            (listing for listing in listings if not unpublished(listing.info)),
            key=lambda listing: listing.endpoint_id,
        )

    def realtime_endpoint(self, path: str) -> Endpoint | None:
        """The realtime endpoint a websocket path names: an endpoint id, or an app with exactly
        one realtime endpoint (official clients connect to ``<app>/realtime``)."""
        endpoint = self._endpoints.get(path)
        if endpoint is not None:
            return endpoint if endpoint.realtime else None
        matches = [e for e in self._endpoints.values() if e.app_id == path and e.realtime]
        return matches[0] if len(matches) == 1 else None
