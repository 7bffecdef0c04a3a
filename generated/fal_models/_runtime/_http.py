"""HTTP plumbing shared by the sync and async clients: headers, retries, error mapping.

Decisions (what to retry, how long to wait, which exception a response means) are plain
functions; the sync and async request loops only apply them.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import platform
import random
import time
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx

from .._version import __version__
from . import _errors
from ._config import ClientConfig

USER_AGENT = f"fal-models/{__version__} python/{platform.python_version()}"
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_BACKOFF = 30.0


def headers(config: ClientConfig, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    result = {"Authorization": f"Key {config.require_key()}", "User-Agent": USER_AGENT}
    result.update(extra or {})
    return result


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
        body = response.json()
    except ValueError:
        body = response.text[:2000]
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
    if status == 422 and isinstance(detail, list):
        return _errors.ValidationError.from_detail(detail, **kwargs)
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
            response = http.send(request, stream=True, follow_redirects=follow_redirects)
            if not (stream and response.is_success):
                response.read()
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
    gate = _GATES.get(http)
    attempt = 0
    while True:
        response: httpx.Response | None = None
        admitted = False  # through the gate: held while the connection is in use
        try:
            try:
                if gate is not None:
                    await _admit(gate.requests, kwargs.get("timeout", http.timeout))
                    admitted = True
                request = http.build_request(method, url, **kwargs)
                response = await http.send(request, stream=True, follow_redirects=follow_redirects)
                if not (stream and response.is_success):
                    await response.aread()
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
        finally:
            if gate is not None and admitted:
                gate.requests.release()
        await asyncio.sleep(delay)
        attempt += 1


@dataclasses.dataclass(frozen=True)
class _Gate:
    """Places in a pool the client created. Requests beyond its size wait here, not in
    httpcore's pool, whose bookkeeping scans every waiting request whenever a connection is
    taken or given back (with a thousand concurrent calls, more CPU than the calls). Status
    streams hold a connection until COMPLETED: they may take all but a fifth of the pool, so
    that submissions, polls and results always find one (calls beyond that poll instead).
    """

    requests: asyncio.Semaphore
    streams: asyncio.Semaphore


_GATES: weakref.WeakKeyDictionary[httpx.AsyncClient, _Gate] = weakref.WeakKeyDictionary()


def limit_concurrency(http: httpx.AsyncClient, limit: int) -> None:
    """Let at most ``limit`` requests through ``http`` at once: the size of its pool."""
    streams = max(1, limit - max(1, limit // 5))
    _GATES[http] = _Gate(asyncio.Semaphore(limit), asyncio.Semaphore(streams))


@contextlib.asynccontextmanager
async def stream_place(http: httpx.AsyncClient) -> AsyncIterator[bool]:
    """Whether a status stream may be opened now, its place held until the block exits; when
    all places are taken the caller polls instead. Pools the client did not create are not
    counted."""
    gate = _GATES.get(http)
    if gate is None or gate.streams.locked():
        yield gate is None
        return
    await gate.streams.acquire()  # a place is free: this returns without waiting
    try:
        yield True
    finally:
        gate.streams.release()


async def _admit(gate: asyncio.Semaphore, timeout: Any) -> None:
    """Wait for ``gate`` within the pool timeout, as httpx waits for a connection; a wait
    that times out is the same ``httpx.PoolTimeout``."""
    try:
        async with asyncio.timeout(httpx.Timeout(timeout).pool):
            await gate.acquire()
    except TimeoutError:
        raise httpx.PoolTimeout("timed out waiting for a free connection") from None


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
