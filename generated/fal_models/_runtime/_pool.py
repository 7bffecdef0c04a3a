"""The async client's own connection pool: lanes of one connection each, taken in O(1).

httpx's pool (httpcore's) looks at every connection whenever a request starts or ends, with a
system call for each idle one, and hands an idle connection to every request waiting at that
moment, all but one of which then go round again: with many calls in flight that bookkeeping
costs more CPU than the requests. Here each request takes a lane of its own from a free list:
the lane that last served the same host (its connection is warm), else a new lane while there
are fewer than ``size``, else a free lane of another host, else it waits for one (first come,
first served, within the request's pool timeout). A lane is an httpx transport limited to one
connection, so httpx still does the HTTP, TLS and keep-alive; it comes back to the free list
when its response is closed.
"""

from __future__ import annotations

import asyncio
import collections
import urllib.request
from collections.abc import AsyncIterator, Callable

import httpx

Lane = httpx.AsyncBaseTransport
Origin = tuple[str, str, int | None]
ONE_CONNECTION = httpx.Limits(max_connections=1, max_keepalive_connections=1)


def environment_proxies() -> bool:
    """Whether the environment names an HTTP proxy, which httpx honours only in its own pool."""
    found = urllib.request.getproxies()
    return any(found.get(scheme) for scheme in ("http", "https", "all"))


def default_lanes() -> Callable[[], Lane]:
    """Makes lanes as httpx makes its transport (certificates from the environment included),
    sharing one TLS context."""
    context = httpx.create_ssl_context()
    return lambda: httpx.AsyncHTTPTransport(verify=context, limits=ONE_CONNECTION)


class LanePool(httpx.AsyncBaseTransport):
    """At most ``size`` requests at once, each on a lane of its own made by ``make``."""

    def __init__(self, size: int, make: Callable[[], Lane]) -> None:
        self.size = size
        self._make = make
        self._lanes: list[Lane] = []
        self._free: dict[Origin, list[Lane]] = {}
        self._waiting: collections.deque[asyncio.Future[Lane]] = collections.deque()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.scheme, request.url.host, request.url.port)
        lane = self._take(origin) or await self._wait(origin, request)
        try:
            response = await lane.handle_async_request(request)
        except BaseException:
            self._give_back(origin, lane)
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_Held(response.stream, lambda: self._give_back(origin, lane)),
            extensions=response.extensions,
        )

    def _take(self, origin: Origin) -> Lane | None:
        warm = self._free.get(origin)
        if warm:
            return warm.pop()  # the most recently used: its connection is the least likely stale
        if len(self._lanes) < self.size:
            lane = self._make()
            self._lanes.append(lane)
            return lane
        # A lane of another host: its connection is replaced by one to this origin.
        return next((free.pop() for free in self._free.values() if free), None)

    async def _wait(self, origin: Origin, request: httpx.Request) -> Lane:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            async with asyncio.timeout(request.extensions.get("timeout", {}).get("pool")):
                lane: Lane = await waiter
                return lane
        except BaseException as error:
            if waiter.done() and not waiter.cancelled():  # handed a lane just as we gave up
                self._give_back(origin, waiter.result())
            waiter.cancel()
            if isinstance(error, TimeoutError):
                raise httpx.PoolTimeout("timed out waiting for a free connection") from None
            raise

    def _give_back(self, origin: Origin, lane: Lane) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(lane)
                return
        self._free.setdefault(origin, []).append(lane)

    async def aclose(self) -> None:
        for lane in self._lanes:
            await lane.aclose()


class _Held(httpx.AsyncByteStream):
    """A response's body; closing it gives its lane back (once)."""

    def __init__(self, stream: httpx.AsyncByteStream, give_back: Callable[[], None]) -> None:
        self._stream = stream
        self._give_back: Callable[[], None] | None = give_back

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # the body's own iterator: no layer more per chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            give_back, self._give_back = self._give_back, None
            if give_back is not None:
                give_back()
