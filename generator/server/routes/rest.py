"""The REST host: realtime tokens, storage (CDN) tokens and the webhook-signing JWKS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import BodyError, ServerContext
from ..outcomes import error_response
from ..schemas import detail_item
from ..urls import REST_PREFIX

STORAGE_TYPE = "fal-cdn-v3"
TOKEN_TYPE = "Bearer"


def _token_request_problems(body: Any, max_ttl: int) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return [detail_item(["body"], "Input should be a valid dictionary", "dict_type", body)]
    problems = []
    apps = body.get("allowed_apps")
    if not isinstance(apps, list) or not apps or not all(isinstance(a, str) and a for a in apps):
        problems.append(
            detail_item(
                ["body", "allowed_apps"],
                "Input should be a non-empty list of app names",
                "list_type",
                apps,
            )
        )
    ttl = body.get("token_expiration", 120)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 1 <= ttl <= max_ttl:
        problems.append(
            detail_item(
                ["body", "token_expiration"],
                f"Input should be an integer from 1 to {max_ttl}",
                "int_type",
                ttl,
            )
        )
    return problems


def routes(ctx: ServerContext) -> list[BaseRoute]:
    config = ctx.config

    async def realtime_token(request: Request) -> Response:
        """A token for the apps named (by app id or, as the official client sends, by alias)."""
        try:
            body = await ctx.read_json(request)
        except BodyError as error:
            return error.response
        problems = _token_request_problems(body, config.realtime_token_max_ttl)
        if problems:
            return error_response(422, problems)
        token, _ = ctx.realtime_tokens.issue(
            body.get("token_expiration", 120), frozenset(body["allowed_apps"])
        )
        return JSONResponse(token)

    async def storage_token(request: Request) -> Response:
        storage_type = request.query_params.get("storage_type")
        if storage_type != STORAGE_TYPE:
            return error_response(400, f"storage_type must be {STORAGE_TYPE!r}", "bad_request")
        token, expires_at = ctx.cdn_tokens.issue(config.storage_token_ttl)
        return JSONResponse(
            {
                "token": token,
                "token_type": TOKEN_TYPE,
                "base_url": ctx.urls_for(request).cdn,
                "expires_at": datetime.fromtimestamp(expires_at, UTC).isoformat(),
            }
        )

    async def jwks(request: Request) -> Response:
        return JSONResponse(ctx.signer.jwks())

    realtime_endpoint = ctx.route("realtime_token", realtime_token)
    return [
        Route(REST_PREFIX + "/tokens/", realtime_endpoint, methods=["POST"]),
        Route(REST_PREFIX + "/tokens", realtime_endpoint, methods=["POST"]),
        Route(
            REST_PREFIX + "/storage/auth/token",
            ctx.route("storage_token", storage_token),
            methods=["POST"],
        ),
        Route(REST_PREFIX + "/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
