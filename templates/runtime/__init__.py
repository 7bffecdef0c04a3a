"""The runtime shared by every generated endpoint: HTTP, the queue protocol, files, realtime,
webhooks and errors. Optional dependencies (httpx-sse, websockets, msgpack, cryptography) are
imported only when used."""

from ._client import AsyncClient, SyncClient
from ._config import ClientConfig
from ._endpoint import (
    AsyncEndpoint,
    RunOptions,
    SubmitOptions,
    SubscribeOptions,
    SyncEndpoint,
)
from ._files import FileInput, FileModel
from ._queue import (
    AsyncRequestHandle,
    Completed,
    InProgress,
    Log,
    Queued,
    Status,
    SyncRequestHandle,
)
from ._realtime import AsyncRealtime, RealtimeOptions, SyncRealtime
from ._storage import AsyncStorage, SyncStorage
from ._types import NOT_GIVEN, NotGiven, Priority
from ._webhooks import WebhookPayload, WebhookReplayGuard, fetch_jwks, verify_webhook

__all__ = [
    "NOT_GIVEN",
    "AsyncClient",
    "AsyncEndpoint",
    "AsyncRealtime",
    "AsyncRequestHandle",
    "AsyncStorage",
    "ClientConfig",
    "Completed",
    "FileInput",
    "FileModel",
    "InProgress",
    "Log",
    "NotGiven",
    "Priority",
    "Queued",
    "RealtimeOptions",
    "RunOptions",
    "Status",
    "SubmitOptions",
    "SubscribeOptions",
    "SyncClient",
    "SyncEndpoint",
    "SyncRealtime",
    "SyncRequestHandle",
    "SyncStorage",
    "WebhookPayload",
    "WebhookReplayGuard",
    "fetch_jwks",
    "verify_webhook",
]
