"""Realtime endpoints: a websocket that answers each input with one output.

Protocol (fal documents it loosely, so all of it lives here): a short-lived token from
``POST <rest>/tokens/`` (``{"allowed_apps": [<alias>], "token_expiration": <s>}``), then a
websocket at ``<realtime host>/<endpoint id>/realtime?fal_jwt_token=<token>``. Frames are
msgpack (binary) or JSON (text); ``{"type": "x-fal-error", "error", "reason"}`` reports a problem
with one input, ``{"type": "x-fal-message"}`` frames are informational. Needs the
``websockets`` and ``msgpack`` packages (extra ``realtime``).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, Self, TypedDict, TypeVar

import httpx
import pydantic

from . import _errors, _http
from ._outputs import partial_output
from ._types import given_options

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection as AsyncConnection
    from websockets.sync.client import ClientConnection as SyncConnection

    from ._config import ClientConfig
    from ._endpoint import AsyncEndpoint, SyncEndpoint

InT = TypeVar("InT", bound=pydantic.BaseModel)
OutT = TypeVar("OutT", bound=pydantic.BaseModel)

Framing = Literal["msgpack", "json"]
TOKEN_TTL = 120  # seconds; the token only has to outlive the handshake
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


class RealtimeOptions(TypedDict, total=False):
    """Options of a realtime connection."""

    framing: Framing | None
    """``"msgpack"`` (default, binary frames) or ``"json"`` (text frames)."""
    open_timeout: float | None
    """Seconds to wait for the connection to open (default: the client's timeout)."""


_REALTIME_OPTIONS = frozenset(RealtimeOptions.__annotations__)


def token_request(app_id: str) -> dict[str, Any]:
    """A token scoped to the app's alias: the last part of ``owner/alias``, also of the
    namespaced ``workflows/owner/alias`` and ``comfy/owner/alias`` (as fal's own client does)."""
    return {"allowed_apps": [app_id.rpartition("/")[2]], "token_expiration": TOKEN_TTL}


def parse_token(data: Any) -> str:
    if isinstance(data, str) and data:
        return data
    if isinstance(data, dict) and isinstance(data.get("token"), str):
        return str(data["token"])
    raise _errors.APIError("unexpected realtime token reply", body=data)


def connection_url(config: ClientConfig, endpoint_id: str, token: str) -> str:
    """The websocket's URL, which carries the token: only to a trusted host (see _http)."""
    _http.keep_out_of_logs(token)
    query = urllib.parse.urlencode({"fal_jwt_token": token})
    url = f"{config.realtime_url}/{endpoint_id}/realtime?{query}"
    _http.require_trusted(config, url)
    return url


def _msgpack() -> Any:
    try:
        import msgpack  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise _missing("msgpack") from None
    return msgpack


def _missing(package: str) -> _errors.MissingDependencyError:
    return _errors.MissingDependencyError(
        f"realtime connections need the {package!r} package "
        "(install this package's 'realtime' extra)"
    )


def encode(payload: Mapping[str, Any], framing: Framing) -> bytes | str:
    if framing == "json":
        return json.dumps(payload)
    packed: bytes = _msgpack().packb(dict(payload), use_bin_type=True)
    return packed


def decode(frame: bytes | str) -> dict[str, Any] | None:
    """The message a frame carries; None for informational ones; raises for x-fal-error."""
    try:
        message = (
            _msgpack().unpackb(frame, raw=False) if isinstance(frame, bytes) else json.loads(frame)
        )
    except ValueError as problem:
        raise _errors.RealtimeError(
            "INVALID_MESSAGE", f"cannot decode a frame: {problem}"
        ) from None
    if not isinstance(message, dict):
        raise _errors.RealtimeError("INVALID_MESSAGE", "a frame is not an object", message)
    kind = message.get("type")
    if kind == "x-fal-error":
        error = str(message.get("error") or "ERROR")
        raise _errors.RealtimeError(error, str(message.get("reason") or ""), message)
    if kind == "x-fal-message":
        return None
    return message


def handshake_error(error: Exception, url: str) -> _errors.FalError:
    """The error a failed websocket handshake means (the token stays out of the message)."""
    from websockets.exceptions import InvalidStatus

    if isinstance(error, InvalidStatus):
        public = httpx.URL(url).copy_with(query=None)
        response = httpx.Response(
            error.response.status_code,
            headers=dict(error.response.headers.raw_items()),
            content=bytes(error.response.body or b""),
            request=httpx.Request("GET", public),
        )
        return _http.error_from_response(response)
    return _errors.APIConnectionError(
        f"cannot open the realtime connection: {type(error).__name__}: {error}"
    )


def closed_error(error: Exception) -> _errors.RealtimeError:
    return _errors.RealtimeError("CONNECTION_CLOSED", str(error))


class SyncRealtime(Generic[InT, OutT]):
    """A realtime connection: ``with client.<endpoint>.realtime() as connection:``, then
    ``connection.send(...)`` and ``connection.recv()`` (one output per input)."""

    def __init__(self, endpoint: SyncEndpoint[InT, OutT], options: RealtimeOptions) -> None:
        self._endpoint = endpoint
        self._options = given_options(options, _REALTIME_OPTIONS)
        self._socket: SyncConnection | None = None

    def __repr__(self) -> str:
        state = "open" if self._socket is not None else "closed"
        return f"<{type(self).__name__} {self._endpoint.endpoint_id} {state}>"

    def connect(self) -> Self:
        try:
            from websockets.sync.client import connect
        except ImportError:
            raise _missing("websockets") from None
        client = self._endpoint._client
        url = self._url()
        try:
            socket = connect(
                url,
                open_timeout=self._options.get("open_timeout", client.config.timeout),
                additional_headers={"User-Agent": _http.USER_AGENT},
                max_size=MAX_MESSAGE_BYTES,
            )
        except Exception as error:
            raise handshake_error(error, url) from None
        # Entered like a context manager, which websockets >= 17 expects (it is closed in close()).
        self._socket = socket.__enter__()
        return self

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def send_input(self, value: InT) -> None:
        """Send an input model instance."""
        self._send_payload(value.model_dump(mode="json", by_alias=True, exclude_unset=True))

    def recv(self, timeout: float | None = None) -> OutT:
        """The next output (possibly partial, see ``partial_output``); RealtimeError for an
        error message or a closed connection, TimeoutError after ``timeout`` seconds."""
        socket = self._open_socket()
        from websockets.exceptions import ConnectionClosed

        while True:
            try:
                frame = socket.recv(timeout=timeout)
            except ConnectionClosed as error:
                raise closed_error(error) from None
            except TimeoutError:
                raise _errors.TimeoutError(f"no realtime message within {timeout} s") from None
            message = decode(frame)
            if message is not None:
                return partial_output(self._endpoint.output_model, message)

    def __iter__(self) -> Iterator[OutT]:
        """Outputs until the server closes the connection."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        socket = self._open_socket()
        while True:
            try:
                frame = socket.recv()
            except ConnectionClosedOK:
                return
            except ConnectionClosed as error:
                raise closed_error(error) from None
            message = decode(frame)
            if message is not None:
                yield partial_output(self._endpoint.output_model, message)

    def _send_arguments(self, arguments: Mapping[str, Any]) -> None:
        self._send_payload(self._endpoint._payload(arguments))

    def _send_payload(self, payload: Mapping[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            self._open_socket().send(encode(payload, self._options.get("framing", "msgpack")))
        except ConnectionClosed as error:
            raise closed_error(error) from None

    def _open_socket(self) -> SyncConnection:
        if self._socket is None:
            raise _errors.RealtimeError("NOT_CONNECTED", "use 'with ....realtime() as connection'")
        return self._socket

    def _url(self) -> str:
        client = self._endpoint._client
        reply = client._send(
            "POST",
            f"{client.config.rest_url}/tokens/",
            idempotent=True,
            json=token_request(self._endpoint.app_id),
        )
        return connection_url(client.config, self._endpoint.endpoint_id, parse_token(reply.json()))


class AsyncRealtime(Generic[InT, OutT]):
    """The async twin of :class:`SyncRealtime`: ``async with client.<endpoint>.realtime()``."""

    def __init__(self, endpoint: AsyncEndpoint[InT, OutT], options: RealtimeOptions) -> None:
        self._endpoint = endpoint
        self._options = given_options(options, _REALTIME_OPTIONS)
        self._socket: AsyncConnection | None = None

    def __repr__(self) -> str:
        state = "open" if self._socket is not None else "closed"
        return f"<{type(self).__name__} {self._endpoint.endpoint_id} {state}>"

    async def connect(self) -> Self:
        try:
            from websockets.asyncio.client import connect
        except ImportError:
            raise _missing("websockets") from None
        client = self._endpoint._client
        url = await self._url()
        try:
            self._socket = await connect(
                url,
                open_timeout=self._options.get("open_timeout", client.config.timeout),
                additional_headers={"User-Agent": _http.USER_AGENT},
                max_size=MAX_MESSAGE_BYTES,
            )
        except Exception as error:
            raise handshake_error(error, url) from None
        return self

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def send_input(self, value: InT) -> None:
        """Send an input model instance."""
        await self._send_payload(value.model_dump(mode="json", by_alias=True, exclude_unset=True))

    async def recv(self, timeout: float | None = None) -> OutT:
        """The next output; see :meth:`SyncRealtime.recv`."""
        import asyncio

        from websockets.exceptions import ConnectionClosed

        socket = self._open_socket()
        while True:
            try:
                async with asyncio.timeout(timeout):
                    frame = await socket.recv()
            except ConnectionClosed as error:
                raise closed_error(error) from None
            except TimeoutError:
                raise _errors.TimeoutError(f"no realtime message within {timeout} s") from None
            message = decode(frame)
            if message is not None:
                return partial_output(self._endpoint.output_model, message)

    async def __aiter__(self) -> AsyncIterator[OutT]:
        """Outputs until the server closes the connection."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        socket = self._open_socket()
        while True:
            try:
                frame = await socket.recv()
            except ConnectionClosedOK:
                return
            except ConnectionClosed as error:
                raise closed_error(error) from None
            message = decode(frame)
            if message is not None:
                yield partial_output(self._endpoint.output_model, message)

    async def _send_arguments(self, arguments: Mapping[str, Any]) -> None:
        await self._send_payload(await self._endpoint._payload(arguments))

    async def _send_payload(self, payload: Mapping[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self._open_socket().send(encode(payload, self._options.get("framing", "msgpack")))
        except ConnectionClosed as error:
            raise closed_error(error) from None

    def _open_socket(self) -> AsyncConnection:
        if self._socket is None:
            raise _errors.RealtimeError(
                "NOT_CONNECTED", "use 'async with ....realtime() as connection'"
            )
        return self._socket

    async def _url(self) -> str:
        client = self._endpoint._client
        reply = await client._send(
            "POST",
            f"{client.config.rest_url}/tokens/",
            idempotent=True,
            json=token_request(self._endpoint.app_id),
        )
        return connection_url(client.config, self._endpoint.endpoint_id, parse_token(reply.json()))
