"""fal's model catalogue (Platform API ``GET /v1/models``), answered from the specs.

Three modes, as fal documents them: list (no parameters), find (``endpoint_id``, 1 to 50 of
them) and search (``q``, ``category``, ``status``), which combine; ``limit`` and ``cursor``
paginate (the cursor encodes the page number, as fal's does), ``expand=openapi-3.0`` puts each
endpoint's whole document in its ``openapi`` field: also a document the loader refused (fal
publishes those too), and ``{"error": {"code", "message"}}`` where there is none (fal's own, when
the spec file holds the error fal answered). Invalid parameters are refused in fal's shape
``{"error": {"type", "message"}}``.

Each model's metadata is the spec's ``info["x-fal-catalog"]`` (what ``falgen fetch`` keeps of
fal's answer), every field of it; fields it lacks are filled from the rest of the document where
possible (category and thumbnail from ``x-fal-metadata``, description from
``x-falgen-summary``), else with neutral values: the endpoint id as display name, ``active``,
no tags, fal's public URL of the endpoint, and the Unix epoch for dates nobody recorded.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.schema import CATALOG_KEY

from .catalog import Listing

MAX_ENDPOINT_IDS = 50  # per find request, as on fal
DEFAULT_LIMIT = 50
MAX_LIMIT = 100  # larger limits are served as this many, as fal caps them
STATUSES = ("active", "deprecated")
OPENAPI_EXPANSION = "openapi-3.0"
# fal also expands this one; the local server has nothing to say about enterprise approval.
ENTERPRISE_EXPANSION = "enterprise_status"
EXPANSIONS = (OPENAPI_EXPANSION, ENTERPRISE_EXPANSION)
UNKNOWN_DATE = "1970-01-01T00:00:00Z"
PUBLIC_RUN_URL = "https://fal.run/"


class QueryError(Exception):
    """The query cannot be answered; ``status`` and ``kind`` as fal's ``error.type``."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class ModelQuery:
    """A ``GET /v1/models`` request, checked."""

    endpoint_ids: tuple[str, ...] = ()
    text: str | None = None
    category: str | None = None
    status: str | None = None
    expand: frozenset[str] = frozenset()
    limit: int = DEFAULT_LIMIT
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str], lists: Mapping[str, list[str]]) -> ModelQuery:
        """From query parameters (``lists`` gives the repeated ones); raises QueryError."""
        endpoint_ids = tuple(dict.fromkeys(lists.get("endpoint_id", [])))
        if len(endpoint_ids) > MAX_ENDPOINT_IDS:
            raise _invalid(f"endpoint_id takes 1 to {MAX_ENDPOINT_IDS} ids")
        status = params.get("status")
        if status is not None and status not in STATUSES:
            raise _invalid(f"status must be one of {', '.join(STATUSES)}")
        expand = frozenset(lists.get("expand", []))
        if unknown := sorted(expand - set(EXPANSIONS)):
            raise _invalid(f"cannot expand {', '.join(unknown)}; known: {', '.join(EXPANSIONS)}")
        return cls(
            endpoint_ids=endpoint_ids,
            text=params.get("q") or None,
            category=params.get("category") or None,
            status=status,
            expand=expand,
            limit=min(_positive(params.get("limit"), "limit", DEFAULT_LIMIT), MAX_LIMIT),
            page=_page(params.get("cursor")),
        )

    def matches(self, listing: Listing, metadata: Mapping[str, Any]) -> bool:
        if self.category is not None and metadata.get("category") != self.category:
            return False
        if self.status is not None and metadata.get("status") != self.status:
            return False
        return self.text is None or _mentions(listing.endpoint_id, metadata, self.text)


def cursor_of(page: int) -> str:
    """The cursor of a page: its number, base64-encoded (page 2 is ``Mg==``), as fal's."""
    return base64.b64encode(str(page).encode()).decode("ascii")


def search(listings: Sequence[Listing], query: ModelQuery) -> dict[str, Any]:
    """The answer to ``query`` over ``listings`` (in endpoint id order)."""
    if query.endpoint_ids:
        by_id = {listing.endpoint_id: listing for listing in listings}
        chosen = [by_id[name] for name in query.endpoint_ids if name in by_id]
        if not chosen:
            raise QueryError(404, "not_found", "none of the endpoint ids is known")
    else:
        chosen = list(listings)
    found = [
        (listing, metadata)
        for listing in chosen
        if query.matches(listing, metadata := metadata_of(listing))
    ]
    start = (query.page - 1) * query.limit
    page = found[start : start + query.limit]
    more = start + query.limit < len(found)
    return {
        "models": [_model(listing, metadata, query.expand) for listing, metadata in page],
        "next_cursor": cursor_of(query.page + 1) if more else None,
        "has_more": more,
    }


def metadata_of(listing: Listing) -> dict[str, Any]:
    """The endpoint's catalogue metadata: ``x-fal-catalog``, completed (see the module)."""
    info = listing.info
    catalog = info.get(CATALOG_KEY)
    catalog = catalog if isinstance(catalog, dict) else {}
    fal = info.get("x-fal-metadata")
    fal = fal if isinstance(fal, dict) else {}
    defaults: dict[str, Any] = {
        "display_name": listing.endpoint_id,
        "category": _text(fal.get("category")),
        "description": _text(info.get("x-falgen-summary")),
        "status": "active",
        "tags": [],
        "updated_at": UNKNOWN_DATE,
        "is_favorited": None,  # as fal answers callers it does not know
        "thumbnail_url": _text(fal.get("thumbnailUrl")),
        "model_url": PUBLIC_RUN_URL + listing.endpoint_id,
        "date": UNKNOWN_DATE,
        "highlighted": False,
        "pinned": False,
    }
    return {**defaults, **{key: value for key, value in catalog.items() if value is not None}}


def _model(listing: Listing, metadata: dict[str, Any], expand: frozenset[str]) -> dict[str, Any]:
    model: dict[str, Any] = {"endpoint_id": listing.endpoint_id, "metadata": metadata}
    if OPENAPI_EXPANSION in expand:
        model["openapi"] = _expanded(listing)
    if ENTERPRISE_EXPANSION in expand:
        model["enterprise_status"] = _expansion_error("not known to the local server")
    return model


def _expanded(listing: Listing) -> dict[str, Any]:
    """The document as fal publishes it: without the catalogue metadata that ``falgen fetch``
    keeps in its ``info`` (fal answers that as ``metadata``)."""
    document = listing.document
    if document is None:
        problem = f"OpenAPI schema not available for this endpoint: {listing.problem}"
        return _expansion_error(problem)
    info = document.get("info")
    if not isinstance(info, dict) or CATALOG_KEY not in info:
        return document
    return {
        **document,
        "info": {key: value for key, value in info.items() if key != CATALOG_KEY},
    }


def _expansion_error(message: str) -> dict[str, Any]:
    return {"error": {"code": "expansion_failed", "message": message}}


def _mentions(endpoint_id: str, metadata: Mapping[str, Any], text: str) -> bool:
    """Whether every word of ``text`` appears (case-insensitively) in the endpoint's id, name,
    description, category or tags."""
    tags = metadata.get("tags")
    fields: Iterable[Any] = [
        endpoint_id,
        metadata.get("display_name"),
        metadata.get("description"),
        metadata.get("category"),
        *(tags if isinstance(tags, list) else []),
    ]
    haystack = " ".join(str(field) for field in fields if field is not None).casefold()
    return all(word in haystack for word in text.casefold().split())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _invalid(message: str) -> QueryError:
    return QueryError(400, "validation_error", message)


def _positive(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise _invalid(f"{name} must be a positive integer") from None
    if value < 1:
        raise _invalid(f"{name} must be a positive integer")
    return value


def _page(cursor: str | None) -> int:
    if cursor is None:
        return 1
    try:
        decoded = base64.b64decode(cursor, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    if not decoded.isdigit() or int(decoded) < 1:
        raise _invalid("invalid cursor: pass the next_cursor of a previous answer")
    return int(decoded)
