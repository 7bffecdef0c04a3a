"""The async client's own pool (lanes of one connection) lets only as many requests through as
it has lanes, the others wait for one; status streams leave a fifth of a pool to the other
requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import FLUX_OUTPUT
from tests.runtime.conftest import KEY

URL = "https://queue.test/x"
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Counting:
    """An async transport handler that holds each request until released, counting how many
    are inside at once."""

    def __init__(self, *, status: int = 200) -> None:
        self.inside = 0
        self.most = 0
        self.seen = 0
        self.status = status
        self.release = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        self.inside += 1
        self.most = max(self.most, self.inside)
        try:
            await self.release.wait()
        finally:
            self.inside -= 1
        return httpx.Response(self.status, json={"ok": True})


def gated(handler: Counting, limit: int, **options: Any) -> Any:
    from fal_models import AsyncFalClient
    from fal_models._runtime import _http
    from fal_models._runtime._pool import LanePool

    http = httpx.AsyncClient(transport=LanePool(limit, lambda: httpx.MockTransport(handler)))
    _http.reserve_stream_places(http, limit)
    return AsyncFalClient(key=KEY, queue_url="https://queue.test", http_client=http, **options)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_no_more_requests_in_flight_than_the_limit() -> None:
    handler = Counting()
    client = gated(handler, 3)
    calls = [asyncio.ensure_future(client._send("GET", URL, idempotent=True)) for _ in range(10)]
    await settle()
    assert (handler.inside, handler.seen) == (3, 3)
    handler.release.set()
    responses = await asyncio.gather(*calls)
    assert [r.status_code for r in responses] == [200] * 10
    assert handler.most == 3
    await client.http.aclose()


@pytest.mark.anyio
async def test_an_open_stream_holds_its_place_until_closed() -> None:
    handler = Counting()
    handler.release.set()
    client = gated(handler, 1)
    async with client._open("GET", URL, idempotent=True) as response:
        assert response.status_code == 200
        waiting = asyncio.ensure_future(client._send("GET", URL, idempotent=True))
        await settle()
        assert handler.seen == 1 and not waiting.done()
    assert (await waiting).status_code == 200
    await client.http.aclose()


@pytest.mark.anyio
async def test_places_are_given_back_after_errors_and_cancellation() -> None:
    from fal_models import APIError

    handler = Counting(status=400)
    client = gated(handler, 2, max_retries=0)
    doomed = [asyncio.ensure_future(client._send("GET", URL, idempotent=True)) for _ in range(4)]
    await settle()
    for task in doomed:  # two inside the transport, two waiting for a lane
        task.cancel()
    await asyncio.gather(*doomed, return_exceptions=True)
    handler.release.set()
    for _ in range(3):  # an error reply, twice in parallel, then once more
        results = await asyncio.gather(
            client._send("GET", URL, idempotent=True),
            client._send("GET", URL, idempotent=True),
            return_exceptions=True,
        )
        assert all(isinstance(result, APIError) for result in results)
    assert handler.most == 2
    await client.http.aclose()


@pytest.mark.anyio
async def test_waiting_longer_than_the_pool_timeout_is_a_pool_timeout_and_retried() -> None:
    from fal_models import APIConnectionError

    handler = Counting()
    client = gated(handler, 1, max_retries=1)
    holder = asyncio.ensure_future(client._send("GET", URL, idempotent=True))
    await settle()
    started = time.monotonic()
    with pytest.raises(APIConnectionError, match="timed out waiting for a free connection"):
        # A submission: retried only because the wait proves it never reached the server.
        await client._send("POST", URL, idempotent=False, timeout=0.05)
    assert time.monotonic() - started >= 0.1  # two waits of 0.05 s: it was tried again
    assert handler.seen == 1
    handler.release.set()
    await holder
    await client.http.aclose()


@pytest.mark.anyio
async def test_the_clients_own_pool_is_gated_and_a_given_one_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fal_models import AsyncFalClient
    from fal_models._runtime import _http
    from fal_models._runtime._client import POOL_SIZE
    from fal_models._runtime._pool import LanePool

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    async with AsyncFalClient(key=KEY) as own:
        lanes = own.http._transport
        assert isinstance(lanes, LanePool) and lanes.size == POOL_SIZE
        places = _http._STREAM_PLACES[own.http]
        assert places._value == _http.stream_places(POOL_SIZE)
        assert _http._STREAM_PLACES[own.with_options(timeout=5).http] is places  # shared
    given = httpx.AsyncClient()
    async with AsyncFalClient(key=KEY, http_client=given) as client:
        assert client.http not in _http._STREAM_PLACES  # the caller sized that pool
    await given.aclose()


@pytest.mark.anyio
async def test_with_a_proxy_in_the_environment_requests_go_through_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """httpx routes through the environment's proxy only in its own pool: the client then uses
    that one, still with its stream places."""
    from fal_models import APIConnectionError, AsyncFalClient
    from fal_models._runtime import _http

    asked: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        asked.append(await reader.readline())  # the tunnel is refused: the call fails
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    options = {"key": KEY, "queue_url": "https://queue.test", "max_retries": 0}
    async with server, AsyncFalClient(**options) as client:
        with pytest.raises(APIConnectionError):
            await client._send("GET", URL, idempotent=True)
        assert client.http in _http._STREAM_PLACES
    assert asked and asked[0].startswith(b"CONNECT queue.test:443 ")


class HeldStreams:
    """Status streams that stay IN_PROGRESS until ``done`` is set (then COMPLETED), polls that
    say the same, and results; counts the streams open at once and the requests polled."""

    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.open = 0
        self.most_open = 0
        self.polled: set[str] = set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        request_id = request.url.path.partition("/requests/")[2].split("/")[0]
        if request.url.path.endswith("/status/stream"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=self._events()
            )
        if request.url.path.endswith("/status"):
            self.polled.add(request_id)
            status = "COMPLETED" if self.done.is_set() else "IN_PROGRESS"
            return httpx.Response(200, json={"status": status, "logs": None})
        return httpx.Response(200, json=FLUX_OUTPUT)

    async def _events(self) -> AsyncIterator[bytes]:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            yield b'data: {"status": "IN_PROGRESS", "logs": null}\n\n'
            await self.done.wait()
            yield b'data: {"status": "COMPLETED", "logs": null}\n\n'
        finally:
            self.open -= 1


@pytest.mark.anyio
async def test_status_streams_leave_a_fifth_of_the_pool_and_the_others_poll() -> None:
    from fal_models import AsyncFalClient, ClientConfig
    from fal_models._runtime import _http

    server = HeldStreams()
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    _http.reserve_stream_places(http, 5)  # four stream places
    config = ClientConfig(key=KEY, queue_url="https://queue.test", poll_interval=0.001)
    client = AsyncFalClient(config=config, http_client=http)
    calls = [
        asyncio.ensure_future(client.flux_1_schnell.handle(f"r-{n}").result()) for n in range(7)
    ]
    for _ in range(50):
        await asyncio.sleep(0.002)
    assert server.open == 4  # streams wait; the other three calls poll meanwhile
    assert len(server.polled) == 3
    assert (await client._send("GET", URL, idempotent=True)).status_code == 200  # room left
    server.done.set()
    outputs = await asyncio.gather(*calls)
    assert [output.seed for output in outputs] == [1] * 7
    assert server.most_open == 4 and server.open == 0
    await http.aclose()


class HeldUntilReleased(HeldStreams):
    """Like HeldStreams, with each request released on its own (``release(request_id)``); logs
    when each stream opened."""

    def __init__(self) -> None:
        super().__init__()
        self.released: dict[str, asyncio.Event] = {}
        self.opened: dict[str, float] = {}

    def release(self, request_id: str) -> None:
        self.released.setdefault(request_id, asyncio.Event()).set()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        request_id = request.url.path.partition("/requests/")[2].split("/")[0]
        if request.url.path.endswith("/status/stream"):
            self.opened[request_id] = time.monotonic()
            events = self._held(request_id)
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=events
            )
        if request.url.path.endswith("/status"):
            self.polled.add(request_id)
            done = self.released.setdefault(request_id, asyncio.Event()).is_set()
            return httpx.Response(200, json={"status": "COMPLETED" if done else "IN_PROGRESS"})
        return httpx.Response(200, json=FLUX_OUTPUT)

    async def _held(self, request_id: str) -> AsyncIterator[bytes]:
        yield b'data: {"status": "IN_PROGRESS", "logs": null}\n\n'
        await self.released.setdefault(request_id, asyncio.Event()).wait()
        yield b'data: {"status": "COMPLETED", "logs": null}\n\n'


@pytest.mark.anyio
async def test_a_call_takes_a_stream_place_as_soon_as_one_frees() -> None:
    """A call without a stream place waits for one between its polls, not for its next poll."""
    from fal_models import AsyncFalClient, ClientConfig
    from fal_models._runtime import _http

    server = HeldUntilReleased()
    http = httpx.AsyncClient(transport=httpx.MockTransport(server))
    _http.reserve_stream_places(http, 2)  # one stream place
    config = ClientConfig(key=KEY, queue_url="https://queue.test", poll_interval=5.0)
    client = AsyncFalClient(config=config, http_client=http)
    first = asyncio.ensure_future(client.flux_1_schnell.handle("r-1").result())
    await settle()
    second = asyncio.ensure_future(client.flux_1_schnell.handle("r-2").result())
    await settle()
    assert server.polled == {"r-2"} and "r-2" not in server.opened
    server.release("r-1")
    freed = time.monotonic()
    assert (await first).seed == 1
    for _ in range(100):
        if "r-2" in server.opened:
            break
        await asyncio.sleep(0.01)
    assert server.opened["r-2"] - freed < 1.0, "not after the next poll, 5 s later"
    server.release("r-2")
    assert (await second).seed == 1
    await http.aclose()


def test_the_sync_clients_status_streams_leave_a_fifth_of_its_pool() -> None:
    """Threads sharing one client: at most four fifths of its pool hold status streams; the
    other calls poll, so that submissions and results always find a connection."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from fal_models import ClientConfig, FalClient
    from fal_models._runtime import _http

    done = threading.Event()
    lock = threading.Lock()
    counts = {"open": 0, "most": 0}
    polled: set[str] = set()

    def events() -> Iterator[bytes]:
        with lock:
            counts["open"] += 1
            counts["most"] = max(counts["most"], counts["open"])
        yield b'data: {"status": "IN_PROGRESS", "logs": null}\n\n'
        done.wait(10)
        with lock:  # its place is given back once the client has read what follows
            counts["open"] -= 1
        yield b'data: {"status": "COMPLETED", "logs": null}\n\n'

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/status/stream"):
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=events()
            )
        if request.url.path.endswith("/status"):
            polled.add(request.url.path)
            status = "COMPLETED" if done.is_set() else "IN_PROGRESS"
            return httpx.Response(200, json={"status": status})
        return httpx.Response(200, json=FLUX_OUTPUT)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    _http.reserve_stream_places(http, 5)  # four stream places
    config = ClientConfig(key=KEY, queue_url="https://queue.test", poll_interval=0.01)
    with FalClient(config=config, http_client=http) as client, ThreadPoolExecutor(7) as threads:
        calls = [threads.submit(client.flux_1_schnell.handle(f"r-{n}").result) for n in range(7)]
        deadline = time.monotonic() + 5
        while len(polled) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert counts["open"] == 4 and len(polled) == 3
        done.set()
        assert [call.result(timeout=10).seed for call in calls] == [1] * 7
    assert counts["most"] == 4 and counts["open"] == 0
    http.close()


def test_the_sync_clients_own_pool_counts_its_streams() -> None:
    from fal_models import FalClient
    from fal_models._runtime import _http
    from fal_models._runtime._client import POOL_SIZE

    with FalClient(key=KEY) as own:
        places = _http._STREAM_PLACES[own.http]
        assert places._value == _http.stream_places(POOL_SIZE)
        assert _http._STREAM_PLACES[own.with_options(timeout=5).http] is places
