"""Following a request: status stream first, polling when the stream is unavailable or breaks,
the client-side deadline, and what a failed request raises."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.helpers import FLUX_OUTPUT
from tests.runtime.conftest import KEY

QUEUE = "https://queue.test"
BASE = f"{QUEUE}/fal-ai/flux-1/requests/r-1"
QUEUED = {"status": "IN_QUEUE", "queue_position": 2}
RUNNING = {"status": "IN_PROGRESS", "logs": [{"message": "step", "level": "INFO"}]}
DONE = {"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 0.5}}


def sse(*events: dict[str, Any], extra: str = "") -> httpx.Response:
    body = extra + "".join(f"data: {json.dumps(event)}\n\n" for event in events)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


class FakeQueue:
    """The queue API for one request; ``stream`` answers the status stream, in turn."""

    def __init__(self, stream: list[httpx.Response], polls: list[dict[str, Any]]) -> None:
        self.stream = stream
        self.polls = polls
        self.paths: list[str] = []
        self.queries: list[str] = []
        self.result = httpx.Response(200, json=FLUX_OUTPUT)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(f"{request.method} {path}")
        self.queries.append(request.url.query.decode())
        if request.method == "POST":
            return httpx.Response(
                200,
                json={
                    "request_id": "r-1",
                    "status_url": f"{BASE}/status",
                    "response_url": BASE,
                    "cancel_url": f"{BASE}/cancel",
                },
            )
        if path.endswith("/status/stream"):
            return self.stream.pop(0)
        if path.endswith("/status"):
            return httpx.Response(200, json=self.polls.pop(0))
        if path.endswith("/cancel"):
            return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
        return self.result


def client_for(queue: FakeQueue, **options: Any) -> Any:
    from fal_models import ClientConfig, FalClient

    config = ClientConfig(key=KEY, queue_url=QUEUE, poll_interval=0.001, **options)
    return FalClient(config=config, http_client=httpx.Client(transport=httpx.MockTransport(queue)))


def kinds(queue: FakeQueue) -> list[str]:
    return [path.rsplit("/", 1)[-1] if "/requests/" in path else "submit" for path in queue.paths]


def test_statuses_come_from_the_stream() -> None:
    queue = FakeQueue([sse(QUEUED, RUNNING, DONE, extra=": keep-alive\n\n")], [])
    seen: list[Any] = []
    with client_for(queue) as client:
        output = client.flux_1_schnell(prompt="p", with_logs=True, on_queue_update=seen.append)
    assert output.seed == 1
    assert [status.status for status in seen] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert seen[0].position == 2 and seen[1].logs[0].message == "step"
    assert seen[2].logs == [] and seen[2].metrics == {"inference_time": 0.5}
    assert kinds(queue) == ["submit", "stream", "r-1"]
    assert queue.queries[1] == "logs=1"


@pytest.mark.parametrize(
    "unavailable",
    [
        httpx.Response(404, json={"detail": "no stream here"}),
        httpx.Response(405),
        httpx.Response(200, json=DONE),  # not an event stream
    ],
)
def test_polls_when_the_stream_is_unavailable(unavailable: httpx.Response) -> None:
    queue = FakeQueue([unavailable], [QUEUED, QUEUED, RUNNING, DONE])
    seen: list[Any] = []
    with client_for(queue, max_retries=0) as client:
        client.flux_1_schnell(prompt="p", on_queue_update=seen.append)
    assert [status.status for status in seen] == [
        "IN_QUEUE",
        "IN_QUEUE",
        "IN_PROGRESS",
        "COMPLETED",
    ]
    assert kinds(queue) == ["submit", "stream", "status", "status", "status", "status", "r-1"]


def test_a_stream_that_ends_early_is_reopened() -> None:
    queue = FakeQueue([sse(QUEUED), sse(RUNNING, DONE)], [])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events())
    assert [event.status for event in events] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert kinds(queue) == ["stream", "stream"]


def test_a_stream_that_says_nothing_means_polling() -> None:
    queue = FakeQueue([sse()], [DONE])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events())
    assert [event.status for event in events] == ["COMPLETED"]
    assert kinds(queue) == ["stream", "status"]


def test_polling_only_when_configured() -> None:
    queue = FakeQueue([], [RUNNING, DONE])
    with client_for(queue, stream_status=False) as client:
        assert client.flux_1_schnell.handle("r-1").result().seed == 1
    assert kinds(queue) == ["status", "status", "r-1"]


def test_poll_delay_backs_off_while_nothing_changes() -> None:
    from fal_models._runtime import ClientConfig, Completed, InProgress, Log, Queued
    from fal_models._runtime._queue import MAX_POLL_INTERVAL, Follow

    follow = Follow(ClientConfig(poll_interval=0.1), "r-1")
    same = [follow.poll_delay(Queued(queue_position=3)) for _ in range(6)]
    assert same == [0.1, 0.2, 0.4, 0.8, 1.6, MAX_POLL_INTERVAL]
    assert follow.poll_delay(Queued(queue_position=2)) == 0.1, "a change resets the backoff"
    assert follow.poll_delay(InProgress()) == 0.1
    assert follow.poll_delay(InProgress()) == 0.2
    assert follow.poll_delay(InProgress(logs=[Log(message="new")])) == 0.1
    bounded = Follow(ClientConfig(poll_interval=0.1), "r-1", timeout=0.05)
    assert bounded.poll_delay(Completed()) <= 0.05


def test_deadline_cancels_and_raises() -> None:
    from fal_models import TimeoutError

    forever = [QUEUED] * 10_000
    queue = FakeQueue([httpx.Response(404)], forever)
    with client_for(queue, max_retries=0) as client, pytest.raises(TimeoutError) as failure:
        client.flux_1_schnell(prompt="p", timeout=0.05)
    assert "r-1" in str(failure.value) and "0.05" in str(failure.value)
    assert queue.paths[-1] == "PUT /fal-ai/flux-1/requests/r-1/cancel"


def test_failed_request_reports_the_result_error() -> None:
    from fal_models import RequestFailed, ValidationError

    failed = {**DONE, "error": "Internal error", "error_type": "runner_server_error"}
    queue = FakeQueue([sse(RUNNING, failed)], [])
    queue.result = httpx.Response(500, json={"detail": "CUDA out of memory"})
    with client_for(queue) as client, pytest.raises(RequestFailed) as failure:
        client.flux_1_schnell(prompt="p")
    assert failure.value.message == "CUDA out of memory"
    assert (failure.value.status_code, failure.value.error_type) == (500, "runner_server_error")
    assert kinds(queue).count("r-1") == 1, "the failed result is read once, not retried"

    detail = [{"loc": ["body", "image_url"], "msg": "File could not be downloaded", "type": "x"}]
    queue = FakeQueue([sse({**DONE, "error": "Unprocessable"})], [])
    queue.result = httpx.Response(422, json={"detail": detail})
    with client_for(queue) as client, pytest.raises(ValidationError) as invalid:
        client.flux_1_schnell(prompt="p")
    assert invalid.value.errors[0].path == "image_url" and invalid.value.request_id == "r-1"


def test_a_completed_status_with_an_error_raises_for_error() -> None:
    from fal_models import Completed, RequestFailed

    status = Completed(error="boom", error_type="internal")
    with pytest.raises(RequestFailed, match="boom"):
        status.raise_for_error("r-9")
    Completed().raise_for_error("r-9")


def test_unexpected_replies_are_api_errors() -> None:
    from fal_models import APIError

    queue = FakeQueue([sse(DONE)], [])
    queue.result = httpx.Response(200, json={"images": "not a list"})
    with client_for(queue) as client, pytest.raises(APIError, match="Flux1SchnellOutput"):
        client.flux_1_schnell(prompt="p")
    queue = FakeQueue([], [{"status": "SOMETHING_NEW"}])
    with client_for(queue, stream_status=False) as client, pytest.raises(APIError, match="status"):
        client.flux_1_schnell.handle("r-1").status()


def test_submission_reply_without_request_id() -> None:
    from fal_models import APIError

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "IN_QUEUE"})

    from fal_models import FalClient

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with (
        FalClient(key=KEY, http_client=http) as client,
        pytest.raises(APIError, match="request_id"),
    ):
        client.flux_1_schnell.submit(prompt="p")


def test_handle_urls_fall_back_to_the_app_path() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": "r-7"})

    from fal_models import FalClient

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with FalClient(key=KEY, queue_url=QUEUE, http_client=http) as client:
        handle = client.imagen4_preview_fast.submit(prompt="a lighthouse")
    assert handle.urls.status_url == f"{QUEUE}/fal-ai/imagen4/requests/r-7/status"
    assert handle.urls.response_url == f"{QUEUE}/fal-ai/imagen4/requests/r-7"


@pytest.mark.anyio
async def test_async_follow_falls_back_and_reconnects() -> None:
    from fal_models import AsyncFalClient, ClientConfig

    queue = FakeQueue([sse(QUEUED), httpx.Response(404)], [RUNNING, DONE])

    async def handler(request: httpx.Request) -> httpx.Response:
        return queue(request)

    config = ClientConfig(key=KEY, queue_url=QUEUE, poll_interval=0.001, max_retries=0)
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncFalClient(config=config, http_client=http) as client:
        seen: list[Any] = []
        output = await client.flux_1_schnell(prompt="p", on_queue_update=seen.append)
    assert output.seed == 1
    assert [status.status for status in seen] == ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
    assert kinds(queue) == ["submit", "stream", "stream", "status", "status", "r-1"]
    await http.aclose()


def test_a_stream_that_keeps_breaking_gives_way_to_polling() -> None:
    from fal_models._runtime._queue import MAX_STREAM_RECONNECTS

    broken = [sse(RUNNING) for _ in range(MAX_STREAM_RECONNECTS + 1)]
    queue = FakeQueue(broken, [RUNNING, DONE])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events())
    assert events[-1].status == "COMPLETED"
    assert kinds(queue) == ["stream"] * (MAX_STREAM_RECONNECTS + 1) + ["status", "status"]
