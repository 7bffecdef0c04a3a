"""The runtime shared by every generated endpoint: HTTP, the queue protocol, errors."""

from ._client import AsyncClient, SyncClient
from ._config import ClientConfig
from ._endpoint import AsyncEndpoint, RunOptions, SubmitOptions, SubscribeOptions, SyncEndpoint
from ._queue import (
    AsyncRequestHandle,
    Completed,
    InProgress,
    Log,
    Queued,
    Status,
    SyncRequestHandle,
)
from ._types import NOT_GIVEN, NotGiven, Priority

__all__ = [
    "NOT_GIVEN",
    "AsyncClient",
    "AsyncEndpoint",
    "AsyncRequestHandle",
    "ClientConfig",
    "Completed",
    "InProgress",
    "Log",
    "NotGiven",
    "Priority",
    "Queued",
    "RunOptions",
    "Status",
    "SubmitOptions",
    "SubscribeOptions",
    "SyncClient",
    "SyncEndpoint",
    "SyncRequestHandle",
]
