"""Assemble the ASGI application from the specs and a configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from generator.errors import printable
from generator.loader import SpecDocument

from .auth import KeyChecker, TokenStore
from .catalog import Catalog, Unavailable
from .config import Host, ServerConfig
from .connections import ConnectionRegistry
from .context import ServerContext
from .faults import FaultInjector
from .files import FileStore
from .model import Model
from .outcomes import error_response, platform_error
from .queue import RequestQueue
from .routes import admin, cdn, platform, queue, realtime, rest, run
from .stats import Stats
from .urls import API_PREFIX, host_name, is_loopback_name, root_path_to
from .webhooks import WebhookSender, WebhookSigner


def build_context(
    specs: Sequence[SpecDocument],
    config: ServerConfig,
    connections: ConnectionRegistry,
    unavailable: Sequence[Unavailable] = (),
) -> ServerContext:
    """Every component of the server, wired together."""
    stats = Stats()
    files = FileStore()
    faults = FaultInjector(config.faults, config.seed)
    model = Model(files, faults, config.seed)
    signer = WebhookSigner()
    webhooks = WebhookSender(signer, config.webhook_user_id, stats)
    return ServerContext(
        config=config,
        catalog=Catalog(specs, unavailable),
        keys=KeyChecker(config.accepted_keys),
        realtime_tokens=TokenStore(),
        cdn_tokens=TokenStore(),
        upload_signatures=TokenStore(),
        files=files,
        stats=stats,
        faults=faults,
        model=model,
        queue=RequestQueue(config, model, stats, webhooks, connections.closing),
        signer=signer,
        connections=connections,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and wrong methods answer in fal's JSON error shape (the Platform API's
    under its prefix), not plain text."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.url.path.startswith(API_PREFIX + "/"):
        return platform_error(exc.status_code, exc.detail, None, headers)
    return error_response(exc.status_code, exc.detail, headers=headers)


class HostCheck:
    """Refuses requests whose Host header names another server: the defence against DNS
    rebinding, where a web page's own domain is re-pointed at 127.0.0.1 and the browser then
    lets the page talk to the local server. Loopback names, and the names the configuration
    allows, pass."""

    def __init__(self, app: ASGIApp, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = frozenset(host_name(name) for name in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            header = Headers(scope=scope).get("host", "")
            name = host_name(header)
            if not (is_loopback_name(name) or name in self.allowed):
                detail = f"Invalid Host header {printable(header)!r}: this server is not that host"
                if scope["type"] == "websocket":  # refused before the handshake: HTTP 403
                    await send({"type": "websocket.close", "code": 1008, "reason": detail})
                else:
                    await error_response(400, detail)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RootHost:
    """Serves one host's API at the root path too (``ServerConfig.root_host``) by adding its
    prefix to every request path that has none."""

    def __init__(self, app: ASGIApp, host: Host) -> None:
        self.app = app
        self.host: Host = host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = root_path_to(self.host, scope["path"])
            if path != scope["path"]:
                prefix = path[: len(path) - len(scope["path"])].encode()
                raw_path = scope.get("raw_path") or scope["path"].encode()
                scope = {**scope, "path": path, "raw_path": prefix + raw_path}
        await self.app(scope, receive, send)


def create_app(
    specs: Sequence[SpecDocument],
    config: ServerConfig | None = None,
    *,
    connections: ConnectionRegistry | None = None,
    unavailable: Sequence[Unavailable] = (),
) -> Starlette:
    """The local fal-compatible server for ``specs``.

    ``connections`` is the registry that the server's HTTP protocol fills (see
    :func:`generator.server.connections.protocol_class`); it lets injected drops close real
    connections. :func:`generator.server.running_server` wires both up. ``unavailable``: specs
    that did not load, listed in the model catalogue without a document.
    """
    config = config or ServerConfig()
    context = build_context(specs, config, connections or ConnectionRegistry(), unavailable)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await context.queue.close()

    allowed_hosts = set(config.allowed_hosts)
    if config.public_url is not None:
        allowed_hosts.add(urlsplit(config.public_url).hostname or "")
    middleware = [Middleware(HostCheck, allowed=frozenset(allowed_hosts))]
    if config.root_host is not None:
        middleware.append(Middleware(RootHost, host=config.root_host))
    return Starlette(
        routes=[
            *admin.routes(context),
            *queue.routes(context),
            *run.routes(context),
            *rest.routes(context),
            *platform.routes(context),
            *cdn.routes(context),
            *realtime.routes(context),
        ],
        exception_handlers={HTTPException: _http_error},
        middleware=middleware,
        lifespan=lifespan,
    )
