"""Handles: submit, status, iter_events, result, cancel, re-attaching by id; following the
status over Server-Sent Events and falling back to polling."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from generator.server import Faults, ServerURLs
from tests.e2e.conftest import client_options, release, reset, stats


def test_submit_status_events_result(client: Any, server: ServerURLs) -> None:
    from fal_models import Completed, InProgress, Queued

    handle = client.flux_1_schnell.submit(prompt="a fox")
    assert handle.request_id and handle.request_id in repr(handle)
    # The handle uses the URLs the queue returned: they address the app, not the endpoint.
    assert "/fal-ai/flux-1/requests/" in handle.urls.status_url
    assert isinstance(handle.status(), Queued | InProgress | Completed)
    events = list(handle.iter_events(logs=True))
    assert isinstance(events[-1], Completed)
    assert all(not isinstance(event, Completed) for event in events[:-1])
    assert [log.message for log in events[-1].logs] == ["Step 1/2", "Step 2/2"]
    assert events[-1].metrics
    output = handle.result()
    assert output.images
    routes = stats(server)["routes"]
    assert routes["status_stream"] >= 1 and routes["submit"] == 1


def test_status_stream_delivers_logs_without_polling(client: Any, server: ServerURLs) -> None:
    seen: list[Any] = []
    client.flux_1_schnell(prompt="a fox", with_logs=True, on_queue_update=seen.append)
    statuses = [status.status for status in seen]
    assert statuses[0] in ("IN_QUEUE", "IN_PROGRESS") and statuses[-1] == "COMPLETED"
    assert "IN_PROGRESS" in statuses
    assert any(status.logs for status in seen if status.status == "IN_PROGRESS")
    routes = stats(server)["routes"]
    assert routes.get("status", 0) == 0, "the stream made polling unnecessary"
    assert routes["status_stream"] == 1


def test_result_arrives_without_polling_delay(serve: Callable[..., ServerURLs]) -> None:
    """COMPLETED comes over the stream, so the result follows the server's completion at once."""
    from fal_models import ClientConfig, FalClient

    urls = serve(queue_delay=0.05, progress_steps=1, step_delay=0.05)
    # Polling this slowly would show: the stream has to carry COMPLETED.
    config = ClientConfig(**client_options(urls), poll_interval=5.0)
    with FalClient(config=config) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        handle.result()
        finished = time.time()
    (record,) = stats(urls)["requests"].values()
    assert finished - record["completed_at"] < 1.0  # a poll would have come 5 s later


def test_falls_back_to_polling_when_the_stream_fails(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient

    urls = serve(faults=Faults(error_rate=1.0, routes=frozenset({"status_stream"})))
    seen: list[Any] = []
    with FalClient(**client_options(urls, max_retries=0)) as client:
        output = client.flux_1_schnell(prompt="a fox", with_logs=True, on_queue_update=seen.append)
    assert output.images
    assert seen[-1].status == "COMPLETED" and seen[-1].logs
    routes = stats(urls)["routes"]
    assert routes["status_stream"] == 1, "a failed stream is not retried over and over"
    assert routes["status"] >= 1


def test_polling_when_streaming_is_switched_off(server: ServerURLs) -> None:
    from fal_models import ClientConfig, FalClient

    reset(server)
    config = ClientConfig(**client_options(server), stream_status=False)
    with FalClient(config=config) as client:
        events = list(client.flux_1_schnell.submit(prompt="a fox").iter_events())
    assert events[-1].status == "COMPLETED"
    assert stats(server)["routes"].get("status_stream", 0) == 0


def test_handle_by_id_from_another_client(client: Any, server: ServerURLs) -> None:
    from fal_models import FalClient

    request_id = client.flux_1_schnell.submit(prompt="a fox", seed=3).request_id
    with FalClient(**client_options(server)) as other:
        handle = other.flux_1_schnell.handle(request_id)
        assert handle.result().seed == 3
        assert handle.status().status == "COMPLETED"


def test_cancel_a_running_request(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import APIError, FalClient, RequestFailed

    urls = serve(hold=True)
    with FalClient(**client_options(urls)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        handle.cancel()
        with pytest.raises(RequestFailed) as failure:
            handle.result(timeout=5)
        assert failure.value.error_type == "client_cancelled"
        assert failure.value.request_id == handle.request_id
        with pytest.raises(APIError) as again:
            handle.cancel()
        assert again.value.status_code == 400


def test_result_waits_for_a_held_request(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import FalClient, InProgress

    urls = serve(hold=True)
    with FalClient(**client_options(urls)) as client:
        handle = client.flux_1_schnell.submit(prompt="a fox")
        seen: list[Any] = []

        def release_when_running(status: Any) -> None:
            seen.append(status)
            if isinstance(status, InProgress) and len(seen) == 2:
                threading.Timer(0.05, release, (urls, handle.request_id)).start()

        output = handle.result(on_queue_update=release_when_running)
    assert output.images and seen[-1].status == "COMPLETED"


@pytest.mark.anyio
async def test_async_handle(serve: Callable[..., ServerURLs]) -> None:
    from fal_models import AsyncFalClient, Completed, RequestFailed

    urls = serve(hold=True)
    async with AsyncFalClient(**client_options(urls)) as client:
        handle = await client.flux_1_schnell.submit(prompt="a fox")
        status = await handle.status(logs=True)
        assert status.status in ("IN_QUEUE", "IN_PROGRESS")
        release(urls, handle.request_id)
        events = [event async for event in handle.iter_events(logs=True)]
        assert isinstance(events[-1], Completed)
        assert (await handle.result()).images
        again = client.flux_1_schnell.handle(handle.request_id)
        assert (await again.result()).images

        held = await client.flux_1_schnell.submit(prompt="another fox")
        await held.cancel()
        with pytest.raises(RequestFailed):
            await held.result(timeout=5)
