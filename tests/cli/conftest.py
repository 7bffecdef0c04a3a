"""Fixtures for the command line: the generated package installed with its console script, and
the local fal-compatible server it talks to."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.loader import load_specs
from generator.server import ServerConfig, ServerURLs, running_server
from tests.helpers import GENERATED, SPECS

KEY = "cli-test-key-3f9a2c"


@dataclass(frozen=True)
class Installed:
    """The generated distribution installed (``pip install --target``) into a folder."""

    root: Path

    @property
    def script(self) -> Path:
        return self.root / "bin" / "fal-models"

    def env(self, urls: ServerURLs | None = None, **extra: str) -> dict[str, str]:
        """An environment running the installed package against ``urls``."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("FAL_") and key != "PYTHONPATH"
        }
        env["PYTHONPATH"] = str(self.root)
        env["COLUMNS"] = "100"
        if urls is not None:
            env |= server_env(urls)
        return env | extra


def server_env(urls: ServerURLs, key: str = KEY) -> dict[str, str]:
    return {
        "FAL_KEY": key,
        "FAL_QUEUE_URL": urls.queue,
        "FAL_RUN_URL": urls.run,
        "FAL_REST_URL": urls.rest,
        "FAL_REALTIME_URL": urls.realtime,
    }


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The committed generated/ package, installed as a user would (about a second)."""
    root = tmp_path_factory.mktemp("installed")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(root),
            str(GENERATED),
        ],
        check=True,
        capture_output=True,
    )
    return Installed(root)


@pytest.fixture(scope="session")
def server() -> Iterator[ServerURLs]:
    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with running_server(load_specs(SPECS), config) as urls:
        yield urls


@dataclass(frozen=True)
class Result:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def cli(installed: Installed, server: ServerURLs) -> Any:
    """Run ``fal-models ARGS`` against the shared server."""

    def run(*args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> Result:
        done = subprocess.run(
            [str(installed.script), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**installed.env(server), **(env or {})},
            timeout=60,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


def submissions(urls: ServerURLs, endpoint_id: str) -> dict[str, int]:
    """How often the server received each input (by digest) for an endpoint."""
    stats = httpx.get(f"{urls.admin}/stats", headers=urls.admin_headers, timeout=5).json()
    counts: dict[str, int] = stats["submissions_by_input"].get(endpoint_id, {})
    return counts
