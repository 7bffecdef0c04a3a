"""End-to-end fixtures: the generated client (imported from generated/) against the local
fal-compatible server on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from generator.ir import Endpoint
from generator.loader import SpecDocument, load_specs
from generator.pipeline import load_package
from generator.server import ServerConfig, ServerURLs, running_server
from tests.helpers import SPECS, sample

KEY = "e2e-key-5b0f3c9d27a14e6b"  # a fake key: tests check that it never leaks


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def spec_documents() -> list[SpecDocument]:
    return load_specs(SPECS)


@pytest.fixture(scope="session")
def endpoints() -> tuple[Endpoint, ...]:
    return load_package(SPECS).endpoints


@pytest.fixture(scope="session")
def server(spec_documents: list[SpecDocument]) -> Iterator[ServerURLs]:
    """One fast, fault-free server for the tests that do not change its configuration."""
    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with running_server(spec_documents, config) as urls:
        yield urls


@pytest.fixture
def serve(spec_documents: list[SpecDocument]) -> Iterator[Callable[..., ServerURLs]]:
    """Start a server with its own configuration (faults, held requests); stopped after the test."""
    with contextlib.ExitStack() as stack:

        def start(**settings: Any) -> ServerURLs:
            config = ServerConfig(accepted_keys=frozenset({KEY}), **settings)
            return stack.enter_context(running_server(spec_documents, config))

        yield start


def client_options(urls: ServerURLs, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments pointing a generated client at a local server."""
    return {
        "key": KEY,
        "queue_url": urls.queue,
        "run_url": urls.run,
        "rest_url": urls.rest,
        "realtime_url": urls.realtime,
        "timeout": 10.0,
        **overrides,
    }


@pytest.fixture
def client(server: ServerURLs) -> Iterator[Any]:
    from fal_models import FalClient

    reset(server)
    with FalClient(**client_options(server)) as fal:
        yield fal


def stats(urls: ServerURLs) -> dict[str, Any]:
    response = httpx.get(f"{urls.admin}/stats", headers=urls.admin_headers, timeout=5)
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


def reset(urls: ServerURLs) -> None:
    httpx.post(f"{urls.admin}/reset", headers=urls.admin_headers, timeout=5).raise_for_status()


def release(urls: ServerURLs, request_id: str) -> None:
    release = f"{urls.admin}/release/{request_id}"
    httpx.post(release, headers=urls.admin_headers, timeout=5).raise_for_status()


def example_arguments(endpoint: Endpoint, spec: SpecDocument) -> dict[str, Any]:
    """Keyword arguments for a valid call: the spec's required fields, from examples."""
    schema = spec.schemas[spec.input_schema]
    values = sample(schema, spec.schemas)
    keywords = {field.name: field.param for field in endpoint.input.fields}
    return {keywords[name]: value for name, value in values.items()}
