"""The realtime host: a websocket at ``<endpoint or app>/realtime`` answering each input.

Authentication is the short-lived token from ``POST <rest>/tokens/`` in the ``fal_jwt_token``
query parameter (or, as the official client's raw websocket mode does, the key header). Binary
frames carry msgpack and are answered in msgpack; text frames carry JSON and are answered in
JSON. Problems with one input are reported as ``{"type": "x-fal-error", "error", "reason"}``
messages and the connection stays open. (fal documents this protocol loosely: its details are
kept to this module.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import msgpack
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..catalog import Endpoint
from ..context import ServerContext, decode_body
from ..outcomes import Outcome, error_response
from ..urls import REALTIME_PREFIX, RUN_PREFIX

TOKEN_QUERY = "fal_jwt_token"
PATH_SUFFIX = "/realtime"
DENIAL_EXTENSION = "websocket.http.response"
POLICY_VIOLATION = 1008
ERROR_NAMES = {422: "VALIDATION_ERROR", 499: "CANCELLED", 500: "INTERNAL_ERROR"}


def error_message(error: str, reason: str, **extra: Any) -> dict[str, Any]:
    return {"type": "x-fal-error", "error": error, "reason": reason, **extra}


def _outcome_message(outcome: Outcome) -> dict[str, Any]:
    if outcome.ok:
        body: dict[str, Any] = outcome.body
        return body
    detail = outcome.body.get("detail") if isinstance(outcome.body, dict) else None
    reason = detail if isinstance(detail, str) else (outcome.error or "request failed")
    extra = {"detail": detail} if isinstance(detail, list) else {}
    return error_message(ERROR_NAMES.get(outcome.status_code, "ERROR"), reason, **extra)


async def _deny(websocket: WebSocket, status: int, detail: str) -> None:
    """Refuse the handshake with an HTTP answer, so clients see e.g. a 401 rather than a close."""
    if DENIAL_EXTENSION in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(error_response(status, detail))
    else:
        await websocket.close(code=POLICY_VIOLATION, reason=detail)


def routes(ctx: ServerContext) -> list[BaseRoute]:
    def authorised(websocket: WebSocket, endpoint: Endpoint) -> bool:
        token = websocket.query_params.get(TOKEN_QUERY)
        if token is not None:
            return ctx.realtime_tokens.valid(token, (endpoint.app_id, endpoint.alias))
        return ctx.keys.problem(websocket) is None

    async def answer(endpoint: Endpoint, message: Message, cdn_url: str) -> tuple[Any, bool]:
        """The reply to one frame and whether it goes out as binary (msgpack)."""
        binary = message.get("bytes") is not None
        try:
            payload = decode_body(
                lambda: msgpack.unpackb(message["bytes"]) if binary else json.loads(message["text"])
            )
        except (ValueError, msgpack.UnpackException) as problem:
            return error_message("INVALID_MESSAGE", f"cannot decode the message: {problem}"), binary
        ctx.stats.realtime_messages[endpoint.endpoint_id] += 1
        await asyncio.sleep(ctx.config.step_delay)
        outcome = await ctx.model.infer(endpoint, payload, cdn_url, ctx.config.step_delay)
        return _outcome_message(outcome), binary

    async def connect(websocket: WebSocket) -> None:
        path = websocket.path_params["path"]
        endpoint = (
            ctx.catalog.realtime_endpoint(path.removesuffix(PATH_SUFFIX))
            if path.endswith(PATH_SUFFIX)
            else None
        )
        if endpoint is None:
            await _deny(websocket, 404, f"No realtime endpoint at {path!r}")
            return
        if not authorised(websocket, endpoint):
            await _deny(websocket, 401, "Missing, expired or foreign realtime token")
            return
        cdn_url = ctx.urls_for(websocket).cdn
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                reply, binary = await answer(endpoint, message, cdn_url)
                if binary:
                    await websocket.send_bytes(msgpack.packb(reply, use_bin_type=True))
                else:
                    await websocket.send_text(json.dumps(reply))
        except WebSocketDisconnect:
            return

    # fal serves realtime on the direct-run host (wss://fal.run/<app>/realtime): so does the
    # run prefix, for clients given one host for both (fal-client's FAL_RUN_HOST).
    return [
        WebSocketRoute(REALTIME_PREFIX + "/{path:path}", connect),
        WebSocketRoute(RUN_PREFIX + "/{path:path}", connect),
    ]
