"""State shared by the routes, and the guard every API request passes through.

The guard is where fal's cross-cutting behaviour lives, in the order a gateway applies it: count
the request, check the key (or token), then inject the configured faults around the handler.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse

from .auth import KeyChecker, TokenStore
from .catalog import Catalog
from .config import Route, ServerConfig
from .connections import ConnectionRegistry, DropConnection
from .faults import FaultInjector
from .files import FileStore
from .model import Model
from .outcomes import ERROR_TYPES_BY_STATUS, REQUEST_ID_HEADER, ErrorAnswer, error_response
from .queue import RequestQueue
from .schemas import detail_item
from .stats import Stats, SubmitOutcome
from .urls import ServerURLs
from .webhooks import WebhookSigner

Handler = Callable[[Request], Awaitable[Response]]
# "cdn_token": a storage token (Bearer), or the signature of a presigned upload URL for the file;
# "optional_key": none needed, but one that is sent must be valid.
Auth = Literal["key", "optional_key", "cdn_token", "none"]
# The query parameter of a presigned upload URL (see routes/rest.py) that authorises it.
SIGNATURE_QUERY = "signature"
MAX_BODY_DEPTH = 64
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(Exception):
    """The request body cannot be used; ``response`` is the answer to give."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class ServerContext:
    config: ServerConfig
    catalog: Catalog
    keys: KeyChecker
    realtime_tokens: TokenStore
    cdn_tokens: TokenStore
    upload_signatures: TokenStore  # of presigned upload URLs, each for one file id
    files: FileStore
    stats: Stats
    faults: FaultInjector
    model: Model
    queue: RequestQueue
    signer: WebhookSigner
    connections: ConnectionRegistry

    def urls_for(self, connection: HTTPConnection) -> ServerURLs:
        """The server's URLs as this client reaches them (or as configured to be public)."""
        base = self.config.public_url or str(connection.base_url)
        if base.startswith("ws"):  # a websocket's own URL: ws:// -> http://, wss:// -> https://
            base = "http" + base.removeprefix("ws")
        return ServerURLs.from_base(base)

    async def guarded(
        self,
        route: Route,
        request: Request,
        handler: Handler,
        auth: Auth,
        errors: ErrorAnswer = error_response,
    ) -> Response:
        """``handler``'s answer, after the checks and faults of ``route``; ``errors`` builds the
        error answers (in the shape of the API the route belongs to)."""
        self.stats.routes[route] += 1
        checks_key = auth == "key" or (
            auth == "optional_key" and "authorization" in request.headers
        )
        if checks_key and (problem := self.keys.problem(request)) is not None:
            return errors(401, problem, None, None)
        if auth == "cdn_token" and not self._may_upload(request):
            problem = "Missing or expired storage token or upload signature"
            return errors(401, problem, None, None)
        decision = self.faults.decide(route)
        if decision.slow:
            await asyncio.sleep(self.config.faults.slow_delay)
        if decision.failure == "error":
            status = self.config.faults.error_status
            await self._unprocessed(route, request, "server_error")
            error_type = ERROR_TYPES_BY_STATUS.get(status, "internal_error")
            return errors(status, "Simulated server error", error_type, None)
        if decision.failure == "rate_limit":
            await self._unprocessed(route, request, "rate_limited")
            retry_after = {"Retry-After": str(self.config.faults.retry_after)}
            return errors(429, "Rate limit exceeded", None, retry_after)
        dropping = decision.failure == "drop"
        if dropping and not self.config.faults.drop_after_processing:
            await self._unprocessed(route, request, "dropped_unprocessed")
            return DropConnection(self.connections)
        response = await handler(request)
        if dropping:
            if route == "submit" and (request_id := response.headers.get(REQUEST_ID_HEADER)):
                self.stats.record_reply_dropped(request_id)
            streaming = isinstance(response, StreamingResponse)
            return DropConnection(self.connections, response if streaming else None)
        return response

    def _may_upload(self, request: Request) -> bool:
        signature = request.query_params.get(SIGNATURE_QUERY)
        if signature is not None:
            file_id = request.path_params.get("file_id", "")
            return self.upload_signatures.valid(signature, (file_id,))
        return self.cdn_tokens.bearer_valid(request)

    async def _unprocessed(self, route: Route, request: Request, outcome: SubmitOutcome) -> None:
        """Record a submission that a fault stops before the handler sees it, by its input: the
        proof that a client which sends it again is not submitting twice."""
        if route != "submit":
            return
        try:
            payload = await self.read_json(request)
        except BodyError:
            return  # not an input the handler would have queued either
        self.stats.record_unprocessed_submission(
            request.path_params.get("endpoint_id", ""), payload, outcome
        )

    def route(
        self,
        route: Route,
        handler: Handler,
        auth: Auth = "key",
        errors: ErrorAnswer = error_response,
    ) -> Handler:
        """``handler`` behind the guard, as a Starlette endpoint."""

        async def endpoint(request: Request) -> Response:
            return await self.guarded(route, request, handler, auth, errors)

        return endpoint

    async def read_body(self, request: Request, limit: int | None = None) -> bytes:
        """The raw body, refusing one over ``limit`` (default: the upload limit) as soon as its
        declared length or the bytes received so far show it."""
        limit = self.config.max_upload_bytes if limit is None else limit
        too_large = BodyError(error_response(413, f"Request body exceeds {limit} bytes"))
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_json(self, request: Request) -> Any:
        """The JSON body (at most ``max_request_bytes``), or a 422 like FastAPI's when it is
        not usable JSON."""
        raw = await self.read_body(request, self.config.max_request_bytes)
        try:
            return decode_body(lambda: json.loads(raw))
        except ValueError as problem:
            item = detail_item(["body"], f"Invalid JSON: {problem}", "json_invalid", None)
            raise BodyError(error_response(422, [item])) from None


def decode_body(decode: Callable[[], Any]) -> Any:
    """What ``decode`` makes of a request body, refused (ValueError) when it cannot be used: not
    decodable, nested deeper than :data:`MAX_BODY_DEPTH` (no input is; deeper ones only serve to
    exhaust the stack of whatever reads them next) or holding a lone surrogate, which no UTF-8
    answer could echo."""
    try:
        value = decode()
    except RecursionError:
        raise ValueError(f"nested more than {MAX_BODY_DEPTH} levels deep") from None
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str) and _LONE_SURROGATE.search(node):
            raise ValueError("a string holds a lone surrogate, which is not Unicode text")
        if isinstance(node, dict | list):
            if depth >= MAX_BODY_DEPTH:
                raise ValueError(f"nested more than {MAX_BODY_DEPTH} levels deep")
            children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return value


def sse_event(data: Any) -> bytes:
    """One Server-Sent Event carrying ``data`` as JSON."""
    return f"data: {json.dumps(data)}\n\n".encode()


def truthy(value: str | None) -> bool:
    """Query flags as clients send them: ``logs=1`` (curl, docs) or ``logs=true`` (httpx)."""
    return (value or "").strip().lower() in ("1", "true", "yes", "on")
