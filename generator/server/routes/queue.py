"""The queue host: submit, status (polled or streamed), result, cancel.

Requests are submitted under the full endpoint id and then addressed by app id, as fal does; a
client that addresses them by the full id gets a 404 that says so, since the real service does
not promise to accept it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..context import BodyError, ServerContext, sse_event, truthy
from ..outcomes import REQUEST_ID_HEADER, error_response, outcome_response
from ..queue import COMPLETED, PRIORITIES, QueuedRequest, Submission
from ..urls import QUEUE_PREFIX
from ..webhooks import webhook_url_problem

PRIORITY_HEADER = "x-fal-queue-priority"
TIMEOUT_HEADER = "x-fal-request-timeout"
RUNNER_HINT_HEADER = "x-fal-runner-hint"
WEBHOOK_QUERY = "fal_webhook"
REQUEST_PATH = QUEUE_PREFIX + "/{app:path}/requests/{request_id}"


def routes(ctx: ServerContext) -> list[BaseRoute]:
    async def submit(request: Request) -> Response:
        endpoint_id = request.path_params["endpoint_id"]
        endpoint = ctx.catalog.get(endpoint_id)
        if endpoint is None:
            return error_response(404, f"Endpoint {endpoint_id!r} not found")
        priority = request.headers.get(PRIORITY_HEADER, "normal")
        if priority not in PRIORITIES:
            return error_response(
                400, f"{PRIORITY_HEADER} must be one of {PRIORITIES}", "bad_request"
            )
        timeout_text = request.headers.get(TIMEOUT_HEADER)
        try:
            start_timeout = float(timeout_text) if timeout_text is not None else None
        except ValueError:
            start_timeout = -1.0
        if start_timeout is not None and not start_timeout > 0:
            return error_response(400, f"{TIMEOUT_HEADER} must be a positive number", "bad_request")
        webhook_url = request.query_params.get(WEBHOOK_QUERY)
        if webhook_url is not None and (
            problem := webhook_url_problem(webhook_url, ctx.config.allow_remote_webhooks)
        ):
            return error_response(400, problem, "bad_request")
        try:
            payload = await ctx.read_json(request)
        except BodyError as error:
            return error.response
        queued = ctx.queue.submit(
            Submission(
                endpoint=endpoint,
                payload=payload,
                urls=ctx.urls_for(request),
                priority=priority,
                start_timeout=start_timeout,
                runner_hint=request.headers.get(RUNNER_HINT_HEADER),
                webhook_url=webhook_url,
            )
        )
        return JSONResponse(ctx.queue.submit_body(queued), headers={REQUEST_ID_HEADER: queued.id})

    def find(request: Request) -> QueuedRequest | Response:
        app, request_id = request.path_params["app"], request.path_params["request_id"]
        queued = ctx.queue.get(request_id)
        if queued is None:
            return error_response(404, f"Request {request_id!r} not found")
        if queued.app_id != app:
            hint = (
                f"; address it by its app: {queued.response_url}"
                if app == queued.submission.endpoint.endpoint_id
                else ""
            )
            return error_response(404, f"Request {request_id!r} not found under {app!r}{hint}")
        return queued

    async def status(request: Request) -> Response:
        queued = find(request)
        if isinstance(queued, Response):
            return queued
        body = ctx.queue.status_body(queued, truthy(request.query_params.get("logs")))
        return JSONResponse(body, headers={REQUEST_ID_HEADER: queued.id})

    async def status_stream(request: Request) -> Response:
        queued = find(request)
        if isinstance(queued, Response):
            return queued
        with_logs = truthy(request.query_params.get("logs"))

        async def events() -> AsyncIterator[bytes]:
            async for body in ctx.queue.statuses(queued, with_logs):
                yield sse_event(body)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={REQUEST_ID_HEADER: queued.id, "Cache-Control": "no-cache"},
        )

    async def result(request: Request) -> Response:
        queued = find(request)
        if isinstance(queued, Response):
            return queued
        if queued.status != COMPLETED or queued.outcome is None:
            return error_response(400, "Request is still in progress")
        return outcome_response(queued.outcome, queued.id)

    async def cancel(request: Request) -> Response:
        queued = find(request)
        if isinstance(queued, Response):
            return queued
        if not await ctx.queue.cancel(queued):
            body = {"status": "ALREADY_COMPLETED", "detail": "Request has already completed"}
            return JSONResponse(body, status_code=400)
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    return [
        Route(
            REQUEST_PATH + "/status/stream",
            ctx.route("status_stream", status_stream),
            methods=["GET"],
        ),
        Route(REQUEST_PATH + "/status", ctx.route("status", status), methods=["GET"]),
        Route(REQUEST_PATH + "/cancel", ctx.route("cancel", cancel), methods=["PUT"]),
        Route(REQUEST_PATH, ctx.route("result", result), methods=["GET"]),
        Route(QUEUE_PREFIX + "/{endpoint_id:path}", ctx.route("submit", submit), methods=["POST"]),
    ]
