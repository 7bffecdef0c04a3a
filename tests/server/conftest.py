"""Fixtures for the local server's tests: the repo's specs, a shared fast server, clients."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.loader import SpecDocument, load_spec_bytes
from generator.server import ServerConfig, ServerURLs, running_server
from generator.server.catalog import LoadedSpecs, load_served_specs
from tests.helpers import CATALOG, explode_catalog
from tests.server.support import (
    AUTH,
    KEY,
    REAL_SPECS_DIR,
    SPECS_DIR,
)


@pytest.fixture(scope="session")
def specs() -> list[SpecDocument]:
    """The repository's specs, loaded as ``falgen serve`` loads them (overlays applied)."""
    loaded = load_served_specs(SPECS_DIR)
    assert not loaded.unavailable, loaded.unavailable
    return loaded.documents


@pytest.fixture(scope="session")
def specs_by_id(specs: list[SpecDocument]) -> dict[str, SpecDocument]:
    return {spec.endpoint_id: spec for spec in specs}


@pytest.fixture(scope="session")
def real_specs() -> list[SpecDocument]:
    """fal's published documents from ../shared/realspecs, when that folder exists."""
    if not REAL_SPECS_DIR.is_dir():
        pytest.skip(f"{REAL_SPECS_DIR} not found: real fal documents are not available")
    documents = []
    for path in sorted(REAL_SPECS_DIR.glob("*.json")):
        raw = path.read_bytes()
        endpoint_id = json.loads(raw)["info"]["x-fal-metadata"]["endpointId"]
        documents.append(load_spec_bytes(endpoint_id + ".json", raw))
    return documents


@dataclass(frozen=True)
class RealCatalogue:
    """fal's catalogue (../shared/catalog) exploded into a specs folder, as falgen fetch keeps
    it, and served: the models by category file, what loaded, and the server's URLs."""

    by_category: dict[str, list[dict[str, Any]]]
    loaded: LoadedSpecs
    urls: ServerURLs
    folder: Path


@pytest.fixture(scope="session")
def real_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealCatalogue]:
    if not CATALOG.is_dir():
        pytest.skip(f"{CATALOG} not found: fal's catalogue is not available")
    folder = tmp_path_factory.mktemp("catalog-specs")
    by_category = explode_catalog(folder)
    loaded = load_served_specs(folder)
    config = ServerConfig(queue_delay=0, progress_steps=0, step_delay=0)
    with running_server(loaded.documents, config, unavailable=loaded.unavailable) as urls:
        yield RealCatalogue(by_category, loaded, urls, folder)


@pytest.fixture(scope="session")
def server(specs: list[SpecDocument]) -> Iterator[ServerURLs]:
    """One fast, fault-free server shared by the tests that do not change its configuration."""
    with running_server(specs, ServerConfig(accepted_keys=frozenset({KEY}))) as urls:
        yield urls


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    """A client sending the accepted key (shared: building a client costs an SSL context)."""
    with httpx.Client(headers=AUTH, timeout=10) as http:
        yield http


@pytest.fixture(scope="session")
def anon() -> Iterator[httpx.Client]:
    """A client sending no credentials."""
    with httpx.Client(timeout=10) as http:
        yield http
