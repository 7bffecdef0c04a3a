"""The status stream as fal sends it, on a real loopback socket (plain and TLS): each event
carries only the log lines new since the previous one, and a long request may send nothing but
keep-alive comments for a while. The client's statuses hold all the lines so far, and a call's
``timeout`` holds however the stream behaves.

A small starlette app plays the queue (until the local server sends only new lines too), since
what is tested is a read blocked on a real socket."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
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

LINES = ["step 1", "step 2", "step 3", "step 4"]
# The statuses of the "new lines" stream: which of LINES each event carries.
NEW_LINES = [("IN_PROGRESS", [0, 1]), ("IN_PROGRESS", []), ("IN_PROGRESS", [2]), ("COMPLETED", [3])]
KEEP_ALIVE = 0.05  # seconds between the comments of a quiet stream


def log(index: int) -> dict[str, Any]:
    return {"message": LINES[index], "level": "INFO", "source": "USER", "timestamp": str(index)}


def event(status: str, lines: list[int]) -> bytes:
    body = {"status": status, "logs": [log(index) for index in lines]}
    return f"data: {json.dumps(body)}\n\n".encode()


class ScriptedQueue:
    """The queue API of fal-ai/flux-1. Its status streams either send only the new log lines
    per event (``quiet_for`` None), or only keep-alive comments for ``quiet_for`` seconds and
    then COMPLETED. Records submissions, cancellations and the Accept header of the streams."""

    def __init__(self, quiet_for: float | None = None) -> None:
        self.quiet_for = quiet_for
        self.base = ""
        self.submitted: list[str] = []
        self.cancelled: list[str] = []
        self.completed: set[str] = set()
        self.accept: list[str | None] = []

    def app(self) -> Starlette:
        requests = "/fal-ai/flux-1/requests/{rid}"
        return Starlette(
            routes=[
                Route("/fal-ai/flux-1/schnell", self.submit, methods=["POST"]),
                Route(f"{requests}/status/stream", self.stream),
                Route(f"{requests}/status", self.status),
                Route(f"{requests}/cancel", self.cancel, methods=["PUT"]),
                Route(requests, self.result),
            ]
        )

    async def submit(self, request: Request) -> Response:
        rid = f"r-{len(self.submitted) + 1}"
        self.submitted.append(rid)
        urls = f"{self.base}/fal-ai/flux-1/requests/{rid}"
        return JSONResponse(
            {
                "request_id": rid,
                "status_url": f"{urls}/status",
                "response_url": urls,
                "cancel_url": f"{urls}/cancel",
            }
        )

    async def stream(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        self.accept.append(request.headers.get("accept"))

        async def new_lines() -> AsyncIterator[bytes]:
            for status, lines in NEW_LINES:
                await asyncio.sleep(0.01)
                if status == "COMPLETED":
                    self.completed.add(rid)
                yield event(status, lines)

        async def quiet(seconds: float) -> AsyncIterator[bytes]:
            yield event("IN_PROGRESS", [])
            ends = time.monotonic() + seconds
            while time.monotonic() < ends:
                await asyncio.sleep(KEEP_ALIVE)
                yield b": keep-alive\n\n"
            self.completed.add(rid)
            yield event("COMPLETED", [])

        events = new_lines() if self.quiet_for is None else quiet(self.quiet_for)
        return StreamingResponse(events, media_type="text/event-stream")

    async def status(self, request: Request) -> Response:
        rid = request.path_params["rid"]
        if rid not in self.completed:
            return JSONResponse({"status": "IN_PROGRESS", "logs": []})
        return JSONResponse({"status": "COMPLETED", "logs": [log(i) for i in range(len(LINES))]})

    async def cancel(self, request: Request) -> Response:
        self.cancelled.append(request.path_params["rid"])
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)

    async def result(self, request: Request) -> Response:
        if request.path_params["rid"] not in self.completed:
            return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
        return JSONResponse(FLUX_OUTPUT)


@pytest.fixture(params=["http", "https"])
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Served:
    def __init__(self, queue: ScriptedQueue, verify: Any) -> None:
        self.queue = queue
        self.verify = verify

    def options(self) -> dict[str, Any]:
        return {"key": KEY, "queue_url": self.queue.base, "timeout": 10.0, "max_retries": 0}


@pytest.fixture
def served(
    request: pytest.FixtureRequest, scheme: str, certificates: tuple[Path, Path, Path]
) -> Iterator[Served]:
    queue = ScriptedQueue(quiet_for=getattr(request, "param", None))
    ca, chain, key = certificates
    with serving(queue.app(), (chain, key) if scheme == "https" else None) as base:
        queue.base = base
        yield Served(queue, ssl.create_default_context(cafile=ca) if scheme == "https" else True)


def messages(statuses: list[Any]) -> list[list[str]]:
    return [[line.message for line in status.logs] for status in statuses]


CUMULATIVE = [LINES[:2], LINES[:2], LINES[:3], LINES]


def test_streamed_logs_hold_all_lines_so_far(served: Served) -> None:
    from fal_models import FalClient

    seen: list[Any] = []
    with (
        httpx.Client(verify=served.verify) as http,
        FalClient(**served.options(), http_client=http) as client,
    ):
        output = client.flux_1_schnell(prompt="p", with_logs=True, on_queue_update=seen.append)
        polled = client.flux_1_schnell.handle("r-1").status(logs=True)
    assert output.seed == 1
    assert messages(seen) == CUMULATIVE
    assert messages([polled]) == messages(seen[-1:]), "as polling gives them"
    assert served.queue.accept == ["text/event-stream"]


@pytest.mark.anyio
async def test_streamed_logs_hold_all_lines_so_far_async(served: Served) -> None:
    from fal_models import AsyncFalClient

    async with (
        httpx.AsyncClient(verify=served.verify) as http,
        AsyncFalClient(**served.options(), http_client=http) as client,
    ):
        handle = await client.flux_1_schnell.submit(prompt="p")
        seen = [status async for status in handle.iter_events(logs=True)]
        assert (await handle.result()).seed == 1
    assert messages(seen) == CUMULATIVE
    assert served.queue.accept == ["text/event-stream", "text/event-stream"]


QUIET = 4.0  # seconds of keep-alive comments before COMPLETED
TIMEOUT = 0.5


def assert_timed_out(error: Any, started: float) -> None:
    elapsed = time.monotonic() - started
    assert TIMEOUT <= elapsed < TIMEOUT + 1.0, f"gave up after {elapsed:.2f} s"
    assert (error.request_id, error.timeout) == ("r-1", TIMEOUT)


@pytest.mark.parametrize("served", [QUIET], indirect=True)
def test_timeout_holds_on_a_stream_of_keep_alives(served: Served) -> None:
    from fal_models import FalClient, TimeoutError

    with (
        httpx.Client(verify=served.verify) as http,
        FalClient(**served.options(), http_client=http) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TimeoutError) as failure:
            client.flux_1_schnell(prompt="p", timeout=TIMEOUT)
        assert_timed_out(failure.value, started)
        assert "cancelled" in str(failure.value)
    assert served.queue.cancelled == ["r-1"]


@pytest.mark.anyio
@pytest.mark.parametrize("served", [QUIET], indirect=True)
async def test_timeout_holds_on_a_stream_of_keep_alives_async(served: Served) -> None:
    from fal_models import AsyncFalClient, TimeoutError

    async with (
        httpx.AsyncClient(verify=served.verify) as http,
        AsyncFalClient(**served.options(), http_client=http) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TimeoutError) as failure:
            await client.flux_1_schnell(prompt="p", timeout=TIMEOUT)
        assert_timed_out(failure.value, started)
        # The client (and its connections) still work after a stream was cut short.
        served.queue.quiet_for = 0.0
        assert (await client.flux_1_schnell(prompt="p")).seed == 1
    assert served.queue.cancelled == ["r-1"]


@pytest.mark.parametrize("served", [1.5], indirect=True)
def test_a_timed_out_request_left_running_is_picked_up_by_id(served: Served) -> None:
    """cancel_on_timeout=False: the billed result is not lost to the client's deadline."""
    from fal_models import FalClient, TimeoutError

    with (
        httpx.Client(verify=served.verify) as http,
        FalClient(**served.options(), http_client=http) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TimeoutError) as failure:
            client.flux_1_schnell(prompt="p", timeout=TIMEOUT, cancel_on_timeout=False)
        assert_timed_out(failure.value, started)
        assert "keeps running" in str(failure.value)
        output = client.flux_1_schnell.handle(failure.value.request_id).result(timeout=10)
    assert output.seed == 1
    assert served.queue.cancelled == [] and served.queue.submitted == ["r-1"]
