"""Fixtures for the ``falgen fetch`` / ``falgen diff`` tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.fetch import SpecFetcher
from generator.remote import Hosts
from tests.regen.support import Sleeps, SpecServer


@pytest.fixture
def spec_server() -> Iterator[SpecServer]:
    """A scripted fal OpenAPI server on 127.0.0.1, stopped after the test."""
    with SpecServer().running() as server:
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def fetcher(spec_server: SpecServer, sleeps: Sleeps) -> SpecFetcher:
    """A fetcher of the scripted server that records its pauses instead of waiting."""
    return SpecFetcher(Hosts(spec_server.base_url, spec_server.base_url), sleep=sleeps)


@pytest.fixture
def specs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not depend on the developer's environment."""
    monkeypatch.delenv("FALGEN_OPENAPI_BASE_URL", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
