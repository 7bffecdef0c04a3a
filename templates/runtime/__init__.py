"""The runtime shared by every generated endpoint: HTTP, the queue protocol, files, realtime,
webhooks and errors. Optional dependencies (httpx-sse, websockets, msgpack, cryptography) are
imported only when used."""

import importlib
from typing import TYPE_CHECKING, Any

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
from ._outputs import FalModel
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

if TYPE_CHECKING:
    from ._realtime import AsyncRealtime, RealtimeOptions, SyncRealtime
    from ._storage import AsyncStorage, SyncStorage
    from ._webhooks import WebhookPayload, WebhookReplayGuard, fetch_jwks, verify_webhook

# Imported on first use: they need httpx (see _client) or are seldom used.
_LAZY = {
    "AsyncRealtime": "_realtime",
    "RealtimeOptions": "_realtime",
    "SyncRealtime": "_realtime",
    "AsyncStorage": "_storage",
    "SyncStorage": "_storage",
    "WebhookPayload": "_webhooks",
    "WebhookReplayGuard": "_webhooks",
    "fetch_jwks": "_webhooks",
    "verify_webhook": "_webhooks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "NOT_GIVEN",
    "AsyncClient",
    "AsyncEndpoint",
    "AsyncRealtime",
    "AsyncRequestHandle",
    "AsyncStorage",
    "ClientConfig",
    "Completed",
    "FalModel",
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
