"""``falgen fetch``: download fal's published OpenAPI documents into ``specs/``.

fal serves each endpoint's queue document at
``<base>/api/openapi/queue/openapi.json?endpoint_id=<id>``. This module downloads it, retries
the failures that are worth retrying, checks that what arrived is a fal queue spec the generator
can use, keeps our own ``x-falgen-*`` annotations from the spec it replaces, and writes it in the
canonical form, atomically.

The one guarantee that matters most: **a good spec is never replaced by a bad download**. Every
check happens on the downloaded bytes in memory; the file is only written, through a temporary
file and ``os.replace``, once the final document has passed the loader's validation.
"""

from __future__ import annotations

import argparse
import email.utils
import enum
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from . import __version__
from .diff import DiffError, diff_specs
from .errors import SpecErrors
from .loader import MAX_SPEC_BYTES, discover, load_spec_bytes, parse_json
from .specfile import (
    InvalidEndpointId,
    carry_over_extensions,
    endpoint_id_for,
    normalise,
    spec_path,
    validate_endpoint_id,
    write_atomically,
)

DEFAULT_BASE_URL = "https://fal.ai"
BASE_URL_ENV = "FALGEN_OPENAPI_BASE_URL"
OPENAPI_PATH = "/api/openapi/queue/openapi.json"
USER_AGENT = f"falgen/{__version__} (spec fetch)"

# Statuses worth another attempt: timeouts, rate limiting, server trouble. Anything else is an
# answer (404: no such endpoint, 401/403: not allowed) and retrying it would only delay the error.
RETRY_STATUSES = frozenset({408, 425, 429})


class FetchError(Exception):
    """Why one endpoint's document could not be fetched; the message is for the user."""


class Status(enum.StrEnum):
    """What happened to one endpoint's spec file."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff.

    Attempt ``n`` (1-based) that fails is followed by a pause of
    ``min(max_delay, initial_delay * multiplier ** (n - 1))`` seconds, unless the server says
    how long to wait with ``Retry-After``. A ``Retry-After`` longer than ``max_retry_after`` is
    not waited for: the fetch fails at once with a message saying when to try again, rather
    than hanging a CI job for an hour.
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
class FetchResult:
    """The outcome for one endpoint id, as reported to the user."""

    endpoint_id: str
    status: Status
    path: Path | None = None
    message: str = ""
    warnings: tuple[str, ...] = ()


def resolve_base_url(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The server to fetch from: ``--base-url``, else ``$FALGEN_OPENAPI_BASE_URL``, else fal.ai.

    Overridable so tests (and mirrors) can point the command at another server.
    """
    environ = os.environ if environ is None else environ
    base = option or environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
    url = httpx.URL(base)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"invalid base URL {base!r}: expected http(s)://host[:port][/path]")
    return base.rstrip("/")


class SpecFetcher:
    """Downloads and validates fal queue documents, with retries.

    ``client`` and ``sleep`` are injectable so tests can use a local server and skip the waits.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self._owns_client = client is None
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )

    def __enter__(self) -> SpecFetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def url_for(self, endpoint_id: str) -> str:
        return str(httpx.URL(self.base_url + OPENAPI_PATH, params={"endpoint_id": endpoint_id}))

    def fetch_document(self, endpoint_id: str) -> dict[str, Any]:
        """The endpoint's document, parsed and validated as a fal queue spec."""
        raw = self.download(endpoint_id)
        return validate_document(endpoint_id, raw)

    def download(self, endpoint_id: str) -> bytes:
        """The raw document, retrying connection errors, timeouts, 408/425/429 and 5xx."""
        url = self.url_for(validate_endpoint_id(endpoint_id))
        last_problem = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                status, headers, body = self._get(url)
            except httpx.TooManyRedirects:
                raise FetchError(f"too many redirects from {url}") from None
            except httpx.RequestError as problem:  # connection, timeout, broken transfer
                last_problem = _describe_request_error(problem)
                delay = self.retry.delay(attempt)
            else:
                if status == 200:
                    return body
                if status == 404:
                    raise FetchError(f"unknown endpoint (HTTP 404 from {url})")
                if status not in RETRY_STATUSES and status < 500:
                    raise FetchError(f"HTTP {status} from {url}{_detail(body)}")
                last_problem = f"HTTP {status}{_detail(body)}"
                delay = self._retry_delay(headers, attempt, last_problem)
            if attempt < self.retry.max_attempts:
                self.sleep(delay)
        attempts = self.retry.max_attempts
        raise FetchError(
            f"giving up after {attempts} attempt{'s' if attempts != 1 else ''}: {last_problem}"
        )

    def _retry_delay(self, headers: httpx.Headers, attempt: int, problem: str) -> float:
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if retry_after is None:
            return self.retry.delay(attempt)
        if retry_after > self.retry.max_retry_after:
            raise FetchError(f"{problem}; the server asks to retry after {retry_after:.0f} s")
        return retry_after

    def _get(self, url: str) -> tuple[int, httpx.Headers, bytes]:
        """One GET, reading at most MAX_SPEC_BYTES of the body (a spec is never that big)."""
        with self.client.stream("GET", url) as response:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_SPEC_BYTES:
                    if response.status_code != 200:
                        break  # an error page: its start is enough for the message
                    raise FetchError(f"the document is larger than {MAX_SPEC_BYTES} bytes")
            return response.status_code, response.headers, bytes(body)


def validate_document(endpoint_id: str, raw: bytes) -> dict[str, Any]:
    """Parse ``raw`` and check it is a fal queue spec for ``endpoint_id``; FetchError if not."""
    source = f"{endpoint_id}.json"
    try:
        return load_spec_bytes(source, raw).document
    except SpecErrors as problem:
        raise FetchError(_spec_problem(raw, problem)) from None


def _spec_problem(raw: bytes, problem: SpecErrors) -> str:
    lines = [f"{error.pointer}: {error.message}" for error in problem.errors[:10]]
    if len(problem.errors) > 10:
        lines.append(f"... and {len(problem.errors) - 10} more")
    first = problem.errors[0] if problem.errors else None
    if first is not None and first.pointer == "#" and "invalid JSON" in first.message:
        truncated = " (truncated download?)" if raw.strip()[:1] in (b"{", b"[") else ""
        return f"the server did not send valid JSON{truncated}: {first.message}"
    return "the document is not a usable fal queue spec:\n    " + "\n    ".join(lines)


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


def _describe_request_error(problem: httpx.RequestError) -> str:
    kind = "timed out" if isinstance(problem, httpx.TimeoutException) else "network error"
    detail = str(problem) or type(problem).__name__
    return f"{kind}: {detail}"


def _detail(body: bytes) -> str:
    """fal error bodies carry a ``detail`` string; show it (briefly) when there is one."""
    try:
        value = json.loads(body[:4096].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return ""
    detail = value.get("detail") if isinstance(value, dict) else None
    if not isinstance(detail, str) or not detail.strip():
        return ""
    detail = " ".join(detail.split())
    return f": {detail[:200]}"


# --------------------------------------------------------------------------------------------
# Updating the specs folder
# --------------------------------------------------------------------------------------------


def refresh_spec(fetcher: SpecFetcher, specs_dir: Path, endpoint_id: str) -> FetchResult:
    """Fetch one endpoint and write its spec if it changed. Never raises for a failed fetch."""
    try:
        path = spec_path(specs_dir, endpoint_id)
        document = fetcher.fetch_document(endpoint_id)
        return _store(path, endpoint_id, document)
    except (FetchError, InvalidEndpointId) as problem:
        return FetchResult(endpoint_id, Status.FAILED, message=str(problem))
    except OSError as problem:
        where = problem.filename or specs_dir
        message = f"cannot update {where}: {problem.strerror or problem}"
        return FetchResult(endpoint_id, Status.FAILED, message=message)


def _store(path: Path, endpoint_id: str, document: dict[str, Any]) -> FetchResult:
    """Merge with the existing spec (if any), validate the result, write it if it changed."""
    warnings: list[str] = []
    previous_text: str | None = None
    previous: dict[str, Any] | None = None
    if path.exists():
        raw = path.read_bytes()
        previous_text = raw.decode("utf-8", errors="replace")
        try:
            previous = parse_json(str(path), raw)
        except SpecErrors:
            warnings.append(
                "the existing spec is not valid JSON: its x-falgen annotations were not kept"
            )
    if previous is not None:
        carried = carry_over_extensions(previous, document)
        document = carried.document
        warnings.extend(
            f"could not keep the x-falgen annotation at {pointer}: that place no longer exists"
            for pointer in carried.dropped
        )
    text = normalise(document)
    # The merged document is what gets written, so it is what must pass validation.
    validate_document(endpoint_id, text.encode("utf-8"))
    if previous_text == text:
        return FetchResult(endpoint_id, Status.UNCHANGED, path, warnings=tuple(warnings))
    write_atomically(path, text)
    if previous_text is None:
        return FetchResult(endpoint_id, Status.ADDED, path, warnings=tuple(warnings))
    return FetchResult(
        endpoint_id,
        Status.UPDATED,
        path,
        _impact(endpoint_id, previous_text, document),
        tuple(warnings),
    )


def _impact(endpoint_id: str, previous_text: str, after: dict[str, Any]) -> str:
    """A one-line summary of what an update changed, so the fetch output hints at the diff.

    Only a valid previous spec is compared: a hand-broken one has no meaningful diff.
    """
    try:
        before = validate_document(endpoint_id, previous_text.encode("utf-8"))
        report = diff_specs({endpoint_id: before}, {endpoint_id: after})
    except (FetchError, DiffError):
        return ""
    counts = {severity: count for severity, count in report.counts().items() if count}
    if not counts:
        return "formatting only"
    listed = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    return f"{listed}; run 'falgen diff' for details"


def refresh_specs(
    fetcher: SpecFetcher, specs_dir: Path, endpoint_ids: Iterable[str]
) -> list[FetchResult]:
    """Refresh each endpoint in turn; one failure does not stop the others."""
    return [refresh_spec(fetcher, specs_dir, endpoint_id) for endpoint_id in endpoint_ids]


def existing_endpoint_ids(specs_dir: Path) -> list[str]:
    """The endpoint ids of the specs already in ``specs_dir`` (what ``--all`` refreshes)."""
    if not specs_dir.is_dir():
        return []
    return [endpoint_id_for(specs_dir, path) for path in discover(specs_dir)]


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    *,
    name: str = "fetch",
    help: str | None = None,
) -> None:
    """Register ``falgen fetch``."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=(
            "Download each endpoint's queue OpenAPI document from fal, validate it, keep our "
            "x-falgen annotations from the spec it replaces, and write specs/<id>.json in the "
            "canonical form. A failed download never replaces an existing spec. "
            "Exit status: 0 when every endpoint was fetched, 1 when any failed, 2 usage error."
        ),
    )
    parser.add_argument(
        "endpoint_ids", nargs="*", metavar="ENDPOINT_ID", help="e.g. fal-ai/flux-1/schnell"
    )
    parser.add_argument(
        "--all", action="store_true", help="refresh every spec already in the specs folder"
    )
    parser.add_argument(
        "--specs", type=Path, default=Path("specs"), help="specs folder (default: specs)"
    )
    parser.add_argument(
        "--base-url",
        metavar="URL",
        help=f"server to fetch from (default: ${BASE_URL_ENV} or {DEFAULT_BASE_URL})",
    )
    parser.set_defaults(handler=run)


def run(
    args: argparse.Namespace,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    fetcher: SpecFetcher | None = None,
) -> int:
    """``falgen fetch``: refresh the requested specs and print one line per endpoint."""
    out = sys.stdout if stdout is None else stdout
    err = sys.stderr if stderr is None else stderr
    specs_dir: Path = args.specs
    ids = _requested_ids(args.endpoint_ids, specs_dir if args.all else None)
    if not ids:
        if args.all:
            print(f"no specs in {specs_dir} to refresh", file=out)
            return 0
        print("falgen fetch: error: give one or more ENDPOINT_IDs, or --all", file=err)
        return 2
    try:
        base_url = resolve_base_url(args.base_url)
    except ValueError as problem:
        print(f"falgen fetch: error: {problem}", file=err)
        return 2
    if fetcher is None:
        with SpecFetcher(base_url) as owned:
            results = refresh_specs(owned, specs_dir, ids)
    else:
        results = refresh_specs(fetcher, specs_dir, ids)
    out.write(render_results(results))
    return 1 if any(result.status is Status.FAILED for result in results) else 0


def _requested_ids(explicit: Sequence[str], all_from: Path | None) -> list[str]:
    """Explicit ids, then (with --all) the existing ones, each once, in that order."""
    ids = list(explicit) + (existing_endpoint_ids(all_from) if all_from is not None else [])
    return list(dict.fromkeys(ids))


def render_results(results: Sequence[FetchResult]) -> str:
    """One line per endpoint (plus indented warnings), then the totals."""
    lines: list[str] = []
    for result in results:
        line = f"{result.status.value:<9} {result.endpoint_id}"
        if result.status is Status.FAILED:
            line += ":" + ("\n    " if "\n" in result.message else " ") + result.message
        elif result.message:
            line += f" ({result.message})"
        lines.append(line)
        lines.extend(f"    warning: {warning}" for warning in result.warnings)
    counts = dict.fromkeys(Status, 0)
    for result in results:
        counts[result.status] += 1
    lines.append(", ".join(f"{count} {status.value}" for status, count in counts.items()))
    return "\n".join(lines) + "\n"
