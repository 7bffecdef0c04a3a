"""GET requests to fal (or a mirror) for ``falgen fetch``, ``search`` and ``update``: where
they go (:class:`Hosts`: fal's own, or one mirror serving both) and how they are bounded.

Every request is bounded three ways: its body is read up to a size limit, each read waits at
most ``read_timeout``, and the whole request, retries and pauses included, ends by a
:class:`Deadline`. A mirror that sends one byte every two seconds never hits a read timeout;
the deadline still ends it. Requests run on asyncio because a deadline there cancels a read in
flight, where a blocking read could only be checked between reads.

Failures worth another attempt (connection errors, timeouts, 408/425/429, 5xx) are retried with
bounded exponential backoff, honouring ``Retry-After`` when the deadline leaves time for it.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from . import __version__

USER_AGENT = f"falgen/{__version__} (spec fetch)"
DEFAULT_CATALOG_URL = "https://api.fal.ai"  # fal's Platform API: the model catalogue
DEFAULT_DOCUMENT_URL = "https://fal.ai"  # each endpoint's document, at OPENAPI_PATH
OPENAPI_PATH = "/api/openapi/queue/openapi.json"
BASE_URL_ENV = "FALGEN_OPENAPI_BASE_URL"
RUN_SECONDS = 1800.0  # one command, every request of it
READ_TIMEOUT = 30.0
ERROR_BODY_BYTES = 64 * 1024

# Statuses worth another attempt: timeouts, rate limiting, server trouble. Anything else is an
# answer (404: no such endpoint, 401/403: not allowed) and retrying it would only delay the error.
RETRY_STATUSES = frozenset({408, 425, 429})

Params = Mapping[str, str | Sequence[str]]
Sleep = Callable[[float], Awaitable[None]]


class FetchError(Exception):
    """Why something could not be fetched; the message is for the user."""


class NotFound(FetchError):
    """The server answered 404."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff.

    Attempt ``n`` (1-based) that fails is followed by a pause of
    ``min(max_delay, initial_delay * multiplier ** (n - 1))`` seconds, unless the server says
    how long to wait with ``Retry-After``. A ``Retry-After`` longer than ``max_retry_after`` (or
    than the deadline leaves) is not waited for: the request fails at once, saying when to try
    again, rather than hanging a CI job for an hour.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def delay(self, attempt: int) -> float:
        return float(min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1)))


@dataclass(frozen=True)
class Hosts:
    """Where the catalogue and the per-endpoint documents are."""

    catalog: str = DEFAULT_CATALOG_URL
    documents: str = DEFAULT_DOCUMENT_URL


def resolve_hosts(option: str | None, environ: Mapping[str, str] | None = None) -> Hosts:
    """fal's hosts, or a mirror that serves both: ``--base-url``, else
    ``$FALGEN_OPENAPI_BASE_URL``. Overridable so tests (and mirrors) can point elsewhere."""
    environ = os.environ if environ is None else environ
    base = option or environ.get(BASE_URL_ENV)
    if not base:
        return Hosts()
    url = httpx.URL(base)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"invalid base URL {base!r}: expected http(s)://host[:port][/path]")
    return Hosts(base.rstrip("/"), base.rstrip("/"))


def add_base_url(parser: argparse.ArgumentParser) -> None:
    """``--base-url``, for every command that talks to fal."""
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=(
            "a mirror of fal serving the catalogue (/v1/models) and the documents "
            f"({OPENAPI_PATH}) (default: ${BASE_URL_ENV}, else fal's own hosts)"
        ),
    )


class Deadline:
    """A point in time (monotonic clock) by which something must be done."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return max(0.0, self.at - self.clock())

    def within(self, seconds: float) -> Deadline:
        """This deadline or one ``seconds`` from now, whichever comes first."""
        sooner = Deadline(seconds, clock=self.clock)
        if self.at < sooner.at:
            sooner.at, sooner.seconds = self.at, self.seconds
        return sooner


class Getter:
    """Retrying, bounded GETs over one ``httpx.AsyncClient`` (use inside ``async with``)."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(read_timeout, connect=min(read_timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    async def __aenter__(self) -> Getter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def get(self, url: str, params: Params, *, max_bytes: int, deadline: Deadline) -> bytes:
        """The body of a 200 answer; FetchError (NotFound for 404) once retrying is pointless."""
        shown = str(httpx.URL(url, params=params))
        last_problem = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            if deadline.remaining() <= 0:
                break
            try:
                async with asyncio.timeout(deadline.remaining()):
                    status, headers, body = await self._get_once(url, params, max_bytes)
            except TimeoutError:
                break
            except httpx.TooManyRedirects:
                raise FetchError(f"too many redirects from {shown}") from None
            except httpx.RequestError as problem:  # connection, timeout, broken transfer
                last_problem = _describe_request_error(problem)
                delay = self.retry.delay(attempt)
            else:
                if status == 200:
                    if len(body) > max_bytes:
                        raise FetchError(f"the answer is larger than {max_bytes} bytes")
                    return body
                if status == 404:
                    raise NotFound(f"HTTP 404 from {shown}{_detail(body)}")
                if status not in RETRY_STATUSES and status < 500:
                    raise FetchError(f"HTTP {status} from {shown}{_detail(body)}")
                last_problem = f"HTTP {status}{_detail(body)}"
                delay = self._retry_delay(headers, attempt, last_problem, deadline)
            if attempt < self.retry.max_attempts:
                if delay >= deadline.remaining():
                    break
                await self.sleep(delay)
        else:
            attempts = self.retry.max_attempts
            plural = "s" if attempts != 1 else ""
            raise FetchError(f"giving up after {attempts} attempt{plural}: {last_problem}")
        after = f" (last problem: {last_problem})" if last_problem else ""
        raise FetchError(f"no answer from {shown} within {deadline.seconds:g} s{after}")

    def _retry_delay(
        self, headers: httpx.Headers, attempt: int, problem: str, deadline: Deadline
    ) -> float:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if retry_after is None:
            return self.retry.delay(attempt)
        if retry_after > min(self.retry.max_retry_after, deadline.remaining()):
            raise FetchError(f"{problem}; the server asks to retry after {retry_after:.0f} s")
        return retry_after

    async def _get_once(
        self, url: str, params: Params, max_bytes: int
    ) -> tuple[int, httpx.Headers, bytes]:
        """One GET, reading at most ``max_bytes`` (+1, to tell) of a 200's body and the start
        of an error page's (enough for its message)."""
        async with self.client.stream("GET", url, params=params) as response:
            limit = max_bytes if response.status_code == 200 else ERROR_BODY_BYTES
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    break
            return response.status_code, response.headers, bytes(body[: limit + 1])


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now())


def parse_json_answer(body: bytes, what: str) -> Any:
    """A JSON answer (no NaN, no excessive nesting), or FetchError naming ``what`` it was."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as problem:
        reason = "nested too deeply" if isinstance(problem, RecursionError) else str(problem)
        raise FetchError(f"{what} is not valid JSON: {reason[:200]}") from None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _describe_request_error(problem: httpx.RequestError) -> str:
    kind = "timed out" if isinstance(problem, httpx.TimeoutException) else "network error"
    detail = str(problem) or type(problem).__name__
    return f"{kind}: {detail}"


def _detail(body: bytes) -> str:
    """The message of an error body, briefly: fal's ``detail`` string or the Platform API's
    ``error.message``."""
    try:
        value = json.loads(body[:4096].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return ""
    if not isinstance(value, dict):
        return ""
    detail = value.get("detail")
    error = value.get("error")
    if not isinstance(detail, str) and isinstance(error, dict):
        detail = error.get("message")
    if not isinstance(detail, str) or not detail.strip():
        return ""
    detail = " ".join(detail.split())
    return f": {detail[:200]}"
