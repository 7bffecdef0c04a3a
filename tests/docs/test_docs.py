"""The generated documentation: the site builds strictly, every page and internal link exists,
and the Python examples type-check and run against the local fal-compatible server."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from generator.ir import Endpoint, Problem
from generator.loader import load_specs
from generator.models import model_modules
from generator.pipeline import Options, load_package
from generator.render import plan_package
from generator.server import ServerConfig, ServerURLs, running_server
from tests.cli.conftest import KEY, server_env
from tests.docs.conftest import build_site
from tests.helpers import GENERATED, SPECS, CodeBlock, code_blocks, make_spec, write_spec

ENDPOINTS = load_package(SPECS).endpoints
# Sections whose Python examples run against the local server. Webhook examples name a
# public URL the server would have to call, so they are type-checked only.
RUNNABLE_SECTIONS = ("Examples", "Queue", "Streaming", "Realtime")


class _Page(HTMLParser):
    """Links, element ids, table cells and definition lists (by the h2 above) of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tables: list[list[list[str]]] = []
        # h2 id -> its definition lists' entries: (term text, [paragraphs of the definition]).
        self.definitions: dict[str, list[tuple[str, list[str]]]] = {}
        self._section = ""
        self._cell: list[str] | None = None
        self._text: list[str] | None = None  # a dt, or a paragraph of a dd
        self._in_dd = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
            if tag == "h2":
                self._section = str(values["id"])
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "dt":
            self._text = []
        elif tag == "dd":
            self._in_dd = True
            self._text = []
        elif tag == "p" and self._in_dd:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "dt" and self._text is not None:
            entries = self.definitions.setdefault(self._section, [])
            entries.append(("".join(self._text).strip(), []))
            self._text = None
        elif tag in ("p", "dd") and self._in_dd and self._text is not None:
            text = "".join(self._text).strip()
            if text:
                self.definitions[self._section][-1][1].append(text)
            self._text = [] if tag == "p" else None
            self._in_dd = tag == "p"

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._text is not None:
            self._text.append(data)


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
    parameters = page.definitions["parameters"]
    assert [term.split(" · ")[0] for term, _ in parameters] == [
        field.name for field in endpoint.input.fields
    ]
    for (term, details), field in zip(parameters, endpoint.input.fields, strict=True):
        assert term.endswith("· required") == (field.required and not field.has_default)
        if field.description.strip():
            assert details[0] == " ".join(field.description.split())
        default = next((d for d in details if d.startswith("Default: ")), None)
        assert default == (f"Default: {json.dumps(field.default)}" if field.has_default else None)
    output = page.definitions["output"]
    assert [term.split(" · ")[0] for term, _ in output] == [
        field.name for field in endpoint.output.fields
    ]


def test_index_lists_every_endpoint_by_category_with_a_summary(site: Path) -> None:
    page = parse_page(site / "index.html")
    linked = {link for link in page.links if link.startswith("endpoints/")}
    assert linked == {f"endpoints/{endpoint.module}/" for endpoint in ENDPOINTS}
    assert "text-to-image" in page.ids
    (catalogue,) = page.tables
    assert catalogue[0] == ["Model", "Summary"]
    assert len(catalogue) == 1 + len(ENDPOINTS)
    for row in catalogue[1:]:
        assert row[1], f"{row[0]}: empty summary"


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
# fal's catalogue entry, as falgen fetch keeps it in the spec.
CATALOG = {
    "display_name": "Nasty [docs] *v2*",
    "category": "text-to-image",
    "description": "# Not a heading\n\n- not a list " + NASTY,
    "status": "deprecated",
    "tags": ["a|b", "lora"],
}


@pytest.fixture(scope="module")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site from small specs: hostile text, every kind of field fact, catalogue metadata, an
    endpoint without any description, and problems generation worked around."""
    root = tmp_path_factory.mktemp("fixture-docs")
    nasty = make_spec(
        "fal-ai/nasty-docs",
        {
            "prompt": {"type": "string", "description": NASTY, "examples": ["a | b `c`"]},
            "mode": {"type": "string", "enum": ["a|b", "c`d", "16:9"], "default": "a|b"},
            "steps": {"type": "integer", "minimum": 1, "maximum": 8, "default": 4},
            "image_url": {"type": "string", "description": "The image."},
            "from": {"type": "number", "description": ": not a definition"},
        },
        required=["prompt"],
    )
    nasty["info"]["x-fal-catalog"] = CATALOG
    bare = make_spec(
        "fal-ai/bare", {"seed": {"type": "integer"}, "text": {"type": "string"}}, required=["text"]
    )
    bare["info"]["x-fal-metadata"]["category"] = ""
    # fal publishes its Output empty: the output is untyped.
    untyped = make_spec("fal-ai/untyped", {"prompt": {"type": "string"}})
    untyped["components"]["schemas"]["UntypedOutput"] = {}
    for spec in (nasty, bare, untyped):
        write_spec(root / "specs", spec)
    package = load_package(root / "specs", Options())
    problems = (
        Problem("fal-ai/broken.json", "#/components/schemas/X", "no Input: skipped", "skipped"),
        Problem("fal-ai/odd.json", "#/paths", "empty Output: typed as JSON <b>", "degraded"),
    )
    package = dataclasses.replace(package, problems=problems)
    units = plan_package(package)
    models = model_modules(package, {unit.models for unit in units if unit.models is not None})
    for unit in units:
        if unit.path == "mkdocs.yml" or unit.path.startswith("docs/"):
            path = root / "out" / unit.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(unit.render(models), encoding="utf-8")
    built = build_site(root / "out", root / "site")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "WARNING" not in built.stdout + built.stderr, built.stdout + built.stderr
    return root / "site"


def test_spec_text_is_escaped_in_field_blocks_and_prose(fixture_site: Path) -> None:
    path = fixture_site / "endpoints" / "nasty_docs" / "index.html"
    page = parse_page(path)
    fields = page.definitions["parameters"]
    assert fields[0] == ("prompt · string · required", [NASTY])
    html = path.read_text(encoding="utf-8")
    assert "<b>html</b>" not in html and '<h1 id="not-a-heading"' not in html
    assert "# Not a heading" in html and "- not a list" in html
    # A description starting with a colon stays text, not a nested definition.
    assert fields[4][1][0] == ": not a definition"


def test_a_field_block_shows_its_facts(fixture_site: Path) -> None:
    fields = parse_page(fixture_site / "endpoints" / "nasty_docs" / "index.html").definitions
    _, mode, steps, image_url, from_ = fields["parameters"]
    assert mode == ("mode · enum", ["Possible values: a|b, c`d, 16:9", 'Default: "a|b"'])
    assert steps == ("steps · integer", ["Constraints: 1 <= value <= 8", "Default: 4"])
    assert image_url[1][-1] == (
        "A URL; the Python client and the command line also take a local file."
    )
    assert from_[1][-1] == "Python keyword: from_"


def test_catalogue_metadata_titles_marks_and_indexes_the_page(fixture_site: Path) -> None:
    path = fixture_site / "endpoints" / "nasty_docs" / "index.html"
    html = path.read_text(encoding="utf-8")
    assert '<h1 id="nasty-docs-v2">Nasty [docs] *v2*<a' in html
    assert 'class="admonition-title">Deprecated</p>' in html
    assert "This endpoint may stop working: fal lists it as deprecated." in html
    rows = {row[0]: row for row in parse_page(path).tables[0]}
    assert rows["Tags"][1] == "a|b, lora"
    index = parse_page(fixture_site / "index.html")
    catalogue = {row[0]: row[1] for table in index.tables for row in table[1:]}
    assert catalogue["Nasty [docs] *v2*fal-ai/nasty-docs"] == (
        "Deprecated. # Not a heading"  # the first sentence of fal's description
    )


def test_an_endpoint_without_description_gets_a_summary_from_its_schemas(
    fixture_site: Path,
) -> None:
    index = parse_page(fixture_site / "index.html")
    catalogue = {row[0]: row[1] for table in index.tables for row in table[1:]}
    assert catalogue["fal-ai/bare"] == "An endpoint: send text (and 1 optional field), get seed."
    assert "other" in index.ids  # no category


def test_an_untyped_output_is_documented_as_untyped(fixture_site: Path) -> None:
    page = parse_page(fixture_site / "endpoints" / "untyped" / "index.html")
    assert "output" not in page.definitions  # no fields to list
    html = (fixture_site / "endpoints" / "untyped" / "index.html").read_text(encoding="utf-8")
    assert "Untyped: the endpoint's document does not describe its output." in html
    index = parse_page(fixture_site / "index.html")
    catalogue = {row[0]: row[1] for table in index.tables for row in table[1:]}
    assert catalogue["fal-ai/untyped"] == (
        "A text-to-image endpoint: send up to 1 optional field, get its untyped JSON output."
    )


def test_an_incomplete_example_is_said_so_and_names_what_it_leaves_out(
    fixture_site: Path,
) -> None:
    html = (fixture_site / "endpoints" / "bare" / "index.html").read_text(encoding="utf-8")
    assert 'class="admonition-title">Incomplete example</p>' in html
    assert "no valid example for the required <code>text</code>" in html
    assert html.count("# text=...,  required: no valid example published") >= 4
    nasty = (fixture_site / "endpoints" / "nasty_docs" / "index.html").read_text(encoding="utf-8")
    assert "Incomplete example" not in nasty


def test_the_index_lists_problems_with_their_reasons(fixture_site: Path) -> None:
    problems = parse_page(fixture_site / "index.html").definitions["problems-found-in-the-specs"]
    assert problems == [
        ("fal-ai/broken.json", ["#/components/schemas/X: no Input: skipped"]),
        ("fal-ai/odd.json", ["#/paths: empty Output: typed as JSON <b>"]),
    ]


def test_the_package_readme_links_only_to_its_own_files() -> None:
    """No placeholder or invented URLs: a link in the README names a file of the package."""
    readme = (GENERATED / "README.md").read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)\s]*)\)", readme):
        assert (GENERATED / target).is_file(), target
    assert not re.search(r"https?://", readme)


def test_examples_import_shared_models_from_the_endpoint_module() -> None:
    """The shared module is private: an endpoint module re-exports the shared models it uses,
    and that is where a page's example imports them from."""
    from generator.docs import _Links
    from generator.ir import ModelRef

    links = _Links("fal_models", "flux_1_schnell")
    assert links.import_line(ModelRef("ImageSize", shared=True)) == (
        "from fal_models.endpoints.flux_1_schnell import ImageSize"
    )
    assert links.import_line(ModelRef("Flux1SchnellInput", shared=False)) == (
        "from fal_models.endpoints.flux_1_schnell import Flux1SchnellInput"
    )
