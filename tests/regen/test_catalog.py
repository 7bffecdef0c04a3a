"""``falgen fetch`` through fal's model catalogue (the Platform API's ``/v1/models``), the
fallback to each endpoint's document URL, ``falgen search``, deadlines against a real slow
loopback server, and overlays kept across fetches."""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator import catalog, fetch
from generator.cli import main
from generator.fetch import SpecFetcher, Status, refresh_category, refresh_specs
from generator.remote import Hosts, RetryPolicy
from tests.regen.support import (
    BASE_ID,
    Reply,
    Sleeps,
    SpecServer,
    base_spec,
    catalog_model,
    edited,
    prop,
    schemas,
    spec_for,
    write_spec,
)


def saved(specs_dir: Path, endpoint_id: str = BASE_ID) -> dict[str, Any]:
    path = specs_dir.joinpath(*endpoint_id.split("/")).with_suffix(".json")
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def run_command(argv: list[str], module: Any = fetch, **kwargs: Any) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="falgen")
    module.add_command(parser.add_subparsers())
    args = parser.parse_args([argv[0], *argv[1:]])
    out, err = io.StringIO(), io.StringIO()
    code = module.run(args, stdout=out, stderr=err, **kwargs)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------------------------
# Documents and metadata from the catalogue
# --------------------------------------------------------------------------------------------


def test_a_stored_answer_is_written_as_fetch_writes_it(
    spec_server: SpecServer, fetcher: SpecFetcher, tmp_path: Path
) -> None:
    """write_catalog_answer (for tests and benchmarks over a stored catalogue) writes each spec
    byte for byte as fetching the same answer does; fal's error object as it is."""
    error = {"error": {"code": "expansion_failed", "message": "no schema"}}
    models = [
        catalog_model(BASE_ID, display_name="Widget", tags=["fast"], updated_at="2026-02-03"),
        catalog_model("acme/gadget"),
        catalog_model("acme/broken", error),
    ]
    spec_server.catalog = models
    fetched, stored = tmp_path / "fetched", tmp_path / "stored"

    results = refresh_specs(fetcher, fetched, [BASE_ID, "acme/gadget", "acme/broken"])
    ids = fetch.write_catalog_answer({"models": models}, stored)

    assert [result.status for result in results] == [Status.ADDED, Status.ADDED, Status.FAILED]
    assert ids == [BASE_ID, "acme/gadget", "acme/broken"]
    for endpoint_id in ids[:2]:
        path = f"{endpoint_id}.json"
        assert (stored / path).read_bytes() == (fetched / path).read_bytes()
    assert json.loads((stored / "acme/broken.json").read_bytes()) == error


def test_documents_come_from_the_catalogue_with_their_stable_metadata(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.catalog = [
        catalog_model(BASE_ID, display_name="Widget", tags=["fast"], license_type="commercial"),
        catalog_model("acme/gadget"),
    ]
    results = refresh_specs(fetcher, specs_dir, [BASE_ID, "acme/gadget"])
    assert [result.status for result in results] == [Status.ADDED, Status.ADDED]
    [query] = spec_server.catalog_calls()  # both ids in one request, documents expanded
    assert query["endpoint_id"] == [BASE_ID, "acme/gadget"]
    assert query["expand"] == ["openapi-3.0"]
    assert spec_server.calls(BASE_ID) == 0  # no per-endpoint download
    info = saved(specs_dir)["info"]
    assert info["x-fal-catalog"] == {
        "display_name": "Widget",
        "category": "text-to-image",
        "description": "The acme/widget model.",
        "status": "active",
        "tags": ["fast"],
        "license_type": "commercial",
    }
    assert saved(specs_dir)["components"] == base_spec()["components"]


def test_a_refresh_that_only_changes_volatile_metadata_changes_no_byte(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.catalog = [catalog_model(BASE_ID)]
    refresh_specs(fetcher, specs_dir, [BASE_ID])
    before = (specs_dir / "acme" / "widget.json").read_bytes()
    spec_server.catalog = [
        catalog_model(BASE_ID, updated_at="2026-02-02T00:00:00Z", highlighted=True, pinned=True)
    ]
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.UNCHANGED
    assert (specs_dir / "acme" / "widget.json").read_bytes() == before


def test_ids_are_asked_for_fifty_at_a_time_and_pages_are_followed(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    ids = [f"acme/widget-{n:02}" for n in range(53)]
    spec_server.catalog = [catalog_model(endpoint_id) for endpoint_id in ids]
    spec_server.page_size = 20
    results = refresh_specs(fetcher, specs_dir, ids)
    assert {result.status for result in results} == {Status.ADDED}
    calls = spec_server.catalog_calls()
    assert [len(call["endpoint_id"]) for call in calls] == [50, 50, 50, 3]
    assert [call.get("cursor") for call in calls] == [None, ["20"], ["40"], None]
    assert sum(spec_server.calls(endpoint_id) for endpoint_id in ids) == 0


def test_an_error_object_falls_back_to_the_document_url_keeping_the_metadata(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    failed = {"error": {"code": "expansion_failed", "message": "Failed to fetch OpenAPI schema"}}
    spec_server.catalog = [catalog_model(BASE_ID, failed, display_name="Widget")]
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.ADDED
    assert spec_server.calls(BASE_ID) == 1
    assert saved(specs_dir)["info"]["x-fal-catalog"]["display_name"] == "Widget"


def test_without_a_catalogue_entry_the_old_metadata_is_carried_over(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.catalog = [catalog_model(BASE_ID, status="deprecated")]
    refresh_specs(fetcher, specs_dir, [BASE_ID])
    spec_server.catalog = []
    spec_server.script(BASE_ID, Reply.json(edited(lambda doc: doc["info"].update(version="2"))))
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.UPDATED
    info = saved(specs_dir)["info"]
    assert info["version"] == "2"
    assert info["x-fal-catalog"]["status"] == "deprecated"


def test_an_unreachable_catalogue_is_retried_then_the_document_url_is_used(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.catalog_replies = [Reply.json({"error": {"message": "down"}}, status=503)]
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.ADDED
    assert len(spec_server.catalog_calls()) == 5
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (b"[]", "the catalogue's answer has no list of models"),
        (b'{"models": [{"metadata": {}}]}', "a model without an endpoint_id"),
        (b'{"models": [], "has_more": true}', "says there is more but gives no cursor"),
        (b'{"models": NaN}', "the catalogue's answer is not valid JSON"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_malformed_catalogue_answer_is_reported_with_the_fallback(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, answer: bytes, expected: str
) -> None:
    spec_server.catalog_replies = [Reply(200, answer, {"Content-Type": "application/json"})]
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.FAILED
    assert result.message.startswith("unknown endpoint (catalogue: ")
    assert expected in result.message


def test_a_catalogue_page_that_repeats_its_cursor_ends(
    spec_server: SpecServer, fetcher: SpecFetcher
) -> None:
    spec_server.catalog_replies = [
        Reply.json({"models": [], "next_cursor": "again", "has_more": True})
    ]
    with pytest.raises(fetch.FetchError, match="repeated a page cursor"):
        fetcher.fetch_category("text-to-image")


def test_a_catalogue_page_over_the_size_limit_is_refused(
    spec_server: SpecServer, fetcher: SpecFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catalog, "MAX_PAGE_BYTES", 500)
    spec_server.catalog = [catalog_model(BASE_ID)]
    with pytest.raises(fetch.FetchError, match="larger than 500 bytes"):
        fetcher.fetch_category("text-to-image")


def test_a_whole_category_is_fetched(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    no_document = {"error": {"code": "expansion_failed", "message": "not available"}}
    spec_server.catalog = [
        catalog_model(BASE_ID),
        catalog_model("acme/gadget", no_document),
        catalog_model("acme/speaker", category="text-to-speech"),
    ]
    spec_server.script("acme/gadget", Reply.json(spec_for("acme/gadget")))
    code, out, _ = run_command(
        ["fetch", "--specs", str(specs_dir), "--category", "text-to-image"], fetcher=fetcher
    )
    assert code == 0, out
    assert out.splitlines() == [
        "added     acme/gadget",
        "added     acme/widget",
        "2 added, 0 updated, 0 unchanged, 0 failed",
    ]
    assert not (specs_dir / "acme" / "speaker.json").exists()
    assert spec_server.catalog_calls()[0]["category"] == ["text-to-image"]


# --------------------------------------------------------------------------------------------
# falgen search
# --------------------------------------------------------------------------------------------


def test_search_prints_id_name_category_status(spec_server: SpecServer) -> None:
    spec_server.catalog = [
        catalog_model("fal-ai/flux/dev", display_name="FLUX.1 [dev]"),
        catalog_model("fal-ai/flux-pro", display_name="FLUX Pro", status="deprecated"),
        catalog_model("fal-ai/recraft", display_name="Recraft"),
    ]
    code, out, _ = run_command(
        ["search", "flux", "--base-url", spec_server.base_url], module=catalog
    )
    assert code == 0
    assert out.splitlines() == [
        "fal-ai/flux/dev  FLUX.1 [dev]  text-to-image  active",
        "fal-ai/flux-pro  FLUX Pro      text-to-image  deprecated",
    ]
    [query] = spec_server.catalog_calls()
    assert query["q"] == ["flux"]
    assert "expand" not in query  # no documents needed to list models


def test_search_output_is_terminal_safe(spec_server: SpecServer) -> None:
    spec_server.catalog = [
        catalog_model("fal-ai/evil", display_name="\x1b]0;pwned\x07Evil\u202eecod", tags=[])
    ]
    code, out, _ = run_command(
        ["search", "evil", "--base-url", spec_server.base_url], module=catalog
    )
    assert code == 0
    assert out == "fal-ai/evil  \\x1b]0;pwned\\x07Evil\\u202eecod  text-to-image  active\n"


def test_search_filters_and_limits(spec_server: SpecServer) -> None:
    spec_server.catalog = [catalog_model(f"acme/m{n}") for n in range(5)]
    spec_server.page_size = 2
    code, out, _ = run_command(
        ["search", "--category", "text-to-image", "--status", "active", "--limit", "3",
         "--base-url", spec_server.base_url],
        module=catalog,
    )  # fmt: skip
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["acme/m0", "acme/m1", "acme/m2"]
    assert spec_server.catalog_calls()[0]["status"] == ["active"]


def test_search_reports_an_unreachable_catalogue(spec_server: SpecServer) -> None:
    spec_server.catalog_replies = [Reply.json({"error": {"message": "no\x1b[2J"}}, status=400)]
    code, out, err = run_command(
        ["search", "x", "--base-url", spec_server.base_url], module=catalog
    )
    assert (code, out) == (1, "")
    assert err.startswith("falgen search: HTTP 400 from ")
    assert err.endswith(": no\\x1b[2J\n")


def test_search_needs_something_to_search_for() -> None:
    code, _, err = run_command(["search"], module=catalog)
    assert code == 2
    assert "give a QUERY, a --category, or both" in err


def test_the_falgen_command_lists_search(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "search" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Deadlines against a real slow server
# --------------------------------------------------------------------------------------------


class TrickleServer:
    """Answers every request with headers, then one body byte every ``interval`` seconds:
    never idle long enough for a read timeout."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            try:
                connection.recv(65536)
                connection.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 100000\r\n\r\n"
                )
                while not self.stop.wait(self.interval):
                    connection.sendall(b" ")
            except OSError:
                return

    def __enter__(self) -> TrickleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def trickle() -> Iterator[TrickleServer]:
    with TrickleServer() as server:
        yield server


def test_a_trickling_mirror_is_cut_off_by_the_document_deadline(
    trickle: TrickleServer, specs_dir: Path
) -> None:
    hosts = Hosts(trickle.base_url, trickle.base_url)
    client = SpecFetcher(hosts, read_timeout=5, document_seconds=0.6, run_seconds=30)
    started = time.monotonic()
    [result] = refresh_specs(client, specs_dir, [BASE_ID])
    elapsed = time.monotonic() - started
    assert result.status is Status.FAILED
    # The catalogue page and the document each end at their deadline, not at a read timeout.
    assert result.message.count("within 0.6 s") == 2, result.message
    assert elapsed < 3.0


def test_the_run_deadline_bounds_many_documents(trickle: TrickleServer, specs_dir: Path) -> None:
    hosts = Hosts(trickle.base_url, trickle.base_url)
    client = SpecFetcher(hosts, read_timeout=5, document_seconds=10, run_seconds=1.0)
    ids = [f"acme/widget-{n}" for n in range(5)]
    started = time.monotonic()
    results = refresh_specs(client, specs_dir, ids)
    assert time.monotonic() - started < 3.0
    assert {result.status for result in results} == {Status.FAILED}
    assert all("within 1 s" in result.message for result in results)


def test_retry_pauses_do_not_outlast_the_deadline(
    spec_server: SpecServer, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.catalog_replies = [Reply.json({}, status=503)]
    spec_server.script(BASE_ID, Reply.json({}, status=503))
    hosts = Hosts(spec_server.base_url, spec_server.base_url)
    policy = RetryPolicy(initial_delay=10)
    client = SpecFetcher(hosts, retry=policy, sleep=sleeps, document_seconds=5)
    [result] = refresh_specs(client, specs_dir, [BASE_ID])
    assert result.status is Status.FAILED
    assert sleeps.calls == []
    assert "within 5 s (last problem: HTTP 503)" in result.message


# --------------------------------------------------------------------------------------------
# Overlays across fetches
# --------------------------------------------------------------------------------------------

RESTORE_OUTPUT = """overlay: 1.0.0
info: {title: restore the output, version: 1.0.0}
actions:
  - target: $.components.schemas.WidgetOutput
    update:
      type: object
      properties:
        seed: {type: integer, title: Seed}
      required: [seed]
"""


def _empty_output(document: dict[str, Any]) -> None:
    schemas(document)["WidgetOutput"] = {}


def test_a_document_that_needs_its_overlay_is_fetched_and_the_overlay_kept(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    overlay = specs_dir / "acme" / "widget.overlay.yaml"
    overlay.parent.mkdir(parents=True)
    overlay.write_text(RESTORE_OUTPUT, encoding="utf-8")
    spec_server.catalog = [catalog_model(BASE_ID, edited(_empty_output))]
    [result] = refresh_specs(fetcher, specs_dir, [BASE_ID])
    assert result.status is Status.ADDED, result.message
    assert schemas(saved(specs_dir))["WidgetOutput"] == {}  # the document stays fal's own
    assert overlay.read_text(encoding="utf-8") == RESTORE_OUTPUT
    assert (
        main(["generate", "--specs", str(specs_dir), "--out", str(specs_dir.parent / "out")]) == 0
    )


def test_an_overlay_that_no_longer_applies_is_reported(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    write_spec(specs_dir, base_spec())
    (specs_dir / "acme" / "widget.overlay.yaml").write_text(
        RESTORE_OUTPUT.replace("WidgetOutput", "WidgetResult"), encoding="utf-8"
    )

    def reworded(document: dict[str, Any]) -> None:
        prop(document, "WidgetInput", "prompt")["description"] = "Words."

    spec_server.catalog = [catalog_model(BASE_ID, edited(reworded))]
    code, out, _ = run_command(["fetch", "--specs", str(specs_dir), BASE_ID], fetcher=fetcher)
    assert code == 1
    assert out.splitlines()[:2] == [
        "updated   acme/widget",  # no impact summary: the spec no longer loads as it is
        "    overlay: acme/widget.overlay.yaml: #/actions/0/target: "
        "$.components.schemas.WidgetResult selects nothing in acme/widget.json: "
        "update the overlay or remove the action",
    ]
    assert prop(saved(specs_dir), "WidgetInput", "prompt")["description"] == "Words."


def test_a_category_that_cannot_be_listed_fails(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.catalog_replies = [Reply.json({"error": {"message": "unknown"}}, status=400)]
    with pytest.raises(fetch.FetchError, match="HTTP 400"):
        refresh_category(fetcher, specs_dir, "nope")
    code, _, err = run_command(
        ["fetch", "--specs", str(specs_dir), "--category", "nope"], fetcher=fetcher
    )
    assert code == 1
    assert err.startswith("falgen fetch: category nope: HTTP 400 from ")
