"""The direct-run host: ``POST <id>`` answers with the output, ``POST <id>/stream`` streams it.

A stream sends one preview per progress step (each a complete Output, with different images),
then the final output, as Server-Sent Events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..catalog import Endpoint
from ..context import BodyError, ServerContext, sse_event
from ..outcomes import MODEL_FAILURE, error_response, outcome_response
from ..urls import RUN_PREFIX

STREAM_SUFFIX = "/stream"


def routes(ctx: ServerContext) -> list[BaseRoute]:
    config = ctx.config

    def processing_time() -> float:
        return config.progress_steps * config.step_delay

    async def run(request: Request, endpoint: Endpoint) -> Response:
        try:
            payload = await ctx.read_json(request)
        except BodyError as error:
            return error.response
        ctx.stats.runs[endpoint.endpoint_id] += 1
        problem = ctx.model.input_problem(endpoint, payload)
        if problem is not None:
            return outcome_response(problem)
        await asyncio.sleep(processing_time())
        outcome = await ctx.model.infer(
            endpoint, payload, ctx.urls_for(request).cdn, processing_time()
        )
        return outcome_response(outcome)

    async def stream(request: Request, endpoint: Endpoint) -> Response:
        if not endpoint.streaming:
            return error_response(404, f"Endpoint {endpoint.endpoint_id!r} does not stream")
        try:
            payload = await ctx.read_json(request)
        except BodyError as error:
            return error.response
        ctx.stats.runs[endpoint.endpoint_id] += 1
        problem = ctx.model.input_problem(endpoint, payload)
        if problem is not None:
            return outcome_response(problem)
        if ctx.faults.model_fails():
            return outcome_response(MODEL_FAILURE)
        cdn_url = ctx.urls_for(request).cdn

        async def events() -> AsyncIterator[bytes]:
            for step in range(1, config.progress_steps + 1):
                await asyncio.sleep(config.step_delay)
                elapsed = step * config.step_delay
                yield sse_event(await ctx.model.output(endpoint, payload, cdn_url, elapsed, step))
            yield sse_event(await ctx.model.output(endpoint, payload, cdn_url, processing_time()))

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    async def dispatch(request: Request) -> Response:
        path = request.path_params["path"]
        endpoint = ctx.catalog.get(path)
        if endpoint is not None:
            return await ctx.guarded("run", request, lambda r: run(r, endpoint), "key")
        base = path.removesuffix(STREAM_SUFFIX)
        streamed = ctx.catalog.get(base) if path.endswith(STREAM_SUFFIX) else None
        if streamed is not None:
            return await ctx.guarded("run_stream", request, lambda r: stream(r, streamed), "key")
        return error_response(404, f"Endpoint {path!r} not found")

    return [Route(RUN_PREFIX + "/{path:path}", dispatch, methods=["POST"])]
