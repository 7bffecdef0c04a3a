"""Base classes of the generated endpoint resources (``client.flux_1_schnell`` and friends).

Generated subclasses declare the typed keyword arguments and hand ``locals()`` to these
methods, which validate them with the endpoint's Input model before any request is sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar

import pydantic

from . import errors
from ._queue import (
    AsyncRequestHandle,
    Completed,
    InProgress,
    Queued,
    RequestURLs,
    SyncRequestHandle,
)
from ._types import NOT_GIVEN, Priority

if TYPE_CHECKING:
    from ._client import AsyncClient, SyncClient

InT = TypeVar("InT", bound=pydantic.BaseModel)
OutT = TypeVar("OutT", bound=pydantic.BaseModel)

StatusCallback = Callable[[Queued | InProgress | Completed], object]


class SubmitOptions(TypedDict, total=False):
    """Queue options of a submission."""

    webhook_url: str
    """fal POSTs the result to this URL when the request completes."""
    priority: Priority
    """``"normal"`` (default) or ``"low"``."""
    start_timeout: float
    """Seconds the request may wait for a runner before the server gives up."""
    hint: str
    """A runner hint, routing the request to a runner that has what it needs loaded."""


class SubscribeOptions(TypedDict, total=False):
    """Options of a call that waits for the result."""

    on_enqueue: Callable[[str], object]
    """Called with the request id once the request is queued."""
    on_queue_update: StatusCallback
    """Called with every status update."""
    with_logs: bool
    """Ask for log lines in the status updates."""
    timeout: float
    """Client-side deadline in seconds; when it passes the request is cancelled."""
    priority: Priority
    start_timeout: float
    hint: str


class RunOptions(TypedDict, total=False):
    """Options of a direct (synchronous) run."""

    timeout: float
    """Seconds to wait for the response."""


_OWN_NAMES = frozenset({"self", "options", "__class__"})


class _EndpointBase(Generic[InT, OutT]):
    endpoint_id: ClassVar[str]
    app_id: ClassVar[str]
    input_model: type[InT]
    output_model: type[OutT]
    renamed: ClassVar[Mapping[str, str]] = {}  # keyword name -> JSON name, where they differ

    def _payload(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validate the keyword arguments; return the JSON body with unset fields left out."""
        data = {
            self.renamed.get(name, name): value
            for name, value in arguments.items()
            if name not in _OWN_NAMES and value is not NOT_GIVEN
        }
        try:
            model = self.input_model.model_validate(data)
        except pydantic.ValidationError as problem:
            raise errors.ValidationError(
                [
                    errors.FieldError(tuple(item["loc"]), item["msg"], item["type"])
                    for item in problem.errors()
                ]
            ) from None
        return model.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def _submit_request(
        self, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Keyword arguments of the submit POST."""
        headers = {}
        if "priority" in options:
            headers["X-Fal-Queue-Priority"] = str(options["priority"])
        if "start_timeout" in options:
            headers["X-Fal-Request-Timeout"] = str(options["start_timeout"])
        if "hint" in options:
            headers["X-Fal-Runner-Hint"] = str(options["hint"])
        params = {"fal_webhook": options["webhook_url"]} if "webhook_url" in options else {}
        return {"json": self._payload(arguments), "headers": headers, "params": params}

    def _urls(self, queue_url: str, reply: Mapping[str, Any]) -> RequestURLs:
        request_id = str(reply.get("request_id", ""))
        if not request_id:
            raise errors.APIError("the queue's reply has no request_id", body=dict(reply))
        return RequestURLs.from_reply(reply, RequestURLs.for_app(queue_url, self.app_id, request_id))


class SyncEndpoint(_EndpointBase[InT, OutT]):
    """One endpoint on a synchronous client."""

    def __init__(self, client: SyncClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint_id}>"

    def handle(self, request_id: str) -> SyncRequestHandle[OutT]:
        """Re-attach to a request submitted earlier, e.g. by another process."""
        urls = RequestURLs.for_app(self._client.config.queue_url, self.app_id, request_id)
        return SyncRequestHandle(self._client, urls, self.output_model)

    def _submit(
        self, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> SyncRequestHandle[OutT]:
        request = self._submit_request(arguments, options)
        queue_url = self._client.config.queue_url
        response = self._client._send(
            "POST", f"{queue_url}/{self.endpoint_id}", idempotent=False, **request
        )
        urls = self._urls(queue_url, response.json())
        return SyncRequestHandle(self._client, urls, self.output_model)

    def _subscribe(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        submit_options = {k: v for k, v in options.items() if k in SubmitOptions.__annotations__}
        handle = self._submit(arguments, submit_options)
        if on_enqueue := options.get("on_enqueue"):
            on_enqueue(handle.request_id)
        deadline = time.monotonic() + options["timeout"] if "timeout" in options else None
        on_update = options.get("on_queue_update")
        for status in handle.iter_events(logs=bool(options.get("with_logs"))):
            if on_update is not None:
                on_update(status)
            if isinstance(status, Completed):
                status.raise_for_error(handle.request_id)
                break
            if deadline is not None and time.monotonic() > deadline:
                handle.cancel()
                raise errors.TimeoutError(
                    f"request {handle.request_id} did not complete within {options['timeout']} s"
                )
        return handle.result()

    def _run(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        timeout = options.get("timeout", self._client.config.timeout)
        response = self._client._send(
            "POST",
            f"{self._client.config.run_url}/{self.endpoint_id}",
            idempotent=False,
            json=self._payload(arguments),
            timeout=timeout,
        )
        return self.output_model.model_validate(response.json())


class AsyncEndpoint(_EndpointBase[InT, OutT]):
    """One endpoint on an asynchronous client."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint_id}>"

    def handle(self, request_id: str) -> AsyncRequestHandle[OutT]:
        """Re-attach to a request submitted earlier, e.g. by another process."""
        urls = RequestURLs.for_app(self._client.config.queue_url, self.app_id, request_id)
        return AsyncRequestHandle(self._client, urls, self.output_model)

    async def _submit(
        self, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> AsyncRequestHandle[OutT]:
        request = self._submit_request(arguments, options)
        queue_url = self._client.config.queue_url
        response = await self._client._send(
            "POST", f"{queue_url}/{self.endpoint_id}", idempotent=False, **request
        )
        urls = self._urls(queue_url, response.json())
        return AsyncRequestHandle(self._client, urls, self.output_model)

    async def _subscribe(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        submit_options = {k: v for k, v in options.items() if k in SubmitOptions.__annotations__}
        handle = await self._submit(arguments, submit_options)
        if on_enqueue := options.get("on_enqueue"):
            on_enqueue(handle.request_id)
        deadline = time.monotonic() + options["timeout"] if "timeout" in options else None
        on_update = options.get("on_queue_update")
        async for status in handle.iter_events(logs=bool(options.get("with_logs"))):
            if on_update is not None:
                on_update(status)
            if isinstance(status, Completed):
                status.raise_for_error(handle.request_id)
                break
            if deadline is not None and time.monotonic() > deadline:
                await handle.cancel()
                raise errors.TimeoutError(
                    f"request {handle.request_id} did not complete within {options['timeout']} s"
                )
        return await handle.result()

    async def _run(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        timeout = options.get("timeout", self._client.config.timeout)
        response = await self._client._send(
            "POST",
            f"{self._client.config.run_url}/{self.endpoint_id}",
            idempotent=False,
            json=self._payload(arguments),
            timeout=timeout,
        )
        return self.output_model.model_validate(response.json())
