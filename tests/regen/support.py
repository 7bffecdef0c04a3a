"""Helpers for the regeneration tests: the base fixture spec and a scripted local HTTP server."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.helpers import CATALOG

FIXTURES = Path(__file__).parent / "fixtures"
# fal's catalogue as the Platform API answered it, one file per category (read in place).
BASE_ID = "acme/widget"
OPENAPI_PATH = "/api/openapi/queue/openapi.json"
CATALOG_PATH = "/v1/models"

Document = dict[str, Any]


def base_spec() -> Document:
    """A fresh copy of the base fixture: a small fal queue document for ``acme/widget``."""
    loaded: Document = json.loads((FIXTURES / "widget.json").read_text(encoding="utf-8"))
    return loaded


def spec_for(endpoint_id: str, document: Document | None = None) -> Document:
    """The base spec (or ``document``) re-targeted at another endpoint id."""
    text = json.dumps(base_spec() if document is None else document)
    retargeted: Document = json.loads(text.replace(BASE_ID, endpoint_id))
    return retargeted


def edited(edit: Callable[[Document], object], document: Document | None = None) -> Document:
    """A copy of the base spec (or ``document``) after ``edit`` changed it in place."""
    copied = copy.deepcopy(base_spec() if document is None else document)
    edit(copied)
    return copied


def schemas(document: Document) -> dict[str, Any]:
    found: dict[str, Any] = document["components"]["schemas"]
    return found


def prop(document: Document, component: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = schemas(document)[component]["properties"][name]
    return found


def write_spec(specs_dir: Path, document: Document, endpoint_id: str = BASE_ID) -> Path:
    path = specs_dir.joinpath(*endpoint_id.split("/")).with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


class Sleeps:
    """Records the pauses a fetcher asks for instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# --------------------------------------------------------------------------------------------
# Scripted server
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``cut_at`` sends only that many body bytes, then hangs up."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut_at: int | None = None

    @classmethod
    def json(cls, document: object, status: int = 200, **headers: str) -> Reply:
        body = json.dumps(document).encode()
        return cls(status, body, {"Content-Type": "application/json", **headers})


@dataclass(frozen=True)
class Seen:
    path: str
    endpoint_id: str | None
    headers: dict[str, str]
    query: dict[str, list[str]] = field(default_factory=dict)


def shared_catalog() -> list[dict[str, Any]]:
    """Every model of ``../shared/catalog`` (the test is skipped when it is absent)."""
    import pytest

    if not CATALOG.is_dir():
        pytest.skip(f"{CATALOG} is not there")
    return [
        model
        for path in sorted(CATALOG.glob("*.json"))
        for model in json.loads(path.read_text(encoding="utf-8"))["models"]
    ]


def catalog_model(
    endpoint_id: str, document: Document | None = None, **metadata: Any
) -> dict[str, Any]:
    """A catalogue entry as fal's Platform API answers it (``openapi`` only when expanded)."""
    return {
        "endpoint_id": endpoint_id,
        "metadata": {
            "display_name": endpoint_id.rsplit("/", 1)[-1].title(),
            "category": "text-to-image",
            "description": f"The {endpoint_id} model.",
            "status": "active",
            "tags": [],
            "updated_at": "2026-01-01T00:00:00Z",
            "is_favorited": False,
            "highlighted": False,
            "pinned": False,
            **metadata,
        },
        "openapi": spec_for(endpoint_id) if document is None else document,
    }


class SpecServer:
    """Serves fal's two ways to a document on 127.0.0.1: the per-endpoint document URL, with
    scripted replies per endpoint id (used in turn, the last one repeats; unknown ids get 404),
    and the Platform API's catalogue ``/v1/models`` from :attr:`catalog` (find by id, category,
    free text, status, expand, cursor pages of :attr:`page_size`), unless :attr:`catalog_replies`
    holds scripted answers for it (used in turn, the last one repeats).
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Reply]] = {}
        self.catalog: list[dict[str, Any]] = []
        self.catalog_replies: list[Reply] = []
        self.page_size = 50
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server._answer(self)

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, endpoint_id: str, *replies: Reply) -> None:
        with self._lock:
            self.scripts[endpoint_id] = list(replies)

    def calls(self, endpoint_id: str) -> int:
        """Requests to the document URL of ``endpoint_id``."""
        return sum(
            1
            for seen in self.requests
            if seen.path == OPENAPI_PATH and seen.endpoint_id == endpoint_id
        )

    def catalog_calls(self) -> list[dict[str, list[str]]]:
        return [seen.query for seen in self.requests if seen.path == CATALOG_PATH]

    def _catalog_answer(self, query: dict[str, list[str]]) -> Reply:
        with self._lock:
            if self.catalog_replies:
                replies = self.catalog_replies
                return replies.pop(0) if len(replies) > 1 else replies[0]
        ids = query.get("endpoint_id", [])
        if len(ids) > 50:
            return Reply.json({"error": {"type": "bad_request", "message": "50 ids at most"}}, 400)
        words = query.get("q", [""])[0].lower().split()

        def matches(model: dict[str, Any]) -> bool:
            metadata = model["metadata"]
            text = f"{model['endpoint_id']} {metadata['display_name']}".lower()
            return (
                (not ids or model["endpoint_id"] in ids)
                and all(word in text for word in words)
                and query.get("category", [metadata["category"]])[0] == metadata["category"]
                and query.get("status", [metadata["status"]])[0] == metadata["status"]
            )

        found = [model for model in self.catalog if matches(model)]
        start = int(query.get("cursor", ["0"])[0])
        page = found[start : start + self.page_size]
        if "openapi-3.0" not in query.get("expand", []):
            page = [{key: value for key, value in m.items() if key != "openapi"} for m in page]
        more = start + self.page_size < len(found)
        cursor = str(start + self.page_size) if more else None
        return Reply.json({"models": page, "next_cursor": cursor, "has_more": more})

    def _next(self, endpoint_id: str | None) -> Reply:
        with self._lock:
            replies = self.scripts.get(endpoint_id or "")
            if not replies:
                return Reply.json({"detail": "Not Found"}, status=404)
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        endpoint_id = query.get("endpoint_id", [None])[0]
        with self._lock:
            seen = Seen(url.path, endpoint_id, dict(handler.headers.items()), query)
            self.requests.append(seen)
        if url.path == OPENAPI_PATH:
            reply = self._next(endpoint_id)
        elif url.path == CATALOG_PATH:
            reply = self._catalog_answer(query)
        else:
            reply = Reply.json({"detail": "Not Found"}, status=404)
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body if reply.cut_at is None else reply.body[: reply.cut_at])
        handler.wfile.flush()
        handler.close_connection = True

    @contextmanager
    def running(self) -> Iterator[SpecServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
