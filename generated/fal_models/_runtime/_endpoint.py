"""Base classes of the generated endpoint resources (``client.flux_1_schnell`` and friends).

Generated subclasses declare the typed keyword arguments and hand ``locals()`` to these
methods, which turn local files into URLs and validate the input with the endpoint's Input
model before any request is sent.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import warnings
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypedDict, TypeVar, cast

import pydantic

from . import _errors
from ._outputs import parse_output, partial_output
from ._queue import (
    CANCEL_TIMEOUT,
    AsyncRequestHandle,
    Completed,
    Follow,
    InProgress,
    Queued,
    RequestURLs,
    SyncRequestHandle,
    is_event_stream,
)
from ._types import NOT_GIVEN, Priority, given_options

if TYPE_CHECKING:  # httpx is imported with the first request (see _client)
    import httpx

    from ._client import AsyncClient, SyncClient
    from ._webhooks import WebhookPayload

InT = TypeVar("InT", bound=pydantic.BaseModel)
OutT = TypeVar("OutT", bound=pydantic.BaseModel)

StatusCallback = Callable[[Queued | InProgress | Completed], object]


class SubmitOptions(TypedDict, total=False):
    """Queue options of a submission."""

    webhook_url: str | None
    """fal POSTs the result to this URL when the request completes (see WebhookPayload)."""
    priority: Priority | None
    """``"normal"`` (default) or ``"low"``."""
    start_timeout: float | None
    """Seconds the request may wait for a runner before the server gives up."""
    hint: str | None
    """A runner hint, routing the request to a runner that has what it needs loaded."""


class SubscribeOptions(TypedDict, total=False):
    """Options of a call that waits for the result."""

    on_enqueue: Callable[[str], object] | None
    """Called with the request id once the request is queued."""
    on_queue_update: StatusCallback | None
    """Called with every status update (Queued, InProgress, Completed)."""
    with_logs: bool | None
    """Ask for log lines in the status updates."""
    timeout: float | None
    """Client-side deadline in seconds for the whole call, however the server behaves; when it
    passes, TimeoutError is raised (its ``request_id`` names the request) and the request is
    cancelled, unless ``cancel_on_timeout`` is False."""
    cancel_on_timeout: bool | None
    """False: a call that times out leaves its request running (and billed) instead of
    cancelling it; re-attach with ``handle(error.request_id)`` to get the result later."""
    priority: Priority | None
    start_timeout: float | None
    hint: str | None


class RunOptions(TypedDict, total=False):
    """Options of a direct (synchronous) run or stream."""

    timeout: float | None
    """Seconds to wait for the response (default: no limit once connected, like fal-client)."""
    start_timeout: float | None
    hint: str | None


_OWN_NAMES = frozenset({"self", "options", "__class__"})
_SUBMIT_OPTIONS = frozenset(SubmitOptions.__annotations__)
_SUBSCRIBE_OPTIONS = frozenset(SubscribeOptions.__annotations__)
_RUN_OPTIONS = frozenset(RunOptions.__annotations__)


MIN_START_TIMEOUT = 1.0  # seconds: fal refuses shorter server-side start timeouts


def subscribe_submit_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The submission's options within a call; the client-side ``timeout`` also bounds the
    server-side start timeout, so that a request the client gave up on never starts."""
    result = {k: v for k, v in options.items() if k in _SUBMIT_OPTIONS}
    timeout = options.get("timeout")
    if "start_timeout" not in result and timeout is not None and timeout > MIN_START_TIMEOUT:
        result["start_timeout"] = timeout
    return result


def request_headers(options: Mapping[str, Any]) -> dict[str, str]:
    """fal's request headers for the queue and run options given."""
    headers = {}
    if "priority" in options:
        headers["X-Fal-Queue-Priority"] = str(options["priority"])
    if "start_timeout" in options:
        headers["X-Fal-Request-Timeout"] = str(options["start_timeout"])
    if "hint" in options:
        headers["X-Fal-Runner-Hint"] = str(options["hint"])
    return headers


def run_timeout(default: float, options: Mapping[str, Any]) -> httpx.Timeout:
    """A direct run may compute for long: no read limit unless ``timeout`` was given."""
    import httpx

    if "timeout" in options:
        return httpx.Timeout(float(options["timeout"]))
    return httpx.Timeout(default, read=None)


def timed_out(error: _errors.FalError, follow: Follow) -> bool:
    """Whether a call ended by ``error`` ran out of time (an error once the deadline passed,
    e.g. a read cut short by it, counts)."""
    return isinstance(error, _errors.TimeoutError) or follow.expired()


def timeout_outcome(
    handle: SyncRequestHandle[Any] | AsyncRequestHandle[Any] | None, cancelled: bool
) -> str:
    """What became of a timed-out call's request, for the TimeoutError's message."""
    if handle is None:
        return " (no request id was received)"
    if cancelled:
        return "; it was cancelled"
    return f"; it keeps running: re-attach with handle({handle.request_id!r})"


def stream_event(model: type[OutT], event: str, data: str) -> OutT | None:
    """The (partial) output one streamed event carries; None for keep-alives."""
    if not data.strip():
        return None
    try:
        value = json.loads(data)
    except ValueError:
        raise _errors.APIError("a streamed event is not JSON", body=data) from None
    if event == "error" or (isinstance(value, dict) and value.get("type") == "error"):
        detail = value.get("detail") or value.get("error") if isinstance(value, dict) else value
        raise _errors.APIError(str(detail or "the stream reported an error"), body=value)
    return partial_output(model, value)


def require_event_stream(response: httpx.Response) -> None:
    if not is_event_stream(response):
        kind = response.headers.get("content-type", "no content type")
        raise _errors.APIError(f"expected an event stream, got {kind}")


# Frames in this folder are the package's own: a warning names the first caller outside it.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_deprecated(endpoint_id: str, reason: str) -> None:
    """A DeprecationWarning attributed to the caller's line, where Python's filters show it."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    message = f"{endpoint_id} is deprecated: {reason}"
    warnings.warn(message, DeprecationWarning, stacklevel=level)


class _EndpointBase(Generic[InT, OutT]):
    endpoint_id: ClassVar[str]
    app_id: ClassVar[str]
    input_model: type[InT]
    output_model: type[OutT]
    renamed: ClassVar[Mapping[str, str]] = {}  # keyword name -> JSON name, where they differ
    file_fields: ClassVar[tuple[str, ...]] = ()  # JSON names of inputs that take file URLs
    deprecated: ClassVar[str] = ""  # why the endpoint is deprecated, if it is: calls warn

    def parse_webhook(self, body: bytes | str | Mapping[str, Any]) -> WebhookPayload[OutT]:
        """Parse what fal POSTs to a webhook for this endpoint (verify it first, see
        ``verify_webhook``)."""
        from ._webhooks import WebhookPayload

        # Parametrised at runtime with this endpoint's model (mypy wants a static type here).
        parametrised = WebhookPayload[self.output_model]  # type: ignore[name-defined]
        model = cast("type[WebhookPayload[OutT]]", parametrised)
        try:
            if isinstance(body, Mapping):
                return model.model_validate(body)
            return model.model_validate_json(body)
        except pydantic.ValidationError as problem:
            raise _errors.APIError(
                f"not a webhook payload of {self.endpoint_id}: {problem}"
            ) from None

    def _arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments given, by JSON name (unset ones left out)."""
        if self.deprecated:
            warn_deprecated(self.endpoint_id, self.deprecated)
        return {
            self.renamed.get(name, name): value
            for name, value in arguments.items()
            if name not in _OWN_NAMES and value is not NOT_GIVEN
        }

    def _validated(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The JSON body, validated by the Input model; unset fields stay unset."""
        try:
            model = self.input_model.model_validate(data)
        except pydantic.ValidationError as problem:
            raise _errors.ValidationError(
                [
                    _errors.FieldError(tuple(item["loc"]), item["msg"], item["type"])
                    for item in problem.errors()
                ]
            ) from None
        return model.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def _submit_request(
        self, payload: dict[str, Any], options: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Keyword arguments of the submit POST."""
        params = {"fal_webhook": options["webhook_url"]} if "webhook_url" in options else {}
        return {"json": payload, "headers": request_headers(options), "params": params}

    def _urls(self, queue_url: str, reply: Any) -> RequestURLs:
        request_id = str(reply.get("request_id", "")) if isinstance(reply, dict) else ""
        if not request_id:
            raise _errors.APIError("the queue's reply has no request_id", body=reply)
        return RequestURLs.from_reply(
            reply, RequestURLs.for_app(queue_url, self.app_id, request_id)
        )

    def _stream_url(self, run_url: str) -> str:
        return f"{run_url}/{self.endpoint_id}/stream"


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

    def _payload(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        data = self._arguments(arguments)
        if self.file_fields:  # local files become URLs (uploaded when large)
            data = self._client.storage.resolve(data, self.file_fields)
        return self._validated(data)

    def _submit(
        self,
        arguments: Mapping[str, Any],
        options: Mapping[str, Any],
        follow: Follow | None = None,
    ) -> SyncRequestHandle[OutT]:
        options = given_options(options, _SUBMIT_OPTIONS)
        request = self._submit_request(self._payload(arguments), options)
        queue_url = self._client.config.queue_url
        timeout = follow.request_timeout() if follow else self._client.config.timeout
        response = self._client._send(
            "POST",
            f"{queue_url}/{self.endpoint_id}",
            idempotent=False,
            timeout=timeout,
            **request,
        )
        return SyncRequestHandle(
            self._client, self._urls(queue_url, response.json()), self.output_model
        )

    def _subscribe(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        options = given_options(options, _SUBSCRIBE_OPTIONS)
        follow = Follow(self._client.config, "", options.get("timeout"))
        handle = None
        try:
            submit_options = subscribe_submit_options(options)
            handle = self._submit(arguments, submit_options, follow)
            follow.request_id = handle.request_id
            if on_enqueue := options.get("on_enqueue"):
                on_enqueue(handle.request_id)
            logs = bool(options.get("with_logs"))
            return handle._wait(follow, logs, options.get("on_queue_update"))
        except _errors.FalError as error:
            if not timed_out(error, follow):
                raise
            cancel = bool(options.get("cancel_on_timeout", True))
            if handle is not None and cancel:
                with contextlib.suppress(_errors.FalError):
                    handle._cancel(timeout=CANCEL_TIMEOUT, max_retries=0)
            raise follow.timeout_error(timeout_outcome(handle, cancel)) from error

    def _run(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        options = given_options(options, _RUN_OPTIONS)
        config = self._client.config
        response = self._client._send(
            "POST",
            f"{config.run_url}/{self.endpoint_id}",
            idempotent=False,
            json=self._payload(arguments),
            headers=request_headers(options),
            timeout=run_timeout(config.timeout, options),
        )
        return parse_output(
            self.output_model, response.json(), response.headers.get("x-fal-request-id")
        )

    def _stream(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> Iterator[OutT]:
        import httpx
        from httpx_sse import SSEError

        from ._http import event_source

        options = given_options(options, _RUN_OPTIONS)
        config = self._client.config
        with self._client._open(
            "POST",
            self._stream_url(config.run_url),
            idempotent=False,
            json=self._payload(arguments),
            headers=request_headers(options),
            timeout=run_timeout(config.timeout, options),
        ) as response:
            require_event_stream(response)
            try:
                for event in event_source(response, config).iter_sse():
                    output = stream_event(self.output_model, event.event, event.data)
                    if output is not None:
                        yield output
            except (httpx.TransportError, SSEError) as error:
                raise _errors.APIConnectionError(f"the stream broke: {error!r}") from error


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

    async def _payload(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        data = self._arguments(arguments)
        if self.file_fields:  # local files become URLs (uploaded when large)
            data = await self._client.storage.resolve(data, self.file_fields)
        return self._validated(data)

    async def _submit(
        self,
        arguments: Mapping[str, Any],
        options: Mapping[str, Any],
        follow: Follow | None = None,
    ) -> AsyncRequestHandle[OutT]:
        options = given_options(options, _SUBMIT_OPTIONS)
        request = self._submit_request(await self._payload(arguments), options)
        queue_url = self._client.config.queue_url
        timeout = follow.request_timeout() if follow else self._client.config.timeout
        response = await self._client._send(
            "POST",
            f"{queue_url}/{self.endpoint_id}",
            idempotent=False,
            timeout=timeout,
            **request,
        )
        return AsyncRequestHandle(
            self._client, self._urls(queue_url, response.json()), self.output_model
        )

    async def _subscribe(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        options = given_options(options, _SUBSCRIBE_OPTIONS)
        follow = Follow(self._client.config, "", options.get("timeout"))
        handle = None
        try:
            submit_options = subscribe_submit_options(options)
            handle = await self._submit(arguments, submit_options, follow)
            follow.request_id = handle.request_id
            if on_enqueue := options.get("on_enqueue"):
                on_enqueue(handle.request_id)
            logs = bool(options.get("with_logs"))
            return await handle._wait(follow, logs, options.get("on_queue_update"))
        except _errors.FalError as error:
            if not timed_out(error, follow):
                raise
            cancel = bool(options.get("cancel_on_timeout", True))
            if handle is not None and cancel:
                with contextlib.suppress(_errors.FalError):
                    await handle._cancel(timeout=CANCEL_TIMEOUT, max_retries=0)
            raise follow.timeout_error(timeout_outcome(handle, cancel)) from error

    async def _run(self, arguments: Mapping[str, Any], options: Mapping[str, Any]) -> OutT:
        options = given_options(options, _RUN_OPTIONS)
        config = self._client.config
        response = await self._client._send(
            "POST",
            f"{config.run_url}/{self.endpoint_id}",
            idempotent=False,
            json=await self._payload(arguments),
            headers=request_headers(options),
            timeout=run_timeout(config.timeout, options),
        )
        return parse_output(
            self.output_model, response.json(), response.headers.get("x-fal-request-id")
        )

    async def _stream(
        self, arguments: Mapping[str, Any], options: Mapping[str, Any]
    ) -> AsyncIterator[OutT]:
        import httpx
        from httpx_sse import SSEError

        from ._http import event_source

        options = given_options(options, _RUN_OPTIONS)
        config = self._client.config
        async with self._client._open(
            "POST",
            self._stream_url(config.run_url),
            idempotent=False,
            json=await self._payload(arguments),
            headers=request_headers(options),
            timeout=run_timeout(config.timeout, options),
        ) as response:
            require_event_stream(response)
            try:
                async for event in event_source(response, config).aiter_sse():
                    output = stream_event(self.output_model, event.event, event.data)
                    if output is not None:
                        yield output
            except (httpx.TransportError, SSEError) as error:
                raise _errors.APIConnectionError(f"the stream broke: {error!r}") from error
