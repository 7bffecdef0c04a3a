"""The CDN host: uploads (single and multipart, as the official clients perform them) and
downloads of every file the server knows, uploaded or generated.

With a storage token (fal-client): ``POST files/upload`` answers ``{"access_url", ...}``;
multipart: ``POST files/upload/multipart`` answers ``{"access_url", "uploadId"}``; parts go to
``PUT <access_url>/multipart/<uploadId>/<n>`` (the ETag comes back as a header and in the JSON
answer); ``POST <access_url>/multipart/<uploadId>/complete`` with
``{"parts": [{"partNumber", "etag"}]}`` makes the file available at ``access_url``.

The presigned URLs that the REST host's ``storage/upload/initiate`` hands out (fal-js) lead here
too: ``PUT <file url>?signature=...`` for one file, the multipart paths above for parts.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..context import BodyError, ServerContext
from ..files import DEFAULT_CONTENT_TYPE, FileStore, UploadError, UploadTarget, part_etag
from ..outcomes import error_response
from ..urls import CDN_PREFIX

FILE_NAME_HEADER = "x-fal-file-name"
FILE_PATH = CDN_PREFIX + "/files/{file_id}/{file_name}"
MAX_PART_NUMBER = 10000


def _parts_listed(body: Any) -> list[tuple[int, str]] | None:
    parts = body.get("parts") if isinstance(body, dict) else None
    if not isinstance(parts, list):
        return None
    listed = []
    for part in parts:
        number = part.get("partNumber") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if not isinstance(number, int) or not isinstance(etag, str):
            return None
        listed.append((number, etag))
    return listed


def routes(ctx: ServerContext) -> list[BaseRoute]:
    def access_url(request: Request, file_id: str, file_name: str) -> str:
        return ctx.urls_for(request).cdn + FileStore.path_of(file_id, file_name)

    def target(request: Request) -> UploadTarget:
        params = request.path_params
        return UploadTarget(params["file_id"], params["file_name"], params["upload_id"])

    async def upload(request: Request) -> Response:
        try:
            data = await ctx.read_body(request)
        except BodyError as error:
            return error.response
        content_type = request.headers.get("content-type", DEFAULT_CONTENT_TYPE)
        file_id, name = ctx.files.put(data, content_type, request.headers.get(FILE_NAME_HEADER))
        ctx.stats.uploads += 1
        return JSONResponse(
            {
                "access_url": access_url(request, file_id, name),
                "content_type": content_type,
                "file_name": name,
                "file_size": len(data),
            }
        )

    async def start_multipart(request: Request) -> Response:
        upload = ctx.files.start_multipart(
            request.headers.get("content-type", DEFAULT_CONTENT_TYPE),
            request.headers.get(FILE_NAME_HEADER),
        )
        return JSONResponse(
            {
                "access_url": access_url(request, upload.file_id, upload.file_name),
                "uploadId": upload.upload_id,
            }
        )

    async def upload_part(request: Request) -> Response:
        number = request.path_params["part_number"]
        if not 1 <= number <= MAX_PART_NUMBER:
            return error_response(400, f"part numbers run from 1 to {MAX_PART_NUMBER}")
        try:
            data = await ctx.read_body(request)
            ctx.files.add_part(target(request), number, data, ctx.config.max_upload_bytes)
        except BodyError as error:
            return error.response
        except UploadError as error:
            return error_response(error.status, error.detail)
        etag = part_etag(data)
        return JSONResponse({"partNumber": number, "etag": etag}, headers={"ETag": f'"{etag}"'})

    async def complete_multipart(request: Request) -> Response:
        try:
            parts = _parts_listed(await ctx.read_json(request))
            if parts is None:
                return error_response(422, 'body must be {"parts": [{"partNumber", "etag"}, ...]}')
            ctx.files.complete_multipart(target(request), parts)
        except BodyError as error:
            return error.response
        except UploadError as error:
            return error_response(error.status, error.detail)
        ctx.stats.uploads += 1
        params = request.path_params
        return JSONResponse(
            {"access_url": access_url(request, params["file_id"], params["file_name"])}
        )

    async def presigned_upload(request: Request) -> Response:
        params = request.path_params
        try:
            data = await ctx.read_body(request)
        except BodyError as error:
            return error.response
        content_type = request.headers.get("content-type")
        if not ctx.files.fill(params["file_id"], params["file_name"], data, content_type):
            return error_response(404, "No upload is expected at this URL")
        ctx.stats.uploads += 1
        return JSONResponse({"access_url": access_url(request, **params)})

    async def download(request: Request) -> Response:
        stored = ctx.files.get(request.path_params["file_id"], request.path_params["file_name"])
        if stored is None:
            return error_response(404, "File not found")
        return Response(stored.data, media_type=stored.content_type)

    multipart = FILE_PATH + "/multipart/{upload_id}"
    return [
        Route(
            CDN_PREFIX + "/files/upload", ctx.route("upload", upload, "cdn_token"), methods=["POST"]
        ),
        Route(
            CDN_PREFIX + "/files/upload/multipart",
            ctx.route("upload", start_multipart, "cdn_token"),
            methods=["POST"],
        ),
        Route(
            multipart + "/complete",
            ctx.route("upload", complete_multipart, "cdn_token"),
            methods=["POST"],
        ),
        Route(
            multipart + "/{part_number:int}",
            ctx.route("upload", upload_part, "cdn_token"),
            methods=["PUT"],
        ),
        Route(FILE_PATH, ctx.route("files", download, "none"), methods=["GET"]),
        Route(FILE_PATH, ctx.route("upload", presigned_upload, "cdn_token"), methods=["PUT"]),
    ]
