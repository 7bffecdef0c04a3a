"""Streaming endpoints (Server-Sent Events from the run host) and realtime websockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from generator.server import Faults, ServerURLs
from tests.e2e.conftest import KEY, client_options, stats


def test_stream_yields_partials_then_the_output(client: Any, server: ServerURLs) -> None:
    from fal_models.endpoints.hidream_i1_full import HidreamI1FullOutput

    events = list(client.hidream_i1_full.stream(prompt="a lighthouse", seed=5))
    assert len(events) == 3  # two previews (one per progress step), then the output
    assert all(isinstance(event, HidreamI1FullOutput) for event in events)
    assert len({event.images[0].url for event in events}) == 3
    assert events[-1].seed == 5
    assert stats(server)["runs"] == {"fal-ai/hidream-i1-full": 1}


@pytest.mark.anyio
async def test_async_stream(server: ServerURLs) -> None:
    from fal_models import AsyncFalClient

    async with AsyncFalClient(**client_options(server)) as client:
        events = [event async for event in client.hidream_i1_fast.stream(prompt="a lighthouse")]
    assert len(events) == 3 and events[-1].images


def test_stream_failure_is_an_api_error(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, ServerError

    urls = serve(faults=Faults(failure_rate=1.0))
    with FalClient(**client_options(urls)) as client, pytest.raises(ServerError) as failure:
        list(client.hidream_i1_full.stream(prompt="a lighthouse"))
    assert failure.value.error_type == "runner_server_error"
    assert stats(urls)["runs"] == {"fal-ai/hidream-i1-full": 1}, "a run is not repeated"


def test_only_capable_endpoints_have_stream_and_realtime(client: Any) -> None:
    assert hasattr(client.hidream_i1_full, "stream")
    assert not hasattr(client.flux_1_schnell, "stream")
    assert hasattr(client.fast_lcm_diffusion, "realtime")
    assert not hasattr(client.flux_1_schnell, "realtime")


@pytest.mark.parametrize("framing", ["msgpack", "json"])
def test_realtime_round_trips(client: Any, server: ServerURLs, framing: str) -> None:
    from fal_models.endpoints.fast_lcm_diffusion import (
        FastLcmDiffusionInput,
        FastLcmDiffusionOutput,
    )

    with client.fast_lcm_diffusion.realtime(framing=framing) as connection:
        connection.send(prompt="a cat", seed=1)
        first = connection.recv(timeout=5)
        connection.send_input(FastLcmDiffusionInput(prompt="a dog", seed=2))
        second = connection.recv(timeout=5)
    assert isinstance(first, FastLcmDiffusionOutput) and first.seed == 1
    assert second.seed == 2 and second.prompt == "a dog"
    assert stats(server)["realtime_messages"] == {"fal-ai/fast-lcm-diffusion": 2}


def test_realtime_error_messages_raise(client: Any) -> None:
    from fal_models import RealtimeError

    with client.fast_lcm_diffusion.realtime() as connection:
        # Bypass the client's validation to make the server reject the input.
        connection._send_payload({"prompt": 42})
        with pytest.raises(RealtimeError) as failure:
            connection.recv(timeout=5)
        assert failure.value.error == "VALIDATION_ERROR"
        connection.send(prompt="still open")
        assert connection.recv(timeout=5).prompt == "still open"


def test_realtime_rejects_a_bad_key(server: ServerURLs) -> None:
    from fal_models import AuthenticationError, FalClient

    with (
        FalClient(**client_options(server, key="wrong")) as client,
        pytest.raises(AuthenticationError) as failure,
    ):
        client.fast_lcm_diffusion.realtime().connect()
    assert "wrong" not in str(failure.value) and KEY not in str(failure.value)


@pytest.mark.anyio
async def test_async_realtime(server: ServerURLs) -> None:
    from fal_models import AsyncFalClient

    async with (
        AsyncFalClient(**client_options(server)) as client,
        client.fast_lcm_diffusion.realtime() as connection,
    ):
        await connection.send(prompt="a cat", seed=4)
        output = await connection.recv(timeout=5)
    assert output.seed == 4 and output.images
