"""A status stream that stays open after COMPLETED (fal closes it; a proxy may not): the async
client reads on for a moment only, and the connection it lets go is not lost to the pool.

A small starlette app on a real loopback socket, since what is tested is how closing a
connection ends a pending read."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.e2e.conftest import KEY
from tests.e2e.loopback import serving
from tests.helpers import FLUX_OUTPUT

RUNNING = {"status": "IN_PROGRESS", "logs": []}
DONE = {"status": "COMPLETED", "logs": None, "metrics": {}}
CALLS = 3


class LingeringQueue:
    """The queue API for one app, whose status streams never end by themselves."""

    def __init__(self) -> None:
        self.base = ""
        self.results = 0
        self.streams_left_open = 0

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/fal-ai/flux-1/schnell", self.submit, methods=["POST"]),
                Route("/fal-ai/flux-1/requests/{rid}/status/stream", self.stream),
                Route("/fal-ai/flux-1/requests/{rid}", self.result),
            ]
        )

    async def submit(self, request: Request) -> Response:
        urls = f"{self.base}/fal-ai/flux-1/requests/r-{self.results}"
        return JSONResponse(
            {
                "request_id": f"r-{self.results}",
                "status_url": f"{urls}/status",
                "response_url": urls,
                "cancel_url": f"{urls}/cancel",
            }
        )

    async def stream(self, request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield f"data: {json.dumps(RUNNING)}\n\ndata: {json.dumps(DONE)}\n\n".encode()
            try:
                while True:
                    await asyncio.sleep(0.02)
                    yield b": keep-alive\n\n"
            finally:
                self.streams_left_open += 1

        return StreamingResponse(events(), media_type="text/event-stream")

    async def result(self, request: Request) -> Response:
        self.results += 1
        return JSONResponse(FLUX_OUTPUT)


@pytest.fixture
def lingering() -> Iterator[LingeringQueue]:
    queue = LingeringQueue()
    with serving(queue.app()) as base:
        queue.base = base
        yield queue


@pytest.mark.anyio
async def test_a_stream_open_after_completed_is_let_go(lingering: LingeringQueue) -> None:
    from fal_models import AsyncFalClient
    from fal_models._runtime._queue import STREAM_DRAIN_TIMEOUT

    # One connection in the pool: a connection lost while letting a stream go would hang the
    # next call, which the overall timeout turns into a failure.
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=1))
    async with AsyncFalClient(
        key=KEY, queue_url=lingering.base, http_client=http, timeout=10.0, max_retries=0
    ) as client:
        for _ in range(CALLS):
            seen: list[Any] = []
            started = time.monotonic()
            output = await client.flux_1_schnell(prompt="p", on_queue_update=seen.append)
            elapsed = time.monotonic() - started
            assert output.seed == 1
            assert [status.status for status in seen] == ["IN_PROGRESS", "COMPLETED"]
            assert STREAM_DRAIN_TIMEOUT <= elapsed < STREAM_DRAIN_TIMEOUT + 2
    await http.aclose()
    assert lingering.results == CALLS
    # Letting go closed the connection: the server saw every stream end.
    deadline = time.monotonic() + 5
    while lingering.streams_left_open < CALLS and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert lingering.streams_left_open == CALLS
