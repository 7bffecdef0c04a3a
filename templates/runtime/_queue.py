"""The fal queue: typed request statuses and handles to submitted requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias, TypeVar

import httpx
import pydantic

from . import _errors, _http
from ._config import ClientConfig
from ._outputs import parse_output

if TYPE_CHECKING:
    from ._client import AsyncClient, SyncClient

OutT = TypeVar("OutT", bound=pydantic.BaseModel)


class Log(pydantic.BaseModel):
    """A log line of a running request."""

    message: str
    level: str = "INFO"
    source: str = ""
    timestamp: str = ""


class _StatusBase(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow")

    @pydantic.field_validator("logs", mode="before", check_fields=False)
    @classmethod
    def _null_logs(cls, value: Any) -> Any:
        return [] if value is None else value


class Queued(_StatusBase):
    """Waiting in the queue; ``position`` 0 is next."""

    status: Literal["IN_QUEUE"] = "IN_QUEUE"
    queue_position: int = 0

    @property
    def position(self) -> int:
        return self.queue_position


class InProgress(_StatusBase):
    """Running; ``logs`` holds the log lines so far (when requested)."""

    status: Literal["IN_PROGRESS"] = "IN_PROGRESS"
    logs: list[Log] = []


class Completed(_StatusBase):
    """Finished; ``error`` is set when the request failed."""

    status: Literal["COMPLETED"] = "COMPLETED"
    logs: list[Log] = []
    metrics: dict[str, Any] = {}
    error: str | None = None
    error_type: str | None = None

    def raise_for_error(self, request_id: str) -> None:
        """Raise RequestFailed when the request completed with an error (``handle.result()``
        raises too, with the details of the failed result, e.g. a ValidationError)."""
        if self.error is not None:
            raise failure(self, request_id, None)


Status: TypeAlias = Annotated[
    Queued | InProgress | Completed, pydantic.Field(discriminator="status")
]
_STATUS = pydantic.TypeAdapter[Queued | InProgress | Completed](Status)


def parse_status(data: Any) -> Queued | InProgress | Completed:
    try:
        return _STATUS.validate_python(data)
    except pydantic.ValidationError as problem:
        raise _errors.APIError(f"unexpected request status: {problem}", body=data) from None


@dataclass(frozen=True)
class RequestURLs:
    """Where a queued request lives. fal addresses requests by app (``owner/alias``)."""

    request_id: str
    status_url: str
    response_url: str
    cancel_url: str

    @classmethod
    def for_app(cls, queue_url: str, app_id: str, request_id: str) -> RequestURLs:
        base = f"{queue_url}/{app_id}/requests/{request_id}"
        return cls(request_id, f"{base}/status", base, f"{base}/cancel")

    @classmethod
    def from_reply(cls, reply: Mapping[str, Any], fallback: RequestURLs) -> RequestURLs:
        return cls(
            request_id=fallback.request_id,
            status_url=str(reply.get("status_url") or fallback.status_url),
            response_url=str(reply.get("response_url") or fallback.response_url),
            cancel_url=str(reply.get("cancel_url") or fallback.cancel_url),
        )

    @property
    def stream_url(self) -> str:
        return f"{self.status_url}/stream"


MAX_POLL_INTERVAL = 2.0  # seconds: the slowest polling gets while nothing changes
MAX_STREAM_RECONNECTS = 5  # then poll: a stream that keeps breaking is not worth reopening
# fal ends a status stream right after COMPLETED. Reading it to its end returns the connection to
# the pool, so the result is fetched over it rather than over a new connection (a TLS handshake
# more); the async client waits this long at most for the end, then lets the connection go.
STREAM_DRAIN_TIMEOUT = 0.1
# What ends a status stream early (the request keeps running): the follower then polls once
# or reconnects.
STREAM_ERRORS: tuple[type[Exception], ...] = (
    _errors.APIError,
    _errors.APIConnectionError,
    httpx.HTTPError,
    ValueError,
)


class Follow:
    """Decisions of following one request until COMPLETED, shared by the sync and async loops:
    stream or poll, how long to wait between polls, and the optional client-side deadline.
    """

    def __init__(self, config: ClientConfig, request_id: str, timeout: float | None = None) -> None:
        self.config = config
        self.request_id = request_id
        self.limit = timeout
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.streaming = config.stream_status
        self._reconnects = 0
        self._polls = 0
        self._last: tuple[object, ...] | None = None

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def timeout_error(self) -> _errors.TimeoutError:
        what = f"request {self.request_id}" if self.request_id else "the request"
        return _errors.TimeoutError(f"{what} did not complete within {self.limit} s")

    def check_deadline(self) -> None:
        if self.expired():
            raise self.timeout_error()

    def request_timeout(self) -> float:
        """The timeout of one HTTP request: the configured one, cut short by the deadline."""
        self.check_deadline()
        if self.deadline is None:
            return self.config.timeout
        return max(0.001, min(self.config.timeout, self.deadline - time.monotonic()))

    def stream_ended(self, received: bool) -> None:
        """A stream that delivered statuses is reopened (a few times); one that did not means
        polling."""
        self._reconnects += 1
        if not received or self._reconnects > MAX_STREAM_RECONNECTS:
            self.streaming = False

    def poll_delay(self, status: Queued | InProgress | Completed) -> float:
        """Start at ``poll_interval`` and back off while nothing changes."""
        seen = (
            status.status,
            getattr(status, "queue_position", None),
            len(status_logs(status)),
        )
        if seen != self._last:
            self._last, self._polls = seen, 0
        delay = min(self.config.poll_interval * 2.0**self._polls, MAX_POLL_INTERVAL)
        self._polls += 1
        if self.deadline is not None:
            delay = min(delay, max(0.0, self.deadline - time.monotonic()))
        return delay


def failure(
    status: Completed, request_id: str, result_error: _errors.FalError | None
) -> _errors.FalError:
    """What a request that COMPLETED with an error raises: ValidationError when its result is
    a 422 with located problems, else RequestFailed with the result's detail and status.
    """
    if isinstance(result_error, _errors.ValidationError):
        return result_error
    if isinstance(result_error, _errors.APIError) and not isinstance(
        result_error, _errors.AuthenticationError | _errors.RateLimitError
    ):
        return _errors.RequestFailed(
            result_error.message,
            status_code=result_error.status_code,
            error_type=result_error.error_type or status.error_type,
            request_id=request_id,
            body=result_error.body,
        )
    return _errors.RequestFailed(
        status.error or "the request failed",
        error_type=status.error_type,
        request_id=request_id,
        body=status.model_dump(),
    )


def status_logs(status: Queued | InProgress | Completed) -> list[Log]:
    return [] if isinstance(status, Queued) else status.logs


def status_params(logs: bool) -> dict[str, int]:
    return {"logs": int(logs)}


def is_event_stream(response: httpx.Response) -> bool:
    content_type: str = response.headers.get("content-type", "")
    return content_type.startswith("text/event-stream")


def status_from_event(data: str) -> Queued | InProgress | Completed | None:
    """The status an SSE ``data`` field carries, or None for anything else (pings)."""
    if not data.strip():
        return None
    value = json.loads(data)
    if not isinstance(value, dict) or "status" not in value:
        return None
    return parse_status(value)


class SyncRequestHandle(Generic[OutT]):
    """A submitted request: follow its status, wait for its result, or cancel it."""

    def __init__(self, client: SyncClient, urls: RequestURLs, output_model: type[OutT]) -> None:
        self._client = client
        self.urls = urls
        self._output_model = output_model

    @property
    def request_id(self) -> str:
        return self.urls.request_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request_id}>"

    def status(self, *, logs: bool = False) -> Queued | InProgress | Completed:
        """The current status (with the log lines so far when ``logs``)."""
        return self._status(logs, self._client.config.timeout)

    def iter_events(self, *, logs: bool = False) -> Iterator[Queued | InProgress | Completed]:
        """Status updates until (and including) COMPLETED, streamed as they happen."""
        return self._follow(Follow(self._client.config, self.request_id), logs)

    def result(
        self,
        *,
        timeout: float | None = None,
        on_queue_update: Callback | None = None,
        with_logs: bool = False,
    ) -> OutT:
        """Wait until the request completes and return its output.

        ``on_queue_update`` is called with each status (with log lines when ``with_logs``).
        Raises RequestFailed when the request completed with an error (ValidationError when
        the endpoint rejected the input), TimeoutError after ``timeout`` seconds (the request
        keeps running: cancel it if you no longer need it).
        """
        follow = Follow(self._client.config, self.request_id, timeout)
        try:
            return self._wait(follow, with_logs, on_queue_update)
        except _errors.FalError as error:
            if not follow.expired() or isinstance(error, _errors.TimeoutError):
                raise
            raise follow.timeout_error() from error

    def cancel(self) -> None:
        """Ask the queue to cancel the request; an APIError (400) when it already completed."""
        self._client._send("PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id)

    def _wait(self, follow: Follow, logs: bool, on_update: Callback | None = None) -> OutT:
        with contextlib.closing(self._follow(follow, logs)) as statuses:
            for status in statuses:
                if on_update is not None:
                    on_update(status)
                if isinstance(status, Completed) and status.error is not None:
                    raise self._failure(status, follow)
        response = self._get(self.urls.response_url, timeout=follow.request_timeout())
        return parse_output(self._output_model, response.json(), self.request_id)

    def _failure(self, status: Completed, follow: Follow) -> _errors.FalError:
        """The error of a request that completed with one: its result tells the details."""
        try:
            self._get(self.urls.response_url, timeout=follow.request_timeout(), max_retries=0)
        except _errors.FalError as error:
            return failure(status, self.request_id, error)
        return failure(status, self.request_id, None)

    def _follow(
        self, follow: Follow, logs: bool
    ) -> Generator[Queued | InProgress | Completed, None, None]:
        while True:
            if follow.streaming:
                received = False
                try:
                    for status in self._stream(follow, logs):
                        received = True
                        yield status
                        if isinstance(status, Completed):
                            return
                        # Each event restarts the stream's read timeout: the deadline is ours.
                        follow.check_deadline()
                except STREAM_ERRORS:
                    pass
                follow.check_deadline()
                follow.stream_ended(received)
                continue
            status = self._status(logs, follow.request_timeout())
            yield status
            if isinstance(status, Completed):
                return
            time.sleep(follow.poll_delay(status))
            follow.check_deadline()

    def _stream(self, follow: Follow, logs: bool) -> Iterator[Queued | InProgress | Completed]:
        from httpx_sse import EventSource

        with self._client._open(
            "GET",
            self.urls.stream_url,
            idempotent=True,
            request_id=self.request_id,
            params=status_params(logs),
            timeout=follow.request_timeout(),
        ) as response:
            if not is_event_stream(response):
                return
            for event in EventSource(response).iter_sse():
                status = status_from_event(event.data)
                if status is not None:
                    yield status

    def _status(self, logs: bool, timeout: float) -> Queued | InProgress | Completed:
        response = self._get(self.urls.status_url, params=status_params(logs), timeout=timeout)
        return parse_status(response.json())

    def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._client._send("GET", url, idempotent=True, request_id=self.request_id, **kwargs)


class AsyncRequestHandle(Generic[OutT]):
    """The async twin of :class:`SyncRequestHandle`."""

    def __init__(self, client: AsyncClient, urls: RequestURLs, output_model: type[OutT]) -> None:
        self._client = client
        self.urls = urls
        self._output_model = output_model

    @property
    def request_id(self) -> str:
        return self.urls.request_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request_id}>"

    async def status(self, *, logs: bool = False) -> Queued | InProgress | Completed:
        """The current status (with the log lines so far when ``logs``)."""
        return await self._status(logs, self._client.config.timeout)

    def iter_events(self, *, logs: bool = False) -> AsyncIterator[Queued | InProgress | Completed]:
        """Status updates until (and including) COMPLETED, streamed as they happen."""
        return self._follow(Follow(self._client.config, self.request_id), logs)

    async def result(
        self,
        *,
        timeout: float | None = None,
        on_queue_update: Callback | None = None,
        with_logs: bool = False,
    ) -> OutT:
        """Wait until the request completes and return its output (see the sync twin)."""
        follow = Follow(self._client.config, self.request_id, timeout)
        try:
            return await self._wait(follow, with_logs, on_queue_update)
        except _errors.FalError as error:
            if not follow.expired() or isinstance(error, _errors.TimeoutError):
                raise
            raise follow.timeout_error() from error

    async def cancel(self) -> None:
        """Ask the queue to cancel the request; an APIError (400) when it already completed."""
        await self._client._send(
            "PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id
        )

    async def _wait(self, follow: Follow, logs: bool, on_update: Callback | None = None) -> OutT:
        async with contextlib.aclosing(self._follow(follow, logs)) as statuses:
            async for status in statuses:
                if on_update is not None:
                    on_update(status)
                if isinstance(status, Completed) and status.error is not None:
                    raise await self._failure(status, follow)
        response = await self._get(self.urls.response_url, timeout=follow.request_timeout())
        return parse_output(self._output_model, response.json(), self.request_id)

    async def _failure(self, status: Completed, follow: Follow) -> _errors.FalError:
        """The error of a request that completed with one: its result tells the details."""
        try:
            await self._get(self.urls.response_url, timeout=follow.request_timeout(), max_retries=0)
        except _errors.FalError as error:
            return failure(status, self.request_id, error)
        return failure(status, self.request_id, None)

    async def _follow(
        self, follow: Follow, logs: bool
    ) -> AsyncGenerator[Queued | InProgress | Completed, None]:
        while True:
            placed = False  # with all stream places taken, this round polls
            if follow.streaming:
                received = completed = False
                async with _http.stream_place(self._client.http) as placed:
                    if placed:
                        try:
                            # After COMPLETED the stream ends by itself (see _stream): let it.
                            async for status in self._stream(follow, logs):
                                received = True
                                completed = isinstance(status, Completed)
                                yield status
                                if not completed:
                                    # Each event restarts the read timeout: the deadline is ours.
                                    follow.check_deadline()
                        except STREAM_ERRORS:
                            pass
            if placed:
                if completed:
                    return
                follow.check_deadline()
                follow.stream_ended(received)
                continue
            status = await self._status(logs, follow.request_timeout())
            yield status
            if isinstance(status, Completed):
                return
            await asyncio.sleep(follow.poll_delay(status))
            follow.check_deadline()

    async def _stream(
        self, follow: Follow, logs: bool
    ) -> AsyncIterator[Queued | InProgress | Completed]:
        from httpx_sse import EventSource

        async with self._client._open(
            "GET",
            self.urls.stream_url,
            idempotent=True,
            request_id=self.request_id,
            params=status_params(logs),
            timeout=follow.request_timeout(),
        ) as response:
            if not is_event_stream(response):
                return
            events = EventSource(response).aiter_sse()
            async for event in events:
                status = status_from_event(event.data)
                if status is not None:
                    yield status
                if isinstance(status, Completed):
                    await _drain(response, events)
                    return

    async def _status(self, logs: bool, timeout: float) -> Queued | InProgress | Completed:
        response = await self._get(
            self.urls.status_url, params=status_params(logs), timeout=timeout
        )
        return parse_status(response.json())

    async def _get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self._client._send(
            "GET", url, idempotent=True, request_id=self.request_id, **kwargs
        )


async def _drain(response: httpx.Response, events: AsyncIterator[object]) -> None:
    """Read what is left of a status stream after COMPLETED, for a while at most (see
    STREAM_DRAIN_TIMEOUT); a stream that does not end, or breaks, is simply closed.

    The wait is bounded by closing the response from a task of its own, not by cancelling the
    read: a cancellation that lands while httpcore releases the connection loses the connection
    to the pool for good (and with all of them lost, every call waits forever). Closing ends a
    pending read; a stream that still yields afterwards is left at its next event.
    """
    loop = asyncio.get_running_loop()
    # A strong reference to the closing task: the loop keeps only weak ones.
    closing: list[asyncio.Task[None]] = []
    timer = loop.call_later(
        STREAM_DRAIN_TIMEOUT,
        lambda: closing.append(loop.create_task(response.aclose())),
    )
    try:
        with contextlib.suppress(*STREAM_ERRORS):
            async for _ in events:
                if closing:
                    break
    finally:
        timer.cancel()
        if closing:
            # Even when we are cancelled, let the close finish.
            await asyncio.shield(closing[0])


Callback = Callable[[Queued | InProgress | Completed], object]

__all__ = [
    "AsyncRequestHandle",
    "Completed",
    "Follow",
    "InProgress",
    "Log",
    "Queued",
    "RequestURLs",
    "Status",
    "SyncRequestHandle",
    "parse_status",
]
