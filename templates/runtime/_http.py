"""HTTP plumbing shared by the sync and async clients: headers, retries, error mapping.

Decisions (what to retry, how long to wait, which exception a response means) are plain
functions; the sync and async request loops only apply them.
"""

from __future__ import annotations

import asyncio
import email.utils
import platform
import random
import time
from collections.abc import Mapping
from typing import Any

import httpx

from . import errors
from .._version import __version__
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
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


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
    a queue submission is never sent twice unless the connection was refused outright.
    """
    if attempt >= config.max_retries:
        return None
    if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return backoff(attempt)
    if not idempotent:
        return None
    if isinstance(error, httpx.TransportError):
        return backoff(attempt)
    if response is not None and response.status_code in RETRY_STATUSES:
        return backoff(attempt, retry_after(response))
    return None


def error_from_response(response: httpx.Response, request_id: str | None = None) -> errors.APIError:
    """The exception that an error response means, with fal's ``detail`` and error type."""
    body: Any
    try:
        body = response.json()
    except ValueError:
        body = response.text[:2000]
    detail = body.get("detail") if isinstance(body, dict) else body
    error_type = response.headers.get("x-fal-error-type") or (
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
        return errors.ValidationError.from_detail(detail, **kwargs)
    message = detail if isinstance(detail, str) and detail else f"HTTP {status} from {response.url.path}"
    if status in (401, 403):
        return errors.AuthenticationError(message, **kwargs)
    if status == 404:
        return errors.NotFoundError(message, **kwargs)
    if status == 429:
        return errors.RateLimitError(message, retry_after=retry_after(response), **kwargs)
    if status >= 500:
        return errors.ServerError(message, **kwargs)
    return errors.APIError(message, **kwargs)


def send(
    http: httpx.Client,
    config: ClientConfig,
    method: str,
    url: str,
    *,
    idempotent: bool,
    request_id: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """One API call with retries; returns a 2xx response or raises the mapped error."""
    attempt = 0
    while True:
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as error:
            delay = retry_delay(attempt, config, idempotent=idempotent, error=error)
            if delay is None:
                raise errors.APIConnectionError(f"{method} {url} failed: {error!r}") from error
        else:
            if response.is_success:
                return response
            delay = retry_delay(attempt, config, idempotent=idempotent, response=response)
            if delay is None:
                raise error_from_response(response, request_id)
        time.sleep(delay)
        attempt += 1


async def asend(
    http: httpx.AsyncClient,
    config: ClientConfig,
    method: str,
    url: str,
    *,
    idempotent: bool,
    request_id: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """The async twin of :func:`send`."""
    attempt = 0
    while True:
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.TransportError as error:
            delay = retry_delay(attempt, config, idempotent=idempotent, error=error)
            if delay is None:
                raise errors.APIConnectionError(f"{method} {url} failed: {error!r}") from error
        else:
            if response.is_success:
                return response
            delay = retry_delay(attempt, config, idempotent=idempotent, response=response)
            if delay is None:
                raise error_from_response(response, request_id)
        await asyncio.sleep(delay)
        attempt += 1
