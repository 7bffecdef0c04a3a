"""Following a request: status stream first, polling when the stream is unavailable or breaks,
the client-side deadline, and what a failed request raises."""

from __future__ import annotations

import json
import time
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


def sse(*events: dict[str, Any], extra: str = "", tail: str = "") -> httpx.Response:
    body = extra + "".join(f"data: {json.dumps(event)}\n\n" for event in events) + tail
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())


class FakeQueue:
    """The queue API for one request; ``stream`` answers the status stream, in turn."""

    def __init__(
        self, stream: list[httpx.Response | Exception], polls: list[dict[str, Any]]
    ) -> None:
        self.stream = stream
        self.polls = polls
        self.paths: list[str] = []
        self.queries: list[str] = []
        self.accept: list[str | None] = []
        self.result = httpx.Response(200, json=FLUX_OUTPUT)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.paths.append(f"{request.method} {path}")
        self.queries.append(request.url.query.decode())
        self.accept.append(request.headers.get("accept"))
        if isinstance(self.stream and self.stream[0], Exception) and path.endswith("/stream"):
            raise self.stream.pop(0)
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
            answer = self.stream.pop(0)
            assert isinstance(answer, httpx.Response)
            return answer
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
    assert seen[2].logs == seen[1].logs and seen[2].metrics == {"inference_time": 0.5}
    assert kinds(queue) == ["submit", "stream", "r-1"]
    assert queue.queries[1] == "logs=1"
    assert queue.accept[1] == "text/event-stream"


def log(message: str) -> dict[str, str]:
    return {"message": message, "level": "INFO", "source": "USER", "timestamp": "t"}


def test_streamed_log_lines_add_up_as_polled_ones() -> None:
    """Each event of the status stream carries only the lines new since the previous one;
    every status the client gives holds all the lines so far, as a polled one does."""
    new_lines = [
        {"status": "IN_PROGRESS", "logs": [log("one"), log("two")]},
        {"status": "IN_PROGRESS", "logs": []},
        {"status": "IN_PROGRESS", "logs": None},
        {"status": "IN_PROGRESS", "logs": [log("three")]},
        {**DONE, "logs": [log("four")]},
    ]
    queue = FakeQueue([sse(QUEUED, *new_lines)], [])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events(logs=True))
    assert [[line.message for line in getattr(event, "logs", [])] for event in events] == [
        [],
        ["one", "two"],
        ["one", "two"],
        ["one", "two"],
        ["one", "two", "three"],
        ["one", "two", "three", "four"],
    ]


def test_a_reopened_stream_starts_its_lines_afresh() -> None:
    """A new stream's first event holds the lines so far: they are not counted twice."""
    first = sse({"status": "IN_PROGRESS", "logs": [log("one")]})
    second = sse({"status": "IN_PROGRESS", "logs": [log("one"), log("two")]}, DONE)
    queue = FakeQueue([first, second], [])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events(logs=True))
    assert [len(getattr(event, "logs", [])) for event in events] == [1, 2, 2]


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


def test_polls_come_at_the_interval_then_slow_down_with_the_wait() -> None:
    """Polls start every ``poll_interval`` at first (as fal-client polls), then every tenth of
    the time waited so far, up to MAX_POLL_INTERVAL, and never past the deadline."""
    from fal_models._runtime import ClientConfig
    from fal_models._runtime._queue import MAX_POLL_INTERVAL, Follow

    follow = Follow(ClientConfig(poll_interval=0.1), "r-1")
    delays = []
    for waited in (0.0, 0.5, 1.0, 5.0, 15.0, 600.0):
        follow.started = time.monotonic() - waited
        delays.append(round(follow.poll_delay(polled_at=time.monotonic()), 2))
    assert delays == [0.1, 0.1, 0.1, 0.5, 1.5, MAX_POLL_INTERVAL]
    follow.started = time.monotonic()
    assert round(follow.poll_delay(polled_at=time.monotonic() - 0.03), 2) == 0.07, "from its start"
    assert follow.poll_delay(polled_at=time.monotonic() - 1.0) == 0.0
    bounded = Follow(ClientConfig(poll_interval=0.1), "r-1", timeout=0.05)
    assert bounded.poll_delay(polled_at=time.monotonic()) <= 0.05


def test_deadline_cancels_and_raises() -> None:
    from fal_models import TimeoutError

    forever = [QUEUED] * 10_000
    queue = FakeQueue([httpx.Response(404)], forever)
    with client_for(queue, max_retries=0) as client, pytest.raises(TimeoutError) as failure:
        client.flux_1_schnell(prompt="p", timeout=0.05)
    assert (failure.value.request_id, failure.value.timeout) == ("r-1", 0.05)
    assert "r-1" in str(failure.value) and "cancelled" in str(failure.value)
    assert queue.paths[-1] == "PUT /fal-ai/flux-1/requests/r-1/cancel"


def test_a_timed_out_request_can_be_left_running_and_picked_up() -> None:
    from fal_models import TimeoutError

    queue = FakeQueue([httpx.Response(404), httpx.Response(404)], [QUEUED] * 10_000)
    with client_for(queue, max_retries=0) as client:
        with pytest.raises(TimeoutError) as failure:
            client.flux_1_schnell(prompt="p", timeout=0.05, cancel_on_timeout=False)
        assert "keeps running" in str(failure.value)
        assert not any(path.endswith("/cancel") for path in queue.paths)
        queue.polls[:] = [DONE]
        output = client.flux_1_schnell.handle(failure.value.request_id).result()
    assert output.seed == 1
    assert kinds(queue).count("submit") == 1


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


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.Response(200, json=RUNNING),  # not an event stream
        sse(RUNNING, tail="data: {not json\n\n"),  # broken after a status
        sse(RUNNING, {"status": "NEW_KIND"}),
    ],
)
def test_a_failed_stream_means_polling_for_that_request(failure: Any) -> None:
    queue = FakeQueue([failure], [RUNNING, DONE])
    with client_for(queue, max_retries=0) as client:
        assert client.flux_1_schnell(prompt="p").seed == 1
    assert kinds(queue)[:2] == ["submit", "stream"]
    assert kinds(queue)[2:] == ["status", "status", "r-1"], "polled, not re-submitted"


def test_a_stream_that_keeps_breaking_gives_way_to_polling() -> None:
    from fal_models._runtime._queue import MAX_STREAM_RECONNECTS

    broken = [sse(RUNNING) for _ in range(MAX_STREAM_RECONNECTS + 1)]
    queue = FakeQueue(broken, [RUNNING, DONE])
    with client_for(queue) as client:
        events = list(client.flux_1_schnell.handle("r-1").iter_events())
    assert events[-1].status == "COMPLETED"
    assert kinds(queue) == ["stream"] * (MAX_STREAM_RECONNECTS + 1) + ["status", "status"]


def test_streaming_endpoints_ask_for_an_event_stream() -> None:
    from fal_models import FalClient

    accept: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        accept.append(request.headers.get("accept"))
        return sse(FLUX_OUTPUT)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with FalClient(key=KEY, run_url="https://run.test", http_client=http) as client:
        outputs = list(client.hidream_i1_full.stream(prompt="p"))
    assert len(outputs) == 1 and accept == ["text/event-stream"]


def test_the_output_model_is_built_while_the_request_runs() -> None:
    """Models build their validators when first used: a call builds its output model's while
    it waits, so that the result, when it comes, is not kept waiting for it."""
    from fal_models._runtime import FalModel
    from fal_models._runtime._queue import RequestURLs, SyncRequestHandle

    class Output(FalModel):
        seed: int

    assert not Output.__pydantic_complete__  # not built when defined
    built_by_then: list[bool] = []

    class Watching(FakeQueue):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/status"):
                built_by_then.append(Output.__pydantic_complete__)
            return super().__call__(request)

    with client_for(Watching([], [QUEUED, DONE]), stream_status=False) as client:
        urls = RequestURLs.for_app(QUEUE, "fal-ai/flux-1", "r-1")
        output = SyncRequestHandle(client, urls, Output).result()
    assert output.seed == 1
    assert built_by_then == [True, True]
