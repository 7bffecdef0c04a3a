"""The fal queue: typed request statuses and handles to submitted requests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, TypeAlias, TypeVar

import pydantic

from . import errors

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
        """Raise :class:`RequestFailed` when the request completed with an error."""
        if self.error is not None:
            raise errors.RequestFailed(
                self.error,
                error_type=self.error_type,
                request_id=request_id,
                body=self.model_dump(),
            )


Status: TypeAlias = Annotated[
    Queued | InProgress | Completed, pydantic.Field(discriminator="status")
]
_STATUS = pydantic.TypeAdapter[Queued | InProgress | Completed](Status)


def parse_status(data: Any) -> Queued | InProgress | Completed:
    return _STATUS.validate_python(data)


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


class SyncRequestHandle(Generic[OutT]):
    """A submitted request: poll its status, wait for and fetch its result, or cancel it."""

    def __init__(
        self, client: SyncClient, urls: RequestURLs, output_model: type[OutT]
    ) -> None:
        self._client = client
        self.urls = urls
        self._output_model = output_model

    @property
    def request_id(self) -> str:
        return self.urls.request_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request_id}>"

    def status(self, *, logs: bool = False) -> Queued | InProgress | Completed:
        response = self._get(self.urls.status_url, params={"logs": int(logs)})
        return parse_status(response.json())

    def iter_events(
        self, *, logs: bool = False
    ) -> Iterator[Queued | InProgress | Completed]:
        """Statuses until (and including) COMPLETED."""
        attempt = 0
        while True:
            status = self.status(logs=logs)
            yield status
            if isinstance(status, Completed):
                return
            time.sleep(self._client.config.poll_interval * min(2**attempt, 10))
            attempt = attempt + 1 if isinstance(status, Queued) else 0

    def result(self) -> OutT:
        """The output, once the request has completed."""
        response = self._get(self.urls.response_url)
        return self._output_model.model_validate(response.json())

    def wait(self, *, logs: bool = False) -> OutT:
        """Block until COMPLETED, then return the output (raises RequestFailed on error)."""
        for status in self.iter_events(logs=logs):
            if isinstance(status, Completed):
                status.raise_for_error(self.request_id)
        return self.result()

    def cancel(self) -> None:
        """Ask the queue to cancel; a request that already completed cannot be cancelled."""
        self._client._send(
            "PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id
        )

    def _get(self, url: str, **kwargs: Any) -> Any:
        return self._client._send(
            "GET", url, idempotent=True, request_id=self.request_id, **kwargs
        )


class AsyncRequestHandle(Generic[OutT]):
    """The async twin of :class:`SyncRequestHandle`."""

    def __init__(
        self, client: AsyncClient, urls: RequestURLs, output_model: type[OutT]
    ) -> None:
        self._client = client
        self.urls = urls
        self._output_model = output_model

    @property
    def request_id(self) -> str:
        return self.urls.request_id

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.request_id}>"

    async def status(self, *, logs: bool = False) -> Queued | InProgress | Completed:
        response = await self._get(self.urls.status_url, params={"logs": int(logs)})
        return parse_status(response.json())

    async def iter_events(
        self, *, logs: bool = False
    ) -> AsyncIterator[Queued | InProgress | Completed]:
        """Statuses until (and including) COMPLETED."""
        attempt = 0
        while True:
            status = await self.status(logs=logs)
            yield status
            if isinstance(status, Completed):
                return
            await asyncio.sleep(self._client.config.poll_interval * min(2**attempt, 10))
            attempt = attempt + 1 if isinstance(status, Queued) else 0

    async def result(self) -> OutT:
        response = await self._get(self.urls.response_url)
        return self._output_model.model_validate(response.json())

    async def wait(self, *, logs: bool = False) -> OutT:
        async for status in self.iter_events(logs=logs):
            if isinstance(status, Completed):
                status.raise_for_error(self.request_id)
        return await self.result()

    async def cancel(self) -> None:
        await self._client._send(
            "PUT", self.urls.cancel_url, idempotent=True, request_id=self.request_id
        )

    async def _get(self, url: str, **kwargs: Any) -> Any:
        return await self._client._send(
            "GET", url, idempotent=True, request_id=self.request_id, **kwargs
        )


__all__ = [
    "AsyncRequestHandle",
    "Completed",
    "InProgress",
    "Log",
    "Queued",
    "RequestURLs",
    "Status",
    "SyncRequestHandle",
    "parse_status",
]
