"""Test controls that fal does not have: counters, reset, and releasing held requests.

They are for the test or developer on the same machine: only loopback callers that send the
server's admin token (``Authorization: Bearer <token>``, printed by ``falgen serve``) get in, so
that neither a web page in a browser nor another machine (with ``--allow-remote``) can read the
inputs in the stats or steer the server. The index ``/`` (hosts and endpoints) is public.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import ServerContext
from ..outcomes import error_response
from ..urls import ADMIN_PREFIX, is_loopback_name


def admin_only(
    token: str, handler: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """``handler`` for loopback callers that send the admin token."""
    expected = f"Bearer {token}".encode()

    async def guarded(request: Request) -> Response:
        if request.client is None or not is_loopback_name(request.client.host):
            return error_response(403, "The admin controls answer only this machine")
        sent = request.headers.get("authorization", "").strip().encode()
        if not hmac.compare_digest(sent, expected):
            return error_response(401, "Send the server's admin token: Authorization: Bearer ...")
        return await handler(request)

    return guarded


def routes(ctx: ServerContext) -> list[BaseRoute]:
    token = ctx.config.admin_token

    async def index(request: Request) -> Response:
        urls = ctx.urls_for(request)
        return JSONResponse(
            {
                "server": "falgen local fal-compatible server",
                "hosts": {
                    "queue": urls.queue,
                    "run": urls.run,
                    "rest": urls.rest,
                    "api": urls.api,
                    "realtime": urls.realtime,
                    "cdn": urls.cdn,
                    "admin": urls.admin,
                },
                "endpoints": [
                    {
                        "endpoint_id": endpoint.endpoint_id,
                        "app_id": endpoint.app_id,
                        "streaming": endpoint.streaming,
                        "realtime": endpoint.realtime,
                    }
                    for endpoint in ctx.catalog
                ],
            }
        )

    async def stats(request: Request) -> Response:
        snapshot = ctx.stats.snapshot(ctx.faults.injected)
        snapshot["connections"] = ctx.connections.opened
        return JSONResponse(snapshot)

    async def reset(request: Request) -> Response:
        ctx.stats.reset()
        ctx.faults.reset()
        ctx.connections.opened = 0
        return JSONResponse({"reset": True})

    async def release(request: Request) -> Response:
        request_id = request.path_params["request_id"]
        queued = ctx.queue.get(request_id)
        if queued is None:
            return error_response(404, f"Request {request_id!r} not found")
        if not ctx.queue.release(queued):
            return error_response(409, f"Request {request_id!r} is not held")
        return JSONResponse({"released": request_id})

    return [
        Route("/", index, methods=["GET"]),
        Route(ADMIN_PREFIX + "/stats", admin_only(token, stats), methods=["GET"]),
        Route(ADMIN_PREFIX + "/reset", admin_only(token, reset), methods=["POST"]),
        Route(ADMIN_PREFIX + "/release/{request_id}", admin_only(token, release), methods=["POST"]),
    ]
