"""The async client's own pool lets only as many requests through as it has connections; the
others wait in the gate (not in httpcore's pool, whose bookkeeping grows with the queue)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.runtime.conftest import KEY

URL = "https://queue.test/x"


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

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    _http.limit_concurrency(http, limit)
    return AsyncFalClient(key=KEY, http_client=http, **options)


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
    for task in doomed:  # two inside the transport, two waiting at the gate
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
async def test_the_clients_own_pool_is_gated_and_a_given_one_is_not() -> None:
    from fal_models import AsyncFalClient
    from fal_models._runtime import _http
    from fal_models._runtime._client import POOL_LIMITS

    async with AsyncFalClient(key=KEY) as own:
        gate = _http._GATES[own.http]
        assert gate._value == POOL_LIMITS.max_connections
        assert _http._GATES[own.with_options(timeout=5).http] is gate  # the pool is shared
    given = httpx.AsyncClient()
    async with AsyncFalClient(key=KEY, http_client=given) as client:
        assert client.http not in _http._GATES  # the caller sized that pool
    await given.aclose()
