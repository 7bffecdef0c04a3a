"""The generated documentation: the site builds strictly, every page and internal link exists,
and the Python examples type-check and run against the local fal-compatible server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.ir import Endpoint
from generator.loader import load_specs
from generator.output import write_tree
from generator.pipeline import Options, generate_tree, load_package
from generator.server import ServerConfig, ServerURLs, running_server
from tests.cli.conftest import KEY, server_env
from tests.helpers import GENERATED, SPECS, CodeBlock, code_blocks, make_spec, write_spec

ENDPOINTS = load_package(SPECS).endpoints
# Sections whose Python examples run against the local server. Webhook examples name a
# public URL the server would have to call, so they are type-checked only.
RUNNABLE_SECTIONS = ("Examples", "Queue", "Streaming", "Realtime")


def build_site(source: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(source / "mkdocs.yml"),
            "-d",
            str(out),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed docs, built in a temporary folder (generated/ stays untouched)."""
    root = tmp_path_factory.mktemp("docs")
    shutil.copy(GENERATED / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(GENERATED / "docs", root / "docs")
    built = build_site(root, root / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stdout + built.stderr, built.stdout + built.stderr
    return root / "site"


class _Page(HTMLParser):
    """Links, element ids and table cells of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def parse_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def page_of(site: Path, endpoint: Endpoint) -> Path:
    return site / "endpoints" / endpoint.module / "index.html"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda endpoint: endpoint.module)
def test_every_endpoint_has_a_page_with_its_parameters_in_spec_order(
    site: Path, endpoint: Endpoint
) -> None:
    page = parse_page(page_of(site, endpoint))
    parameters = next(table for table in page.tables if table[0][:2] == ["Name", "Type"])
    assert [row[0] for row in parameters[1:]] == [field.name for field in endpoint.input.fields]
    assert parameters[0] == [
        "Name",
        "Type",
        "Required",
        "Default",
        "Allowed values",
        "Constraints",
        "Description",
    ]
    for row, field in zip(parameters[1:], endpoint.input.fields, strict=True):
        assert row[2] == ("yes" if field.required and not field.has_default else "no")
        assert row[6] == (" ".join(field.description.split()) or "")


def test_index_lists_every_endpoint_by_category(site: Path) -> None:
    page = parse_page(site / "index.html")
    linked = {link for link in page.links if link.startswith("endpoints/")}
    assert linked == {f"endpoints/{endpoint.module}/" for endpoint in ENDPOINTS}
    assert "text-to-image" in page.ids


def test_internal_links_resolve(site: Path) -> None:
    # 404.html is served at any path, so its links are root-absolute by design.
    pages = {path: parse_page(path) for path in site.rglob("*.html") if path.name != "404.html"}
    checked = 0
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{path.relative_to(site)}: broken link {link}"
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse_page(target).ids
                assert unquote(parts.fragment) in ids, f"{path.relative_to(site)}: no #{link}"
            checked += 1
    assert checked > 100


def test_python_examples_type_check(tmp_path: Path) -> None:
    blocks = [
        block
        for page in sorted((GENERATED / "docs" / "endpoints").glob("*.md"))
        for block in code_blocks(page)
        if block.language == "python"
    ]
    # Sync and async calls, queue and webhook for each endpoint; sync and async for each
    # streaming or realtime mode.
    modes = sum(len(endpoint.capabilities) for endpoint in ENDPOINTS)
    assert len(blocks) == 4 * len(ENDPOINTS) + 2 * modes
    for block in blocks:
        (tmp_path / f"{block.name}.py").write_text(block.code + "\n", encoding="utf-8")
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / ".mypy"), "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(GENERATED)},
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def runnable_blocks() -> list[CodeBlock]:
    return [
        block
        for page in sorted((GENERATED / "docs" / "endpoints").glob("*.md"))
        for block in code_blocks(page)
        if block.language == "python" and block.section in RUNNABLE_SECTIONS
    ]


@pytest.fixture(scope="module")
def docs_server() -> Iterator[ServerURLs]:
    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with running_server(load_specs(SPECS), config) as urls:
        yield urls


def test_python_examples_run_against_the_local_server(docs_server: ServerURLs) -> None:
    blocks = runnable_blocks()
    sections = {block.section for block in blocks}
    assert sections == set(RUNNABLE_SECTIONS)  # streaming and realtime pages exist too
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAL_")},
        **server_env(docs_server),
        "PYTHONPATH": str(GENERATED),
    }

    def run(block: CodeBlock) -> tuple[CodeBlock, subprocess.CompletedProcess[str]]:
        done = subprocess.run(
            [sys.executable, "-c", block.code],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        return block, done

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(run, blocks))
    failures = [
        f"{block.page} {block.section} #{block.index}:\n{done.stderr[-2000:]}"
        for block, done in results
        if done.returncode != 0
    ]
    assert not failures, "\n\n".join(failures)
    for block, done in results:
        assert done.stdout.strip(), f"{block.page} {block.section} printed nothing"
        if "print(result.images[0].url)" in block.code:  # a CDN URL, or inline (sync_mode)
            url = done.stdout.strip().splitlines()[-1]
            assert url.startswith((docs_server.cdn + "/", "data:image/")), url


NASTY = "Pipes | and `ticks`, <b>html</b> & *stars* _under_ [link](x) {: #id} \\ back"


def test_spec_text_is_escaped_in_tables_and_prose(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    spec = make_spec(
        "fal-ai/nasty-docs",
        {
            "prompt": {"type": "string", "description": NASTY, "examples": ["a | b `c`"]},
            "mode": {"type": "string", "enum": ["a|b", "c`d", "16:9"], "default": "a|b"},
        },
        required=["prompt"],
    )
    spec["info"]["x-falgen-summary"] = "# Not a heading\n\n- not a list " + NASTY
    write_spec(specs, spec)
    out = tmp_path / "out"
    write_tree(out, generate_tree(specs, Options()))
    built = build_site(out, tmp_path / "site")
    assert built.returncode == 0, built.stdout + built.stderr

    page = parse_page(tmp_path / "site" / "endpoints" / "nasty_docs" / "index.html")
    parameters = next(table for table in page.tables if table[0][:2] == ["Name", "Type"])
    prompt, mode = parameters[1:]
    assert len(prompt) == 7 and prompt[6] == NASTY
    assert mode[4] == "a|b, c`d, 16:9" and mode[3] == '"a|b"'
    html = (tmp_path / "site" / "endpoints" / "nasty_docs" / "index.html").read_text()
    assert "<b>html</b>" not in html and '<h1 id="not-a-heading"' not in html
    assert "# Not a heading" in html and "- not a list" in html
