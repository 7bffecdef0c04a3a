"""The fal queue: typed request statuses and handles to submitted requests."""

from __future__ import annotations

import contextlib
import functools
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

import pydantic

from . import _errors
from ._config import ClientConfig
from ._outputs import parse_output, prepare

if TYPE_CHECKING:  # httpx and asyncio are imported when first used (see _client)
    import httpx

    from ._client import AsyncClient, SyncClient

OutT = TypeVar("OutT", bound=pydantic.BaseModel)


# The models' validators are built when first used, not when the package is imported.
DEFERRED = pydantic.ConfigDict(defer_build=True)


class Log(pydantic.BaseModel):
    """A log line of a running request."""

    model_config = DEFERRED
    message: str
    level: str = "INFO"
    source: str = ""
    timestamp: str = ""


class _StatusBase(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="allow", defer_build=True)

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
    """Running; ``logs`` holds all the log lines so far (when requested)."""

    status: Literal["IN_PROGRESS"] = "IN_PROGRESS"
    logs: list[Log] = []


class Completed(_StatusBase):
    """Finished; ``error`` is set when the request failed; ``logs`` holds all the log lines
    (when requested)."""

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


@functools.cache
def _status_adapter() -> pydantic.TypeAdapter[Queued | InProgress | Completed]:
    return pydantic.TypeAdapter(Status)


def parse_status(data: Any) -> Queued | InProgress | Completed:
    try:
        return _status_adapter().validate_python(data)
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


MAX_POLL_INTERVAL = 2.0  # seconds: the slowest polling gets
# Polls come every ``poll_interval`` at first, then every this fraction of the time waited so
# far (up to MAX_POLL_INTERVAL): a long request is polled less often, and its result arrives
# at most a tenth of its waiting time late.
POLL_SLOWDOWN = 0.1
MAX_STREAM_RECONNECTS = 5  # then poll: a stream that keeps ending early is not worth reopening
# fal's status stream and streaming endpoints answer with Server-Sent Events.
# A timed-out call's cancellation is tried once, for this many seconds at most.
CANCEL_TIMEOUT = 5.0
# fal ends a status stream right after COMPLETED. Reading it to its end returns the connection to
# the pool, so the result is fetched over it rather than over a new connection (a TLS handshake
# more); the async client waits this long at most for the end, then lets the connection go.
STREAM_DRAIN_TIMEOUT = 0.1


@functools.cache
def stream_errors() -> tuple[type[Exception], ...]:
    """What breaks a status stream (the request keeps running): the follower then polls."""
    import httpx

    return (_errors.APIError, _errors.APIConnectionError, httpx.HTTPError, ValueError)


class Follow:
    """Decisions of following one request until COMPLETED, shared by the sync and async loops:
    stream or poll, how long to wait between polls, and the optional client-side deadline.
    """

    def __init__(self, config: ClientConfig, request_id: str, timeout: float | None = None) -> None:
        self.config = config
        self.request_id = request_id
        self.limit = timeout
        self.started = time.monotonic()
        self.deadline = None if timeout is None else self.started + timeout
        self.streaming = config.stream_status
        self._reconnects = 0

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def remaining(self) -> float | None:
        """Seconds left until the deadline (None without one)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def timeout_error(self, outcome: str = "") -> _errors.TimeoutError:
        what = f"request {self.request_id}" if self.request_id else "the request"
        message = f"{what} did not complete within {self.limit} s{outcome}"
        return _errors.TimeoutError(message, request_id=self.request_id or None, timeout=self.limit)

    def check_deadline(self) -> None:
        if self.expired():
            raise self.timeout_error()

    def request_timeout(self) -> float:
        """The timeout of one HTTP request: the configured one, cut short by the deadline."""
        self.check_deadline()
        if self.deadline is None:
            return self.config.timeout
        return max(0.001, min(self.config.timeout, self.deadline - time.monotonic()))

    def stream_ended(self, reopen: bool) -> None:
        """A stream that delivered statuses and ended cleanly before COMPLETED is reopened (a
        few times); one that failed (no connection, not an event stream, broken) means polling
        for the rest of the request."""
        self._reconnects += 1
        if not reopen or self._reconnects > MAX_STREAM_RECONNECTS:
            self.streaming = False

    def poll_delay(self, polled_at: float) -> float:
        """How long to wait for the next poll, the last one having started at ``polled_at``:
        polls start every ``poll_interval``, or every tenth of the time waited so far when that
        is longer (see POLL_SLOWDOWN), within the deadline."""
        now = time.monotonic()
        interval = max(self.config.poll_interval, POLL_SLOWDOWN * (now - self.started))
        delay = max(0.0, min(interval, MAX_POLL_INTERVAL) - (now - polled_at))
        remaining = self.remaining()
        return delay if remaining is None else min(delay, remaining)


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


class LogLines:
    """All the log lines of one status stream so far. Each event of the stream carries only the
    lines new since the previous one; the statuses it gives hold all of them, as polled
    statuses do (fal's JS client accumulates them the same way)."""

    def __init__(self) -> None:
        self.lines: list[Log] = []

    def add(self, status: Queued | InProgress | Completed) -> Queued | InProgress | Completed:
        if not isinstance(status, Queued) and (status.logs or self.lines):
            self.lines.extend(status.logs)
            status.logs = list(self.lines)
        return status


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
        self._cancel()

    def _cancel(self, **kwargs: Any) -> None:
        self._client._send(
            "PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id, **kwargs
        )

    def _wait(self, follow: Follow, logs: bool, on_update: Callback | None = None) -> OutT:
        prepare(self._output_model)
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
        from ._http import sync_stream_place

        delay = 0.0  # until the next poll; a stream place that frees meanwhile comes first
        while True:
            placed = False
            if follow.streaming:
                received = broken = False
                with sync_stream_place(self._client.http, delay) as placed:
                    if placed:
                        try:
                            for status in self._stream(follow, logs):
                                received = True
                                yield status
                                if isinstance(status, Completed):
                                    return
                                follow.check_deadline()
                        except stream_errors():
                            broken = True
                if placed:
                    follow.check_deadline()
                    follow.stream_ended(received and not broken)
                    delay = 0.0
                    continue
            else:
                time.sleep(delay)
            follow.check_deadline()
            polled_at = time.monotonic()
            status = self._status(logs, follow.request_timeout())
            yield status
            if isinstance(status, Completed):
                return
            delay = follow.poll_delay(polled_at)

    def _stream(self, follow: Follow, logs: bool) -> Iterator[Queued | InProgress | Completed]:
        from ._http import SocketShutdown, event_source

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
            lines = LogLines()
            # Events (and keep-alive comments) restart the read timeout: the deadline is ours.
            with SocketShutdown(response, follow.remaining()) as deadline:
                try:
                    for event in event_source(response, self._client.config).iter_sse():
                        status = status_from_event(event.data)
                        if status is not None:
                            yield lines.add(status)
                except Exception:
                    if deadline.fired:
                        raise follow.timeout_error() from None
                    raise

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
        await self._cancel()

    async def _cancel(self, **kwargs: Any) -> None:
        await self._client._send(
            "PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id, **kwargs
        )

    async def _wait(self, follow: Follow, logs: bool, on_update: Callback | None = None) -> OutT:
        prepare(self._output_model)
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
        import asyncio

        from ._http import stream_place

        delay = 0.0  # until the next poll; a stream place that frees meanwhile comes first
        while True:
            placed = False
            if follow.streaming:
                received = completed = broken = False
                async with stream_place(self._client.http, delay) as placed:
                    if placed:
                        try:
                            # After COMPLETED the stream ends by itself (see _stream): let it.
                            async for status in self._stream(follow, logs):
                                received = True
                                completed = isinstance(status, Completed)
                                yield status
                                if not completed:
                                    follow.check_deadline()
                        except stream_errors():
                            broken = True
                if placed:
                    if completed:
                        return
                    follow.check_deadline()
                    follow.stream_ended(received and not broken)
                    delay = 0.0
                    continue
            else:
                await asyncio.sleep(delay)
            follow.check_deadline()
            polled_at = time.monotonic()
            status = await self._status(logs, follow.request_timeout())
            yield status
            if isinstance(status, Completed):
                return
            delay = follow.poll_delay(polled_at)

    async def _stream(
        self, follow: Follow, logs: bool
    ) -> AsyncIterator[Queued | InProgress | Completed]:
        from ._http import ResponseClose, event_source

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
            lines = LogLines()
            events = event_source(response, self._client.config).aiter_sse()
            # Events (and keep-alive comments) restart the read timeout: the deadline is ours.
            async with ResponseClose(response, follow.remaining()) as deadline:
                try:
                    async for event in events:
                        status = status_from_event(event.data)
                        if status is not None:
                            yield lines.add(status)
                        if isinstance(status, Completed):
                            await _drain(response, events)
                            return
                except Exception:
                    if deadline.fired:
                        raise follow.timeout_error() from None
                    raise

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
    STREAM_DRAIN_TIMEOUT); a stream that does not end, or breaks, is simply closed (see
    _http.ResponseClose; a stream that still yields afterwards is left at its next event).
    """
    from ._http import ResponseClose

    async with ResponseClose(response, STREAM_DRAIN_TIMEOUT) as closing:
        with contextlib.suppress(*stream_errors()):
            async for _ in events:
                if closing.fired:
                    break


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
