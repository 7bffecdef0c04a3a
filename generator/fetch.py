"""``falgen fetch``: download fal's published OpenAPI documents into ``specs/``.

Documents come from fal's model catalogue (:mod:`generator.catalog`: up to 50 endpoints a
request, or a whole category), with each model's metadata, which is kept in the spec as
``info["x-fal-catalog"]``. Where the catalogue cannot give a document (it answers an error object
for it, does not list the endpoint, or cannot be reached), the endpoint's own document URL
``<base>/api/openapi/queue/openapi.json?endpoint_id=<id>`` is tried, and the metadata of the spec
it replaces is kept.

The one guarantee that matters most: **a good spec is never replaced by a bad download**. Every
check happens in memory, on the document as it will load (our ``x-falgen-*`` annotations carried
over, the endpoint's overlay applied); the file is only written, through a temporary file and
``os.replace``, once the loader can use it, as the generator does: a document with flaws the
generator works around (the endpoint is generated degraded) is written, and each flaw is
reported as a warning; one whose endpoint cannot be built (fal's error object in place of a
document, an unusable Input) is refused. An overlay whose target no longer selects anything in
the new document is reported.

Every request has a size limit and a deadline, each document one (``DOCUMENT_SECONDS``) and the
whole run one (``RUN_SECONDS``); see :mod:`generator.remote`.
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from .catalog import PAGE_SECONDS, Catalog, Model, model_of
from .diff import DiffError, diff_specs
from .errors import SpecErrors, printable
from .ir import Problem
from .loader import MAX_SPEC_BYTES, discover, parse_json, read_spec
from .overlay import Applied, OverlayFile, apply_overlay, overlay_for, parse_overlay
from .reading import read_inside
from .remote import (
    OPENAPI_PATH,
    READ_TIMEOUT,
    RUN_SECONDS,
    Deadline,
    FetchError,
    Getter,
    Hosts,
    NotFound,
    RetryPolicy,
    Sleep,
    add_base_url,
    resolve_hosts,
)
from .schema import CATALOG_KEY
from .specfile import (
    InvalidEndpointId,
    carry_over_extensions,
    endpoint_id_for,
    normalise,
    spec_path,
    validate_endpoint_id,
    write_atomically,
)

DOCUMENT_SECONDS = PAGE_SECONDS  # one document (or catalogue page), all attempts included
UNLISTED = "the catalogue does not list it"


class Status(enum.StrEnum):
    """What happened to one endpoint's spec file."""

    ADDED = "added"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"
    # fal publishes it no longer (the catalogue does not list it, its document URL answers
    # 404): the spec is kept as it is, and said so on every refresh.
    UNPUBLISHED = "unpublished"


class Unpublished(FetchError):
    """The catalogue does not list the endpoint and its document URL answers 404."""


@dataclass(frozen=True)
class FetchResult:
    """The outcome for one endpoint id, as reported to the user.

    ``overlay_problems`` are actions of the endpoint's overlay that select nothing in the new
    document: the spec was written, but generating from it fails until the overlay is fixed.
    """

    endpoint_id: str
    status: Status
    path: Path | None = None
    message: str = ""
    warnings: tuple[str, ...] = ()
    overlay_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fetched:
    """A downloaded document, where it came from, and its catalogue metadata (if any)."""

    document: dict[str, Any]
    metadata: dict[str, Any] | None
    origin: str


class SpecFetcher:
    """Gets fal queue documents: from the catalogue, else from each endpoint's document URL.

    ``transport`` and ``sleep`` are injectable so tests can use a fake server and skip waits.
    Each call of :meth:`fetch` or :meth:`fetch_category` is one run with its own deadline.
    """

    def __init__(
        self,
        hosts: Hosts | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        read_timeout: float = READ_TIMEOUT,
        document_seconds: float = DOCUMENT_SECONDS,
        run_seconds: float = RUN_SECONDS,
    ) -> None:
        self.hosts = hosts or Hosts()
        self.transport = transport
        self.retry = retry
        self.sleep = sleep
        self.read_timeout = read_timeout
        self.document_seconds = document_seconds
        self.run_seconds = run_seconds

    def document_url(self, endpoint_id: str) -> str:
        url = httpx.URL(self.hosts.documents + OPENAPI_PATH, params={"endpoint_id": endpoint_id})
        return str(url)

    def fetch(self, endpoint_ids: Sequence[str]) -> dict[str, Fetched | FetchError]:
        """Each endpoint's document, or why it could not be had."""
        return asyncio.run(self._run(self._fetch(endpoint_ids)))

    def fetch_category(self, category: str) -> dict[str, Fetched | FetchError]:
        """Every endpoint of a catalogue category; FetchError if the category cannot be listed."""
        return asyncio.run(self._run(self._fetch_category(category)))

    async def _run(self, work: Any) -> dict[str, Fetched | FetchError]:
        self._deadline = Deadline(self.run_seconds)
        getter = Getter(
            transport=self.transport,
            retry=self.retry,
            sleep=self.sleep,
            read_timeout=self.read_timeout,
        )
        async with getter:
            self._getter = getter
            result: dict[str, Fetched | FetchError] = await work
            return result

    async def _fetch(self, endpoint_ids: Sequence[str]) -> dict[str, Fetched | FetchError]:
        catalog = Catalog(self._getter, self.hosts.catalog, self.document_seconds)
        try:
            models = await catalog.find(endpoint_ids, self._deadline)
        except FetchError as problem:
            models, unreachable = {}, f"catalogue: {problem}"
        else:
            unreachable = UNLISTED
        return {
            endpoint_id: await self._resolve(endpoint_id, models.get(endpoint_id), unreachable)
            for endpoint_id in endpoint_ids
        }

    async def _fetch_category(self, category: str) -> dict[str, Fetched | FetchError]:
        catalog = Catalog(self._getter, self.hosts.catalog, self.document_seconds)
        models = await catalog.search(self._deadline, category=category, expand=True)
        return {
            model.endpoint_id: await self._resolve(model.endpoint_id, model, "") for model in models
        }

    async def _resolve(
        self, endpoint_id: str, model: Model | None, unreachable: str
    ) -> Fetched | FetchError:
        """The catalogue's document, else the document URL's (saying why, if both fail)."""
        if model is not None and model.document is not None:
            return Fetched(model.document, model.metadata, "catalogue")
        why = model.problem if model is not None else unreachable
        url = self.document_url(endpoint_id)
        try:
            raw = await self._getter.get(
                self.hosts.documents + OPENAPI_PATH,
                {"endpoint_id": endpoint_id},
                max_bytes=MAX_SPEC_BYTES,
                deadline=self._deadline.within(self.document_seconds),
            )
        except NotFound:
            message = f"unknown endpoint ({why}; HTTP 404 from {url})"
            return Unpublished(message) if why == UNLISTED else FetchError(message)
        except FetchError as problem:
            return FetchError(f"{why}; document URL: {problem}")
        try:
            document = parse_json(f"{endpoint_id}.json", raw)
        except SpecErrors as problem:
            return FetchError(_spec_problem(raw, problem))
        return Fetched(document, model.metadata if model is not None else None, url)


def _spec_problem(raw: bytes, problem: SpecErrors) -> str:
    lines = [f"{error.pointer}: {error.message}" for error in problem.errors[:10]]
    if len(problem.errors) > 10:
        lines.append(f"... and {len(problem.errors) - 10} more")
    first = problem.errors[0] if problem.errors else None
    if first is not None and first.pointer == "#" and "invalid JSON" in first.message:
        truncated = " (truncated download?)" if raw.strip()[:1] in (b"{", b"[") else ""
        return f"the server did not send valid JSON{truncated}: {first.message}"
    return "the document is not a usable fal queue spec:\n    " + "\n    ".join(lines)


# --------------------------------------------------------------------------------------------
# Updating the specs folder
# --------------------------------------------------------------------------------------------


def refresh_specs(
    fetcher: SpecFetcher, specs_dir: Path, endpoint_ids: Iterable[str]
) -> list[FetchResult]:
    """Fetch the endpoints and write each spec that changed; one failure stops no other."""
    results: dict[str, FetchResult] = {}
    wanted: list[str] = []
    for endpoint_id in endpoint_ids:
        try:
            validate_endpoint_id(endpoint_id)
        except InvalidEndpointId as problem:
            results[endpoint_id] = FetchResult(endpoint_id, Status.FAILED, message=str(problem))
        else:
            wanted.append(endpoint_id)
    fetched = fetcher.fetch(wanted) if wanted else {}
    for endpoint_id in wanted:
        results[endpoint_id] = store(specs_dir, endpoint_id, fetched[endpoint_id])
    return [results[endpoint_id] for endpoint_id in dict.fromkeys(endpoint_ids)]


def refresh_category(fetcher: SpecFetcher, specs_dir: Path, category: str) -> list[FetchResult]:
    """Fetch every endpoint of a category (FetchError when the category cannot be listed)."""
    fetched = fetcher.fetch_category(category)
    return [store(specs_dir, endpoint_id, fetched[endpoint_id]) for endpoint_id in sorted(fetched)]


def refresh_spec(fetcher: SpecFetcher, specs_dir: Path, endpoint_id: str) -> FetchResult:
    [result] = refresh_specs(fetcher, specs_dir, [endpoint_id])
    return result


def store(specs_dir: Path, endpoint_id: str, fetched: Fetched | FetchError) -> FetchResult:
    """Write one fetched document if it is usable and changed. Never raises for a bad one."""
    try:
        path = spec_path(specs_dir, endpoint_id)
        if isinstance(fetched, Unpublished) and path.exists():
            message = "fal publishes it no longer: kept as it is"
            return FetchResult(endpoint_id, Status.UNPUBLISHED, path, message)
        if isinstance(fetched, FetchError):
            raise fetched
        return _store(specs_dir, path, endpoint_id, fetched)
    except (FetchError, InvalidEndpointId) as problem:
        return FetchResult(endpoint_id, Status.FAILED, message=str(problem))
    except SpecErrors as problem:  # the endpoint's overlay cannot be read
        return FetchResult(endpoint_id, Status.FAILED, message=str(problem))
    except OSError as problem:
        where = problem.filename or specs_dir
        message = f"cannot update {where}: {problem.strerror or problem}"
        return FetchResult(endpoint_id, Status.FAILED, message=message)


def _store(specs_dir: Path, path: Path, endpoint_id: str, fetched: Fetched) -> FetchResult:
    """Merge with the existing spec (if any), validate the result, write it if it changed."""
    warnings: list[str] = []
    previous_text: str | None = None
    previous: dict[str, Any] | None = None
    document = fetched.document
    if path.exists():
        raw = read_inside(specs_dir, path, MAX_SPEC_BYTES)
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
    document = _with_metadata(document, fetched.metadata, previous)
    text = normalise(document)
    overlay = overlay_for(specs_dir, path)
    # What gets written, with its overlay, is what must be usable.
    checked = validate_document(endpoint_id, text.encode("utf-8"), overlay)
    warnings.extend(f"{problem.severity}: {problem}" for problem in checked.problems)
    applied = checked.applied
    problems = (
        tuple(str(e) for e in applied.unmatched_errors(f"{endpoint_id}.json")) if applied else ()
    )
    if previous_text == text:
        return FetchResult(endpoint_id, Status.UNCHANGED, path, "", tuple(warnings), problems)
    write_atomically(path, text)
    if previous_text is None:
        return FetchResult(endpoint_id, Status.ADDED, path, "", tuple(warnings), problems)
    impact = _impact(endpoint_id, previous_text, checked.document, overlay)
    return FetchResult(endpoint_id, Status.UPDATED, path, impact, tuple(warnings), problems)


def _with_metadata(
    document: dict[str, Any], metadata: dict[str, Any] | None, previous: dict[str, Any] | None
) -> dict[str, Any]:
    """The catalogue's metadata in ``info``; without any (a document URL's answer), the
    previous spec's."""
    info = document.get("info")
    if not isinstance(info, dict):
        return document
    if metadata is None and previous is not None:
        old = previous.get("info")
        metadata = old.get(CATALOG_KEY) if isinstance(old, dict) else None
    if not metadata:
        return document
    return {**document, "info": {**info, CATALOG_KEY: metadata}}


@dataclass(frozen=True)
class Checked:
    """A usable document: what its overlay did (None without one), the flaws the generator
    works around (its ``degraded`` problems), and the document as it loads."""

    applied: Applied | None
    problems: tuple[Problem, ...]
    document: dict[str, Any]


def catalog_spec(item: Any) -> tuple[str, str]:
    """One model of a Platform API answer expanded with ``openapi-3.0``, as ``falgen fetch``
    writes its spec: the endpoint id, and the file's text (the document with the catalogue
    metadata fetch keeps, in the canonical form). Where fal answered an error object instead of
    a document, that object (which fetch refuses; the generator and the local server report it
    as fal's). FetchError for a model without an endpoint id."""
    model = model_of(item, expand=True)
    if model.document is None:
        error = item.get("openapi")
        if not isinstance(error, dict):
            raise FetchError(f"{model.endpoint_id}: {model.problem}")
        return model.endpoint_id, normalise(error)
    return model.endpoint_id, normalise(_with_metadata(model.document, model.metadata, None))


def write_catalog_answer(answer: Any, specs_dir: Path) -> list[str]:
    """Every model of a Platform API answer (``{"models": [...]}``, expanded) written into
    ``specs_dir`` by :func:`catalog_spec`, each at its endpoint's place; the endpoint ids.
    For tests and benchmarks over a stored catalogue, where no server answers."""
    ids = []
    for item in answer["models"]:
        endpoint_id, text = catalog_spec(item)
        write_atomically(spec_path(specs_dir, endpoint_id), text)
        ids.append(endpoint_id)
    return ids


def validate_document(endpoint_id: str, raw: bytes, overlay: OverlayFile | None = None) -> Checked:
    """Check that ``raw``, with its overlay, is a fal queue spec the generator can use for
    ``endpoint_id`` (possibly degraded).

    FetchError if it cannot (the endpoint would be skipped), SpecErrors if the overlay cannot
    be read. An overlay action that selects nothing is reported by the caller.
    """
    source = f"{endpoint_id}.json"
    actions = parse_overlay(overlay) if overlay is not None else None  # its own errors: raised
    applied = None
    try:
        if actions is None:
            spec = read_spec(source, raw)
        else:
            applied = apply_overlay(parse_json(source, raw), actions)
            spec = read_spec(source, normalise(applied.document).encode("utf-8"))
    except SpecErrors as problem:
        message = _spec_problem(raw, problem)
        if applied is not None and applied.unmatched:
            unmatched = "; ".join(str(e) for e in applied.unmatched_errors(source))
            message += f"\n    (overlay: {unmatched})"
        raise FetchError(message) from None
    return Checked(applied, spec.problems, spec.document)


def _impact(
    endpoint_id: str, before: str, after: dict[str, Any], overlay: OverlayFile | None
) -> str:
    """A one-line summary of what an update changed, so the fetch output hints at the diff.

    Documents are compared as they load (overlay applied; ``after`` is loaded already). Only a
    valid previous spec is compared: a hand-broken one has no meaningful diff.
    """
    try:
        old = read_spec(f"{endpoint_id}.json", before.encode("utf-8"), overlay).document
        report = diff_specs({endpoint_id: old}, {endpoint_id: after})
    except (FetchError, SpecErrors, DiffError):
        return ""
    counts = {severity: count for severity, count in report.counts().items() if count}
    if not counts:
        return "formatting only"
    listed = ", ".join(f"{count} {severity}" for severity, count in counts.items())
    return f"{listed}; run 'falgen diff' for details"


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
            "Download endpoints' queue OpenAPI documents from fal's model catalogue (or each "
            "endpoint's document URL when the catalogue has none), load them with their "
            "overlays as the generator does (flaws it works around are printed as warnings), "
            "keep our x-falgen annotations from the spec each replaces, and write "
            "specs/<id>.json in the canonical form. A failed download, or a document whose "
            "endpoint cannot be built, never replaces an existing spec. Exit status: 0 when "
            "every endpoint was fetched, 1 when any failed or an "
            "overlay no longer applies, 2 usage error."
        ),
    )
    parser.add_argument(
        "endpoint_ids", nargs="*", metavar="ENDPOINT_ID", help="e.g. fal-ai/flux-1/schnell"
    )
    parser.add_argument(
        "--all", action="store_true", help="refresh every spec already in the specs folder"
    )
    parser.add_argument(
        "--category",
        metavar="NAME",
        help="every endpoint of a catalogue category, e.g. text-to-image",
    )
    parser.add_argument(
        "--specs", type=Path, default=Path("specs"), help="specs folder (default: specs)"
    )
    add_base_url(parser)
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
    if not ids and not args.category:
        if args.all:
            print(f"no specs in {specs_dir} to refresh", file=out)
            return 0
        print("falgen fetch: error: give one or more ENDPOINT_IDs, --all or --category", file=err)
        return 2
    try:
        fetcher = fetcher or SpecFetcher(resolve_hosts(args.base_url))
    except ValueError as problem:
        print(f"falgen fetch: error: {problem}", file=err)
        return 2
    results = refresh_specs(fetcher, specs_dir, ids) if ids else []
    if args.category:
        try:
            results += refresh_category(fetcher, specs_dir, args.category)
        except FetchError as problem:
            print(
                f"falgen fetch: category {printable(args.category)}: {printable(str(problem))}",
                file=err,
            )
            return 1
    out.write(render_results(results))
    return 1 if any(needs_attention(result) for result in results) else 0


def needs_attention(result: FetchResult) -> bool:
    return result.status is Status.FAILED or bool(result.overlay_problems)


def _requested_ids(explicit: Sequence[str], all_from: Path | None) -> list[str]:
    """Explicit ids, then (with --all) the existing ones, each once, in that order."""
    ids = list(explicit) + (existing_endpoint_ids(all_from) if all_from is not None else [])
    return list(dict.fromkeys(ids))


def render_results(results: Sequence[FetchResult]) -> str:
    """One line per endpoint (plus indented warnings), then the totals. Text from servers and
    specs is made printable: it never reaches the terminal as control sequences."""
    lines: list[str] = []
    for result in results:
        line = f"{result.status.value:<9} {printable(result.endpoint_id)}"
        if result.status is Status.FAILED:
            message = "\n    ".join(printable(part) for part in result.message.split("\n"))
            line += ":" + ("\n    " if "\n" in result.message else " ") + message
        elif result.message:
            line += f" ({printable(result.message)})"
        lines.append(line)
        lines.extend(f"    warning: {printable(warning)}" for warning in result.warnings)
        lines.extend(f"    overlay: {printable(problem)}" for problem in result.overlay_problems)
    counts = dict.fromkeys(Status, 0)
    for result in results:
        counts[result.status] += 1
    lines.append(
        ", ".join(
            f"{count} {status.value}"
            for status, count in counts.items()
            if count or status is not Status.UNPUBLISHED
        )
    )
    return "\n".join(lines) + "\n"
