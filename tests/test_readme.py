"""The README's Python examples run against the local fal-compatible server and type-check, so
the README cannot rot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.loader import load_specs
from generator.server import ServerConfig, ServerURLs, running_server
from tests.cli.conftest import server_env
from tests.helpers import GENERATED, ROOT, SPECS, CodeBlock, code_blocks

KEY = "readme-key-70d2b4"
BLOCKS = [block for block in code_blocks(ROOT / "README.md") if block.language == "python"]


@pytest.fixture(scope="module")
def server() -> Iterator[ServerURLs]:
    config = ServerConfig(accepted_keys=frozenset({KEY}), queue_delay=0.05, step_delay=0.02)
    with running_server(load_specs(SPECS), config) as urls:
        yield urls


def test_the_readme_shows_every_feature() -> None:
    code = "\n".join(block.code for block in BLOCKS)
    for feature in (
        ".submit(", ".status(", ".iter_events(", ".result(", ".cancel(", ".handle(", ".run(",
        ".stream(", ".realtime(", ".save(", ".download(", "storage.upload(", "AsyncFalClient",
        "verify_webhook", "WebhookPayload", "ValidationError", "on_queue_update",
    ):  # fmt: skip
        assert feature in code, feature


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"{block.section}#{block.index}")
def test_readme_example_runs(block: CodeBlock, server: ServerURLs, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAL_")},
        **server_env(server, KEY),
        "PYTHONPATH": str(GENERATED),
    }
    done = subprocess.run(
        [sys.executable, "-c", block.code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert KEY not in done.stdout + done.stderr


def test_readme_examples_type_check(tmp_path: Path) -> None:
    for block in BLOCKS:
        (tmp_path / f"example_{block.index}_{len(block.code)}.py").write_text(block.code + "\n")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy"), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(GENERATED)},
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
