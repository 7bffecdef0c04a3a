"""fal's model catalogue (the Platform API's ``GET /v1/models``) and ``falgen search``.

The catalogue finds models by id (up to 50 ``endpoint_id`` a request), lists a category, and
searches by free text, in pages joined by a cursor. With ``expand=openapi-3.0`` each model
carries its whole queue OpenAPI document, or an error object where fal could not expand it.
Each model's ``metadata`` (display name, category, description, status, tags...) is what
falgen keeps with the spec as ``info["x-fal-catalog"]``: only the keys that describe the model,
not those that change on every visit (``updated_at``, ``is_favorited``, ``highlighted``...),
so that refreshing an unchanged model changes no byte.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from .errors import printable
from .remote import (
    DEFAULT_CATALOG_URL,
    RUN_SECONDS,
    Deadline,
    FetchError,
    Getter,
    Params,
    add_base_url,
    parse_json_answer,
    resolve_hosts,
)

MODELS_PATH = "/v1/models"
EXPAND_OPENAPI = "openapi-3.0"
MAX_IDS_PER_REQUEST = 50
# A page of 50 expanded documents is about 1.5 MB; fal's largest document is about 25 kB.
MAX_PAGE_BYTES = 32 * 1024 * 1024
MAX_PAGES = 200
PAGE_SECONDS = 120.0  # one page, all attempts included
# The metadata keys kept with a spec, in this order: what the model is, not how it is shown.
STABLE_METADATA = (
    "display_name",
    "category",
    "description",
    "status",
    "tags",
    "kind",
    "license_type",
    "group",
    "model_url",
    "stream_url",
    "inference_endpoint_ids",
    "training_endpoint_ids",
)


@dataclass(frozen=True)
class Model:
    """One catalogue entry: the id, its stable metadata, and its document if it was expanded."""

    endpoint_id: str
    metadata: dict[str, Any]
    document: dict[str, Any] | None = None
    problem: str = ""  # why there is no document, when one was asked for

    @property
    def display_name(self) -> str:
        return str(self.metadata.get("display_name") or "")


def stable_metadata(metadata: Any) -> dict[str, Any]:
    """The keys of ``metadata`` worth keeping with a spec (see :data:`STABLE_METADATA`)."""
    if not isinstance(metadata, dict):
        return {}
    return {key: metadata[key] for key in STABLE_METADATA if metadata.get(key) is not None}


class Catalog:
    """The Platform API's model catalogue at ``base_url``, read through ``getter``."""

    def __init__(
        self,
        getter: Getter,
        base_url: str = DEFAULT_CATALOG_URL,
        page_seconds: float = PAGE_SECONDS,
    ) -> None:
        self.getter = getter
        self.url = base_url.rstrip("/") + MODELS_PATH
        self.page_seconds = page_seconds

    async def find(
        self, endpoint_ids: Sequence[str], deadline: Deadline, *, expand: bool = True
    ) -> dict[str, Model]:
        """The entries of ``endpoint_ids`` that the catalogue has, by id."""
        found: dict[str, Model] = {}
        for start in range(0, len(endpoint_ids), MAX_IDS_PER_REQUEST):
            batch = list(endpoint_ids[start : start + MAX_IDS_PER_REQUEST])
            params: dict[str, str | list[str]] = {"endpoint_id": batch}
            models = await self.pages(params, deadline, expand=expand)
            found.update(
                (model.endpoint_id, model) for model in models if model.endpoint_id in batch
            )
        return found

    async def search(
        self,
        deadline: Deadline,
        *,
        query: str | None = None,
        category: str | None = None,
        status: str | None = None,
        expand: bool = False,
        limit: int | None = None,
    ) -> list[Model]:
        """The models matching a free-text ``query``, a ``category``, a ``status``."""
        params = {
            name: value
            for name, value in (("q", query), ("category", category), ("status", status))
            if value
        }
        return await self.pages(params, deadline, expand=expand, limit=limit)

    async def pages(
        self,
        params: Params,
        deadline: Deadline,
        *,
        expand: bool,
        limit: int | None = None,
    ) -> list[Model]:
        """Every model of a query, following the cursor (at most ``limit`` models)."""
        base = {**params, **({"expand": EXPAND_OPENAPI} if expand else {})}
        models: list[Model] = []
        cursors: set[str] = set()
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page_params = {**base, **({"cursor": cursor} if cursor else {})}
            body = await self.getter.get(
                self.url,
                page_params,
                max_bytes=MAX_PAGE_BYTES,
                deadline=deadline.within(self.page_seconds),
            )
            entries, cursor = _page(body, expand=expand)
            models.extend(entries)
            if limit is not None and len(models) >= limit:
                return models[:limit]
            if cursor is None:
                return models
            if cursor in cursors:
                raise FetchError("the catalogue repeated a page cursor")
            cursors.add(cursor)
        raise FetchError(f"the catalogue answered more than {MAX_PAGES} pages")


def _page(body: bytes, *, expand: bool) -> tuple[list[Model], str | None]:
    """The models of one answer and the cursor of the next page (None when this is the last)."""
    answer = parse_json_answer(body, "the catalogue's answer")
    models = answer.get("models") if isinstance(answer, dict) else None
    if not isinstance(models, list):
        raise FetchError("the catalogue's answer has no list of models")
    entries = [model_of(item, expand=expand) for item in models]
    more = answer.get("has_more") is True
    cursor = answer.get("next_cursor")
    if more and not (isinstance(cursor, str) and cursor):
        raise FetchError("the catalogue says there is more but gives no cursor")
    return entries, cursor if more else None


def model_of(item: Any, *, expand: bool) -> Model:
    """One model of an answer (FetchError when it has no endpoint id): its stable metadata,
    and (``expand``) its document or why there is none."""
    endpoint_id = item.get("endpoint_id") if isinstance(item, dict) else None
    if not isinstance(endpoint_id, str) or not endpoint_id:
        raise FetchError("the catalogue's answer has a model without an endpoint_id")
    metadata = stable_metadata(item.get("metadata"))
    if not expand:
        return Model(endpoint_id, metadata)
    document = item.get("openapi")
    if not isinstance(document, dict):
        return Model(endpoint_id, metadata, problem="the catalogue sent no document")
    error = document.get("error")
    if "openapi" not in document and isinstance(error, dict):
        message = " ".join(str(error.get("message") or error.get("code") or "").split())
        return Model(
            endpoint_id, metadata, problem=f"the catalogue has no document: {message[:200]}"
        )
    return Model(endpoint_id, metadata, document)


# --------------------------------------------------------------------------------------------
# falgen search
# --------------------------------------------------------------------------------------------

STATUSES = ("active", "deprecated")


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "search",
    help: str | None = None,
) -> None:
    """Register ``falgen search``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=(
            "Search fal's model catalogue and print one model a line: endpoint id, display "
            "name, category, status. Exit status: 0 done (also when nothing matches), 1 the "
            "catalogue could not be read, 2 usage error."
        ),
    )
    parser.add_argument("query", nargs="?", metavar="QUERY", help="free text, e.g. flux")
    parser.add_argument("--category", metavar="NAME", help="only this category, e.g. text-to-image")
    parser.add_argument("--status", choices=STATUSES, help="only active or deprecated models")
    parser.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N models (default: 50)"
    )
    add_base_url(parser)
    parser.set_defaults(handler=run)


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    getter: Getter | None = None,
) -> int:
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    if not args.query and not args.category:
        print("falgen search: error: give a QUERY, a --category, or both", file=err)
        return 2
    if args.limit < 1:
        print("falgen search: error: --limit must be at least 1", file=err)
        return 2
    try:
        hosts = resolve_hosts(args.base_url)
    except ValueError as problem:
        print(f"falgen search: error: {problem}", file=err)
        return 2

    async def search() -> list[Model]:
        async with getter or Getter() as client:
            return await Catalog(client, hosts.catalog).search(
                Deadline(RUN_SECONDS),
                query=args.query,
                category=args.category,
                status=args.status,
                limit=args.limit,
            )

    try:
        models = asyncio.run(search())
    except FetchError as problem:
        print(f"falgen search: {printable(str(problem))}", file=err)
        return 1
    out.write(render_models(models))
    return 0


def render_models(models: Sequence[Model]) -> str:
    """Aligned columns of id, display name, category, status; server text made printable."""
    if not models:
        return "no models found\n"
    rows = [
        (
            printable(model.endpoint_id),
            printable(model.display_name) or "-",
            printable(str(model.metadata.get("category") or "-")),
            printable(str(model.metadata.get("status") or "-")),
        )
        for model in models
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3]
        for row in rows
    ]
    return "\n".join(lines) + "\n"
