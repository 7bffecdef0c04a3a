"""The README's Python examples run against the local fal-compatible server, print what they
say they print (or catch the error they claim), and type-check, so the README cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.loader import load_specs
from generator.server import ServerConfig, ServerURLs, running_server
from generator.server.stats import input_digest
from tests.cli.conftest import server_env, submissions
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


# What each Python example prints, matched against its whole output: the example is found by
# a line of its code. Request ids, seeds and URLs vary; what they are does not.
STATUS = r"status='(?:IN_QUEUE|IN_PROGRESS|COMPLETED)' .*\n"
URL = r"http://127\.0\.0\.1:\d+/\S+"
DATA_URI = r"data:image/png;base64,\S+"
REQUEST_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
EXPECTED = {
    # on_queue_update=print shows the queue, then the typed output's seed and second image.
    'prompt="a lighthouse at dusk"': rf"(?:{STATUS})+\d+ {URL}\n",
    # The models reject the call before anything is sent (checked below on the server too).
    "num_images=99": r"invalid input: num_images: Input should be less than or equal to 4\n",
    "handle = client.flux_1_schnell.submit": rf"{REQUEST_ID} {STATUS}(?:{STATUS})+{URL}\n",
    # A seed, partial outputs as dicts, then two realtime images (inline or by URL).
    "client.flux_1_schnell.run(": rf"\d+\n(?:\{{.*\}}\n)+(?:(?:{DATA_URI}|{URL})\n){{2}}",
    "upload_threshold=16": rf"\d+ bytes\n{URL}/sketch\.png\n",
    "asyncio.gather(": r"\[0, 1, 2, 3\]\n",
    "def receive(": "",  # defines a function and calls nothing
}


def _expected(block: CodeBlock) -> str:
    [pattern] = [pattern for marker, pattern in EXPECTED.items() if marker in block.code]
    return pattern


def test_every_example_has_its_expected_output() -> None:
    for block in BLOCKS:
        matching = [marker for marker in EXPECTED if marker in block.code]
        assert len(matching) == 1, (block.section, block.index, matching)
    assert len(BLOCKS) == len(EXPECTED)


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"{block.section}#{block.index}")
def test_readme_example_prints_what_it_says(
    block: CodeBlock, server: ServerURLs, tmp_path: Path
) -> None:
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
    assert re.fullmatch(_expected(block), done.stdout), done.stdout[-3000:]
    assert KEY not in done.stdout + done.stderr


def test_the_validation_example_sends_nothing(server: ServerURLs, tmp_path: Path) -> None:
    [block] = [block for block in BLOCKS if "num_images=99" in block.code]
    env = {**os.environ, **server_env(server, KEY), "PYTHONPATH": str(GENERATED)}
    subprocess.run(
        [sys.executable, "-c", block.code], env=env, cwd=tmp_path, check=True, timeout=120
    )
    sent = submissions(server, "fal-ai/flux-1/schnell")
    assert input_digest({"prompt": "a lighthouse", "num_images": 99}) not in sent


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
