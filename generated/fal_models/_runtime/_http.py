"""HTTP plumbing shared by the sync and async clients: headers, retries, error mapping.

Decisions (what to retry, how long to wait, which exception a response means) are plain
functions; the sync and async request loops only apply them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.utils
import functools
import ipaddress
import json
import logging
import platform
import random
import socket
import threading
import time
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import httpx

from .._version import __version__
from . import _errors
from ._config import ClientConfig

if TYPE_CHECKING:  # imported by the async paths only: a sync client does without it
    import asyncio

    from httpx_sse import EventSource

USER_AGENT = f"fal-models/{__version__} python/{platform.python_version()}"
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0


def headers(config: ClientConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    result = {"Authorization": f"Key {config.require_key()}", "User-Agent": USER_AGENT}
    result.update(extra or {})
    return result


# --- where credentials may go ------------------------------------------------------------------

FAL_DOMAINS = ("fal.ai", "fal.run", "fal.media")  # fal's own: credentials go there over TLS
_SECURE = {"https": 443, "wss": 443}
_PLAIN = {"http": 80, "ws": 80}


def require_trusted(config: ClientConfig, url: httpx.URL | str) -> None:
    """Raise UntrustedURLError unless credentials (the key, a token) may be sent to ``url``:
    a host the client was configured with or one of fal's domains, over TLS, or over plain
    http/ws to a loopback host. Every request that carries credentials passes here first, so a
    reply cannot send the key elsewhere (its status_url, a storage base_url)."""
    url = httpx.URL(url)
    scheme, host = url.scheme, url.host
    secure = scheme in _SECURE
    shown = f"{scheme}://{url.netloc.decode('ascii', 'replace')}"
    if not secure and not (scheme in _PLAIN and _is_loopback(host)):
        raise _errors.UntrustedURLError(
            f"refusing to send credentials to {shown}: only https (http for loopback hosts)"
        )
    port = url.port or {**_SECURE, **_PLAIN}[scheme]
    if (host, port) in _configured(
        config.queue_url, config.run_url, config.rest_url, config.realtime_url
    ):
        return
    if secure and any(host == domain or host.endswith("." + domain) for domain in FAL_DOMAINS):
        return
    raise _errors.UntrustedURLError(
        f"refusing to send credentials to {shown}: neither a configured host nor a fal domain"
    )


def guard(config: ClientConfig, request: httpx.Request) -> None:
    """Before a request with credentials is sent: its URL must be trusted, and its credential
    (the key, a storage token) is kept out of the libraries' logs."""
    header = request.headers.get("authorization")
    if header is not None:
        require_trusted(config, request.url)
        keep_out_of_logs(header.partition(" ")[2].strip())


@functools.lru_cache(maxsize=64)
def _configured(*urls: str) -> frozenset[tuple[str, int]]:
    hosts = set()
    for text in urls:
        url = httpx.URL(text)
        if url.scheme in _SECURE or url.scheme in _PLAIN:
            hosts.add((url.host, url.port or {**_SECURE, **_PLAIN}[url.scheme]))
    return frozenset(hosts)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- credentials out of logs ---------------------------------------------------------------

# The libraries below log at DEBUG what a server answered (headers too) and websocket URLs (with
# their token): a gateway echoing the key would put it in a log. Their records are scrubbed of
# every credential this process used.
LIBRARY_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "websockets.client",
)
MAX_REMEMBERED = 256  # credentials: tokens are fetched anew, keys are few


class _Scrubber(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, None] = {}  # insertion-ordered, the oldest dropped first

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            scrubbed = redact(message, tuple(self.secrets))
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        return True


_SCRUBBER = _Scrubber()


def keep_out_of_logs(secret: str) -> None:
    """Scrub ``secret`` (and the halves of an ``id:secret`` key) from the libraries' logs."""
    if not secret or secret in _SCRUBBER.secrets:
        return
    if not _SCRUBBER.secrets:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(_SCRUBBER)
    halves = secret.split(":") if ":" in secret else []
    for item in (secret, *(half for half in halves if len(half) >= MIN_SECRET_PART)):
        _SCRUBBER.secrets[item] = None
    while len(_SCRUBBER.secrets) > MAX_REMEMBERED:
        del _SCRUBBER.secrets[next(iter(_SCRUBBER.secrets))]


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """Exponential backoff with full jitter; the server's Retry-After wins when present."""
    if retry_after is not None:
        return min(retry_after, MAX_BACKOFF)
    return random.uniform(0, min(MAX_BACKOFF, 0.1 * 2**attempt))


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def retry_delay(
    attempt: int,
    config: ClientConfig,
    *,
    idempotent: bool,
    response: httpx.Response | None = None,
    error: Exception | None = None,
) -> float | None:
    """Seconds to wait before another attempt, or None to stop.

    A request that may have reached the server is only retried when repeating it is harmless:
    a submission or direct run is sent again only when it cannot have taken effect, that is
    when no connection was made or the server refused it with 429.
    """
    if attempt >= config.max_retries:
        return None
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return backoff(attempt)
    if response is not None and response.headers.get("x-fal-request-timeout-type"):
        return None  # the caller's own start timeout expired: repeating cannot help
    if response is not None and response.status_code == 429:
        return backoff(attempt, retry_after(response))
    if not idempotent:
        return None
    if isinstance(error, httpx.TransportError):
        return backoff(attempt)
    if response is not None and response.status_code in RETRY_STATUSES:
        return backoff(attempt, retry_after(response))
    return None


REDACTED = "[redacted]"
MIN_SECRET_PART = 8  # characters: shorter halves of an ``id:secret`` key are not searched for


def credentials(response: httpx.Response) -> tuple[str, ...]:
    """What the request authenticated with (the key, or a token), and the ``id`` and ``secret``
    halves of an ``id:secret`` key: what an error reply must not carry into messages."""
    try:
        header = response.request.headers.get("authorization", "")
    except RuntimeError:  # a response built by hand, never sent
        return ()
    credential = header.partition(" ")[2].strip()
    if not credential:
        return ()
    halves = credential.split(":") if ":" in credential else []
    return (credential, *(half for half in halves if len(half) >= MIN_SECRET_PART))


def redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (JSON data) with every occurrence of ``secrets`` replaced."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item, secrets) for item in value]
    return value


def error_from_response(
    response: httpx.Response, request_id: str | None = None
) -> _errors.APIError:
    """The exception that an error response means, with fal's ``detail`` and error type.

    Some gateways echo the credentials of a refused request ("invalid key ..."): those are
    blanked out, so that the key does not reach messages, logs and tracebacks from here.
    """
    body: Any
    try:
        body = json.loads(response.content)
    except ValueError:
        body = response.text[:MAX_BODY_SHOWN]
    secrets = credentials(response)
    body = redact(body, secrets)
    # Only fal's JSON ``detail`` makes the message: other bodies (proxy HTML pages) stay in .body.
    detail = body.get("detail") if isinstance(body, dict) else None
    error_type = redact(response.headers.get("x-fal-error-type"), secrets) or (
        body.get("error_type") if isinstance(body, dict) else None
    )
    status = response.status_code
    kwargs: dict[str, Any] = {
        "status_code": status,
        "error_type": error_type,
        "request_id": request_id or response.headers.get("x-fal-request-id"),
        "body": body,
    }
    if status == 422 and isinstance(detail, list | str) and detail:
        return _errors.ValidationError.from_detail(
            detail if isinstance(detail, list) else [detail], **kwargs
        )
    message = (
        detail if isinstance(detail, str) and detail else f"HTTP {status} from {response.url.path}"
    )
    if status in (401, 403):
        return _errors.AuthenticationError(message, **kwargs)
    if status == 404:
        return _errors.NotFoundError(message, **kwargs)
    if status == 429:
        return _errors.RateLimitError(message, retry_after=retry_after(response), **kwargs)
    if status >= 500:
        return _errors.ServerError(message, **kwargs)
    return _errors.APIError(message, **kwargs)


# --- bounded reads ---------------------------------------------------------------------------

MAX_BODY_SHOWN = 2000  # characters of a body that is not what was expected, kept in the error


class Reply(httpx.Response):
    """A reply read whole within the size limit. ``json()`` raises APIError, with the start of
    the body, when the body is not JSON (an HTML page, a reply cut short)."""

    request_id: str | None = None

    def json(self, **kwargs: Any) -> Any:
        try:
            return super().json(**kwargs)
        except ValueError:
            body = redact(self.text[:MAX_BODY_SHOWN], credentials(self))
            raise _errors.APIError(
                f"the reply from {self.url.copy_with(query=None)} is not valid JSON",
                status_code=self.status_code,
                request_id=self.request_id or self.headers.get("x-fal-request-id"),
                body=body,
            ) from None


def too_large(response: httpx.Response, limit: int, setting: str) -> _errors.ResponseTooLargeError:
    return _errors.ResponseTooLargeError(
        f"the reply from {response.url.copy_with(query=None)} is larger than {limit} bytes "
        f"(the client's {setting})",
        status_code=response.status_code,
        request_id=response.headers.get("x-fal-request-id"),
    )


def check_length(response: httpx.Response, limit: int, setting: str) -> None:
    """Refuse a reply that announces more than ``limit`` bytes, before reading any of it."""
    try:
        length = int(response.headers.get("content-length", "0"))
    except ValueError:
        length = 0
    if length > limit and "content-encoding" not in response.headers:
        raise too_large(response, limit, setting)


def limited(
    response: httpx.Response, chunks: Iterable[bytes], limit: int, setting: str
) -> Iterator[bytes]:
    """``chunks`` of ``response``'s (decoded) body, raising once more than ``limit`` came."""
    check_length(response, limit, setting)
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(response, limit, setting)
        yield chunk


async def alimited(
    response: httpx.Response, chunks: AsyncIterator[bytes], limit: int, setting: str
) -> AsyncIterator[bytes]:
    """The async twin of :func:`limited`."""
    check_length(response, limit, setting)
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(response, limit, setting)
        yield chunk


EVENT_STREAM = {"Accept": "text/event-stream"}  # what a request for server-sent events sends
# An empty line ends a server-sent event (lines end with CRLF, LF or CR).
_EVENT_ENDS = ("\r\n\r\n", "\n\n", "\r\r")


def event_source(response: httpx.Response, config: ClientConfig) -> EventSource:
    """httpx_sse's reader of the events of ``response``, refusing more than
    ``config.max_response_bytes`` of text without an event ending: the reader keeps an event's
    text until it ends, so a server that never ends one would fill the memory."""
    from httpx_sse import EventSource

    # EventSource (httpx-sse >= 0.4.2, as the package requires) reads a response's headers and
    # text only; earlier versions read lines.
    return EventSource(cast("httpx.Response", _EventStreamText(response, config)))


class _EventStreamText:
    """``response`` as :func:`event_source` reads it: headers, and text counted as it comes."""

    def __init__(self, response: httpx.Response, config: ClientConfig) -> None:
        self.headers = response.headers
        self._response = response
        self._limit = config.max_response_bytes
        self._pending = 0  # characters since the last event ended
        self._tail = ""  # the end of the text so far, where an event's end may have begun

    def iter_text(self) -> Iterator[str]:
        for text in self._response.iter_text():
            self._count(text)
            yield text

    async def aiter_text(self) -> AsyncIterator[str]:
        async for text in self._response.aiter_text():
            self._count(text)
            yield text

    def _count(self, text: str) -> None:
        joined = self._tail + text
        ends = [joined.rfind(end) + len(end) for end in _EVENT_ENDS if end in joined]
        self._pending = len(joined) - max(ends) if ends else self._pending + len(text)
        self._tail = joined[-3:]
        if self._pending > self._limit:
            raise too_large(self._response, self._limit, "max_response_bytes")


def _reply(response: httpx.Response, content: bytes, request_id: str | None) -> Reply:
    # The content is decoded already: the headers must not announce an encoding any more.
    headers = [
        (name, value)
        for name, value in response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    reply = Reply(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions=response.extensions,
        history=response.history,
    )
    reply.request_id = request_id
    return reply


def read_reply(response: httpx.Response, config: ClientConfig, request_id: str | None) -> Reply:
    """The body of ``response``, at most ``config.max_response_bytes``."""
    chunks = limited(
        response, response.iter_bytes(), config.max_response_bytes, "max_response_bytes"
    )
    return _reply(response, b"".join(chunks), request_id)


async def aread_reply(
    response: httpx.Response, config: ClientConfig, request_id: str | None
) -> Reply:
    """The async twin of :func:`read_reply`."""
    chunks = alimited(
        response, response.aiter_bytes(), config.max_response_bytes, "max_response_bytes"
    )
    return _reply(response, b"".join([chunk async for chunk in chunks]), request_id)


def connection_error(method: str, url: str, error: Exception) -> _errors.APIConnectionError:
    # Only the path: query strings may carry tokens.
    path = httpx.URL(url).copy_with(query=None)
    return _errors.APIConnectionError(f"{method} {path} failed: {error!r}")


@contextlib.contextmanager
def open_response(
    http: httpx.Client,
    config: ClientConfig,
    method: str,
    url: str,
    *,
    idempotent: bool,
    request_id: str | None = None,
    stream: bool = False,
    follow_redirects: bool = False,
    max_retries: int | None = None,
    **kwargs: Any,
) -> Iterator[httpx.Response]:
    """One API call with retries; yields a 2xx response (body not yet read when ``stream``)
    and closes it afterwards, or raises the mapped error. ``max_retries`` overrides the
    configured number."""
    if max_retries is not None:
        config = dataclasses.replace(config, max_retries=max_retries)
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            request = http.build_request(method, url, **kwargs)
            guard(config, request)
            response = http.send(request, stream=True, follow_redirects=follow_redirects)
            if not (stream and response.is_success):
                with contextlib.closing(response):
                    response = read_reply(response, config, request_id)
        except httpx.TransportError as error:
            if response is not None:
                response.close()
            delay = retry_delay(attempt, config, idempotent=idempotent, error=error)
            if delay is None:
                raise connection_error(method, url, error) from error
        else:
            if response.is_success:
                try:
                    yield response
                finally:
                    response.close()
                return
            response.close()
            delay = retry_delay(attempt, config, idempotent=idempotent, response=response)
            if delay is None:
                raise error_from_response(response, request_id)
        time.sleep(delay)
        attempt += 1


@contextlib.asynccontextmanager
async def aopen_response(
    http: httpx.AsyncClient,
    config: ClientConfig,
    method: str,
    url: str,
    *,
    idempotent: bool,
    request_id: str | None = None,
    stream: bool = False,
    follow_redirects: bool = False,
    max_retries: int | None = None,
    **kwargs: Any,
) -> AsyncIterator[httpx.Response]:
    """The async twin of :func:`open_response`."""
    if max_retries is not None:
        config = dataclasses.replace(config, max_retries=max_retries)
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            request = http.build_request(method, url, **kwargs)
            guard(config, request)
            response = await http.send(request, stream=True, follow_redirects=follow_redirects)
            if not (stream and response.is_success):
                streamed = response
                try:
                    response = await aread_reply(streamed, config, request_id)
                finally:
                    await streamed.aclose()
        except httpx.TransportError as error:
            if response is not None:
                await response.aclose()
            delay = retry_delay(attempt, config, idempotent=idempotent, error=error)
            if delay is None:
                raise connection_error(method, url, error) from error
        else:
            if response.is_success:
                try:
                    yield response
                finally:
                    await response.aclose()
                return
            await response.aclose()
            delay = retry_delay(attempt, config, idempotent=idempotent, response=response)
            if delay is None:
                raise error_from_response(response, request_id)
        import asyncio

        await asyncio.sleep(delay)
        attempt += 1


# Status streams hold a connection until COMPLETED: they may take all but a fifth of a pool the
# client created, so that submissions, polls and results always find one (calls beyond that
# poll meanwhile). Requests beyond the pool's size wait in the pool (see _pool for the async one).
_STREAM_PLACES: weakref.WeakKeyDictionary[httpx.AsyncClient | httpx.Client, Any] = (
    weakref.WeakKeyDictionary()
)


def stream_places(pool_size: int) -> int:
    """How many status streams a pool of ``pool_size`` connections may hold at once."""
    return max(1, pool_size - max(1, pool_size // 5))


def reserve_stream_places(http: httpx.AsyncClient | httpx.Client, limit: int) -> None:
    """Let at most ``stream_places(limit)`` status streams through ``http`` (a pool of ``limit``
    connections) at once."""
    places = stream_places(limit)
    if isinstance(http, httpx.Client):
        _STREAM_PLACES[http] = threading.Semaphore(places)
    else:
        import asyncio

        _STREAM_PLACES[http] = asyncio.Semaphore(places)


@contextlib.asynccontextmanager
async def stream_place(http: httpx.AsyncClient, wait: float = 0.0) -> AsyncIterator[bool]:
    """Whether a status stream may be opened, waiting ``wait`` seconds at most for a place; the
    place is held until the block exits. When none was free the caller polls instead. Pools
    the client did not create are not counted."""
    places: asyncio.Semaphore | None = _STREAM_PLACES.get(http)
    placed = places is None
    if places is not None and not places.locked():
        await places.acquire()  # a place is free: this returns at once
        placed = True
    elif places is not None and wait > 0:
        import asyncio

        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await places.acquire()
            placed = True
    try:
        yield placed
    finally:
        if places is not None and placed:
            places.release()


@contextlib.contextmanager
def sync_stream_place(http: httpx.Client, wait: float = 0.0) -> Iterator[bool]:
    """The sync twin of :func:`stream_place`."""
    places: threading.Semaphore | None = _STREAM_PLACES.get(http)
    placed = places is None
    if places is not None:
        placed = places.acquire(timeout=wait) if wait > 0 else places.acquire(blocking=False)
    try:
        yield placed
    finally:
        if places is not None and placed:
            places.release()


def send(
    http: httpx.Client, config: ClientConfig, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """One API call with retries, body read; see :func:`open_response`."""
    with open_response(http, config, method, url, **kwargs) as response:
        return response


async def asend(
    http: httpx.AsyncClient, config: ClientConfig, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """The async twin of :func:`send`."""
    async with aopen_response(http, config, method, url, **kwargs) as response:
        return response


class SocketShutdown:
    """Ends a read of a streamed response at the deadline, wherever the stream is: its socket is
    shut down from a timer thread (closing it would not wake a read blocked on it). ``fired``
    tells whether it did. Transports without a socket (mocks) are left to their read timeout.
    """

    def __init__(self, response: httpx.Response, delay: float | None) -> None:
        stream = response.extensions.get("network_stream")
        self._socket = None
        if stream is not None and delay is not None:
            self._socket = stream.get_extra_info("socket")
        self._lock = threading.Lock()
        self._reading = True
        self.fired = False
        self._timer: threading.Timer | None = None
        if isinstance(self._socket, socket.socket):
            self._timer = threading.Timer(delay or 0.0, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            if self._reading and isinstance(self._socket, socket.socket):
                self.fired = True
                # The plain socket's shutdown: a TLS socket's own would drop its TLS state
                # under the reading thread.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(self._socket, socket.SHUT_RDWR)

    def __enter__(self) -> SocketShutdown:
        return self

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:  # after this, a late timer leaves the (reusable) connection alone
            self._reading = False
        if self._timer is not None:
            self._timer.cancel()


class ResponseClose:
    """Closes a streamed response after ``delay`` seconds from a task of its own, which ends a
    pending read; ``fired`` tells whether it did. A read is ended this way rather than
    cancelled: a cancellation that lands while httpcore releases the connection loses the
    connection to the pool for good (and with all of them lost, every call waits forever).
    """

    def __init__(self, response: httpx.Response, delay: float | None) -> None:
        import asyncio

        self._response = response
        self._loop = asyncio.get_running_loop()
        # A strong reference to the closing task: the loop keeps only weak ones.
        self._closing: list[asyncio.Task[None]] = []
        self._timer = None if delay is None else self._loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._closing.append(self._loop.create_task(self._response.aclose()))

    @property
    def fired(self) -> bool:
        return bool(self._closing)

    async def __aenter__(self) -> ResponseClose:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._closing:
            import asyncio

            # Even when we are cancelled, let the close finish.
            await asyncio.shield(self._closing[0])
