"""The async client's own connection pool: lanes of one connection each, reused warm, shared
fairly, given back once whatever happens to the request."""

from __future__ import annotations

import asyncio

import httpx
import pytest


class Lanes:
    """Makes lanes (mock transports), recording which lane served each request; requests to a
    path ending in ``/held`` wait until ``release`` is set."""

    def __init__(self) -> None:
        self.made = 0
        self.served: list[tuple[int, str]] = []  # (lane number, host)
        self.release = asyncio.Event()

    def __call__(self) -> httpx.AsyncBaseTransport:
        self.made += 1
        number = self.made

        async def handler(request: httpx.Request) -> httpx.Response:
            self.served.append((number, request.url.host))
            if request.url.path.endswith("/held"):
                await self.release.wait()
            return httpx.Response(200, json={"lane": number})

        return httpx.MockTransport(handler)


def pool(size: int, lanes: Lanes) -> httpx.AsyncClient:
    from fal_models._runtime._pool import LanePool

    return httpx.AsyncClient(transport=LanePool(size, lanes))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_one_request_after_another_reuses_one_lane() -> None:
    lanes = Lanes()
    async with pool(4, lanes) as http:
        for _ in range(5):
            assert (await http.get("https://a.test/x")).json() == {"lane": 1}
    assert lanes.made == 1


@pytest.mark.anyio
async def test_requests_at_once_get_lanes_of_their_own_up_to_the_size() -> None:
    lanes = Lanes()
    async with pool(3, lanes) as http:
        calls = [asyncio.ensure_future(http.get("https://a.test/held")) for _ in range(5)]
        await settle()
        assert lanes.made == 3 and len(lanes.served) == 3  # two wait for a lane
        lanes.release.set()
        replies = await asyncio.gather(*calls)
    assert sorted(reply.json()["lane"] for reply in replies) == [1, 1, 2, 2, 3]
    assert lanes.made == 3


@pytest.mark.anyio
async def test_a_host_gets_its_own_warm_lane_and_at_the_limit_another_hosts() -> None:
    lanes = Lanes()
    async with pool(2, lanes) as http:
        await asyncio.gather(http.get("https://a.test/x"), http.get("https://b.test/x"))
        first = dict((host, lane) for lane, host in lanes.served)
        lanes.served.clear()
        await http.get("https://b.test/x")
        await http.get("https://a.test/x")
        assert lanes.served == [(first["b.test"], "b.test"), (first["a.test"], "a.test")]
        await http.get("https://c.test/x")  # no lane of its own, none to make: one of the others
        assert lanes.made == 2 and lanes.served[-1][1] == "c.test"


@pytest.mark.anyio
async def test_waiting_requests_are_served_first_come_first_served() -> None:
    lanes = Lanes()
    order: list[int] = []
    async with pool(1, lanes) as http:

        async def call(number: int) -> None:
            await http.get("https://a.test/held" if number == 0 else "https://a.test/x")
            order.append(number)

        calls = []
        for number in range(4):
            calls.append(asyncio.ensure_future(call(number)))
            await settle()
        lanes.release.set()
        await asyncio.gather(*calls)
    assert order == [0, 1, 2, 3]


@pytest.mark.anyio
async def test_a_lane_comes_back_once_its_response_is_closed_and_only_once() -> None:
    from fal_models._runtime._pool import LanePool

    lanes = Lanes()
    transport = LanePool(1, lanes)
    response = await transport.handle_async_request(httpx.Request("GET", "https://a.test/x"))
    waiting = asyncio.ensure_future(
        transport.handle_async_request(httpx.Request("GET", "https://a.test/x"))
    )
    await settle()
    assert not waiting.done()  # the open response holds the only lane
    await response.aclose()
    await response.stream.aclose()  # closed twice (httpx's own response guards; this does too)
    second = await waiting
    # Given back once: of two more requests, one waits while the other holds the lane.
    lanes.served.clear()

    async def held() -> None:
        request = httpx.Request("GET", "https://a.test/held")
        await (await transport.handle_async_request(request)).aclose()

    calls = [asyncio.ensure_future(held()) for _ in range(2)]
    await second.aclose()
    await settle()
    assert len(lanes.served) == 1
    lanes.release.set()
    await asyncio.wait_for(asyncio.gather(*calls), timeout=5)
    assert lanes.made == 1
    await transport.aclose()


@pytest.mark.anyio
async def test_a_lane_handed_to_a_request_cancelled_meanwhile_goes_back() -> None:
    lanes = Lanes()
    async with pool(1, lanes) as http:
        holder = await http.send(http.build_request("GET", "https://a.test/x"), stream=True)
        waiter = asyncio.ensure_future(http.get("https://a.test/x"))
        await settle()
        await holder.aclose()  # the lane goes to the waiter...
        waiter.cancel()  # ...which is cancelled before it could use it
        await asyncio.gather(waiter, return_exceptions=True)
        reply = await asyncio.wait_for(http.get("https://a.test/x"), timeout=5)
        assert reply.json() == {"lane": 1}


@pytest.mark.anyio
async def test_a_failed_request_gives_its_lane_back() -> None:
    from fal_models._runtime._pool import LanePool

    made = 0

    def lane() -> httpx.AsyncBaseTransport:
        nonlocal made
        made += 1

        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/broken":
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(200)

        return httpx.MockTransport(handler)

    async with httpx.AsyncClient(transport=LanePool(1, lane)) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("https://a.test/broken")
        assert (await asyncio.wait_for(http.get("https://a.test/x"), timeout=5)).status_code == 200
    assert made == 1


@pytest.mark.anyio
async def test_waiting_past_the_pool_timeout_is_a_pool_timeout() -> None:
    lanes = Lanes()
    async with pool(1, lanes) as http:
        holder = asyncio.ensure_future(http.get("https://a.test/held"))
        await settle()
        with pytest.raises(httpx.PoolTimeout):
            await http.get("https://a.test/x", timeout=httpx.Timeout(5, pool=0.01))
        lanes.release.set()
        await holder
        assert (await http.get("https://a.test/x")).status_code == 200  # nothing was lost
