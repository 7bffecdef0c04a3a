"""Test controls that fal does not have: counters, reset, and releasing held requests.

Unauthenticated on purpose: they are for the test or developer on the same machine, and the
server only listens on loopback unless told otherwise.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import ServerContext
from ..outcomes import error_response
from ..urls import ADMIN_PREFIX


def routes(ctx: ServerContext) -> list[BaseRoute]:
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
        Route(ADMIN_PREFIX + "/stats", stats, methods=["GET"]),
        Route(ADMIN_PREFIX + "/reset", reset, methods=["POST"]),
        Route(ADMIN_PREFIX + "/release/{request_id}", release, methods=["POST"]),
    ]
