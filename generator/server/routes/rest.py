"""The REST host: realtime tokens, storage (CDN) tokens, presigned uploads and the
webhook-signing JWKS.

Uploads come two ways, as fal's official clients make them: with a storage token straight to the
CDN (fal-client's default, see cdn.py), or through ``POST storage/upload/initiate`` (fal-js, and
fal-client's fallback) which answers ``{"upload_url", "file_url"}``: the bytes are PUT to
``upload_url``, a presigned URL (its ``signature`` query authorises it, no header), and the file
is then at ``file_url``. ``storage/upload/initiate-multipart`` answers the same, and the parts go
to ``<upload_url path>/<n>`` and the list of parts to ``<upload_url path>/complete`` (same query).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import SIGNATURE_QUERY, BodyError, ServerContext
from ..files import DEFAULT_CONTENT_TYPE, FileStore
from ..outcomes import error_response
from ..schemas import detail_item
from ..urls import REST_PREFIX

STORAGE_TYPE = "fal-cdn-v3"
# What initiate accepts: the CDN (fal-js), and the bucket fal-client falls back to; both land in
# the same local store.
INITIATE_STORAGE_TYPES = (STORAGE_TYPE, "gcs")
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


def _initiate_problems(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return [detail_item(["body"], "Input should be a valid dictionary", "dict_type", body)]
    return [
        detail_item(["body", name], "Input should be a valid string", "string_type", body[name])
        for name in ("file_name", "content_type")
        if body.get(name) is not None and not isinstance(body[name], str)
    ]


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

    async def initiate(request: Request, multipart: bool) -> Response:
        storage_type = request.query_params.get("storage_type", STORAGE_TYPE)
        if storage_type not in INITIATE_STORAGE_TYPES:
            allowed = " or ".join(repr(name) for name in INITIATE_STORAGE_TYPES)
            return error_response(400, f"storage_type must be {allowed}", "bad_request")
        try:
            body = await ctx.read_json(request)
        except BodyError as error:
            return error.response
        problems = _initiate_problems(body)
        if problems:
            return error_response(422, problems)
        content_type = body.get("content_type") or DEFAULT_CONTENT_TYPE
        if multipart:
            upload = ctx.files.start_multipart(content_type, body.get("file_name"))
            file_id, name = upload.file_id, upload.file_name
            upload_path = f"{FileStore.path_of(file_id, name)}/multipart/{upload.upload_id}"
        else:
            file_id, name = ctx.files.reserve(content_type, body.get("file_name"))
            upload_path = FileStore.path_of(file_id, name)
        signature, _ = ctx.upload_signatures.issue(config.storage_token_ttl, frozenset({file_id}))
        cdn = ctx.urls_for(request).cdn
        return JSONResponse(
            {
                "upload_url": f"{cdn}{upload_path}?{SIGNATURE_QUERY}={signature}",
                "file_url": cdn + FileStore.path_of(file_id, name),
            }
        )

    async def initiate_single(request: Request) -> Response:
        return await initiate(request, multipart=False)

    async def initiate_multipart(request: Request) -> Response:
        return await initiate(request, multipart=True)

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
        Route(
            REST_PREFIX + "/storage/upload/initiate",
            ctx.route("upload_initiate", initiate_single),
            methods=["POST"],
        ),
        Route(
            REST_PREFIX + "/storage/upload/initiate-multipart",
            ctx.route("upload_initiate", initiate_multipart),
            methods=["POST"],
        ),
        Route(REST_PREFIX + "/.well-known/jwks.json", jwks, methods=["GET"]),
    ]
