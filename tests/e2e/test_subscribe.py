"""Every endpoint, called through the queue the way users call it, sync and async."""

from __future__ import annotations

from typing import Any

import pytest

from generator.ir import Endpoint
from generator.loader import SpecDocument
from generator.server import ServerURLs
from tests.e2e.conftest import client_options, example_arguments, reset, stats
from tests.helpers import calling


def _cases(
    endpoints: tuple[Endpoint, ...], specs: list[SpecDocument]
) -> list[tuple[Endpoint, Any]]:
    by_id = {spec.endpoint_id: spec for spec in specs}
    return [
        (endpoint, example_arguments(endpoint, by_id[endpoint.endpoint_id]))
        for endpoint in endpoints
    ]


def test_every_endpoint_subscribes_sync(
    server: ServerURLs, endpoints: tuple[Endpoint, ...], spec_documents: list[SpecDocument]
) -> None:
    from fal_models import Completed, FalClient

    reset(server)
    with FalClient(**client_options(server)) as client:
        for endpoint, arguments in _cases(endpoints, spec_documents):
            queued: list[str] = []
            updates: list[Any] = []
            resource = getattr(client, endpoint.attribute)
            with calling(endpoint):
                output = resource(
                    **arguments, on_enqueue=queued.append, on_queue_update=updates.append
                )
            assert type(output).__name__ == endpoint.output.class_name
            assert len(queued) == 1 and queued[0]
            assert isinstance(updates[-1], Completed)
    counts = stats(server)["submissions"]
    assert counts == {endpoint.endpoint_id: 1 for endpoint in endpoints}


@pytest.mark.anyio
async def test_every_endpoint_subscribes_async(
    server: ServerURLs, endpoints: tuple[Endpoint, ...], spec_documents: list[SpecDocument]
) -> None:
    from fal_models import AsyncFalClient, Completed

    reset(server)
    async with AsyncFalClient(**client_options(server)) as client:
        for endpoint, arguments in _cases(endpoints, spec_documents):
            updates: list[Any] = []
            resource = getattr(client, endpoint.attribute)
            with calling(endpoint):
                output = await resource(**arguments, on_queue_update=updates.append)
            assert type(output).__name__ == endpoint.output.class_name
            assert isinstance(updates[-1], Completed)
    counts = stats(server)["submissions"]
    assert counts == {endpoint.endpoint_id: 1 for endpoint in endpoints}


def test_subscribe_sends_queue_options(client: Any, server: ServerURLs) -> None:
    client.flux_1_schnell(prompt="a fox", priority="low", start_timeout=30, hint="lora-a")
    (record,) = stats(server)["requests"].values()
    assert (record["priority"], record["start_timeout"], record["runner_hint"]) == (
        "low",
        30.0,
        "lora-a",
    )


def test_unset_arguments_are_not_sent(client: Any, server: ServerURLs) -> None:
    """Only what the caller gave goes over the wire: the server's defaults apply."""
    output = client.flux_1_schnell(prompt="a fox", num_images=2)
    assert len(output.images) == 2
    digests = stats(server)["submissions_by_input"]["fal-ai/flux-1/schnell"]
    from generator.server import input_digest

    assert list(digests) == [input_digest({"prompt": "a fox", "num_images": 2})]


def test_direct_run(client: Any, server: ServerURLs) -> None:
    output = client.flux_1_schnell.run(prompt="a fox", seed=7)
    assert output.images and output.seed == 7
    data = stats(server)
    assert data["runs"] == {"fal-ai/flux-1/schnell": 1} and data["submissions"] == {}


@pytest.mark.anyio
async def test_direct_run_async(server: ServerURLs) -> None:
    from fal_models import AsyncFalClient

    async with AsyncFalClient(**client_options(server)) as client:
        output = await client.flux_1_schnell.run(prompt="a fox", seed=8)
    assert output.seed == 8


def test_client_timeout_bounds_the_start_timeout(client: Any, server: ServerURLs) -> None:
    client.flux_1_schnell(prompt="a fox", timeout=60)
    client.flux_1_schnell(prompt="a fox", timeout=60, start_timeout=5)
    client.flux_1_schnell(prompt="a fox", timeout=0.9)  # below what fal accepts: not sent
    records = sorted(stats(server)["requests"].values(), key=lambda record: record["submitted_at"])
    assert [record["start_timeout"] for record in records] == [60.0, 5.0, None]


@pytest.mark.anyio
async def test_async_calls_in_a_row_share_one_connection(server: ServerURLs) -> None:
    """The status stream is read to its end after COMPLETED, so its connection goes back to the
    pool and carries the result and the next calls: no new connection (TLS handshake) per call."""
    from fal_models import AsyncFalClient

    reset(server)
    async with AsyncFalClient(**client_options(server)) as client:
        for index in range(3):
            assert (await client.flux_1_schnell(prompt=f"call {index}")).images
    data = stats(server)
    assert data["routes"]["status_stream"] == 3
    assert data["connections"] == 2  # the client's one, and the one asking for these stats
