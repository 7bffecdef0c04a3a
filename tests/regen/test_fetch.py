"""``falgen fetch`` against a scripted local server: retries, failures, safe writes."""

from __future__ import annotations

import argparse
import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest

from generator import fetch
from generator.fetch import SpecFetcher, Status, refresh_spec
from generator.remote import Hosts, RetryPolicy, parse_retry_after, resolve_hosts
from generator.specfile import normalise
from tests.regen.support import (
    BASE_ID,
    OPENAPI_PATH,
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


def _run(argv: list[str], fetcher: SpecFetcher | None = None) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="falgen")
    fetch.add_command(parser.add_subparsers())
    args = parser.parse_args(["fetch", *argv])
    assert args.handler is fetch.run
    out, err = io.StringIO(), io.StringIO()
    code = fetch.run(args, stdout=out, stderr=err, fetcher=fetcher)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------------------------
# Happy paths
# --------------------------------------------------------------------------------------------


def test_fetch_adds_a_normalised_spec(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.ADDED
    target = specs_dir / "acme" / "widget.json"
    assert result.path == target
    assert target.read_text(encoding="utf-8") == normalise(base_spec())
    [catalog, seen] = spec_server.requests
    assert catalog.path == "/v1/models"
    assert seen.path == OPENAPI_PATH
    assert seen.endpoint_id == BASE_ID
    assert seen.headers["User-Agent"].startswith("falgen/")


def test_fetch_again_reports_unchanged_and_does_not_rewrite(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    refresh_spec(fetcher, specs_dir, BASE_ID)
    target = specs_dir / "acme" / "widget.json"
    before = target.stat().st_mtime_ns
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.UNCHANGED
    assert target.stat().st_mtime_ns == before


def test_fetch_updates_a_spec_that_changed_between_calls(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    changed = edited(lambda doc: prop(doc, "WidgetInput", "num_images").update(maximum=8))
    spec_server.script(BASE_ID, Reply.json(base_spec()), Reply.json(changed))
    assert refresh_spec(fetcher, specs_dir, BASE_ID).status is Status.ADDED
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.UPDATED
    assert "1 addition" in result.message
    saved = json.loads((specs_dir / "acme" / "widget.json").read_text(encoding="utf-8"))
    assert prop(saved, "WidgetInput", "num_images")["maximum"] == 8


def test_fetch_keeps_our_annotations_from_the_spec_it_replaces(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    def annotate(doc: dict[str, object]) -> None:
        doc["info"]["x-falgen-capabilities"] = ["streaming"]  # type: ignore[index]
        doc["info"]["x-falgen-summary"] = "Makes widgets."  # type: ignore[index]
        prop(doc, "WidgetOutput", "timings")["x-falgen-note"] = "type not shown on the page"
        prop(doc, "WidgetInput", "sync_mode")["x-falgen-note"] = "field gone upstream"

    write_spec(specs_dir, edited(annotate))
    upstream = edited(lambda doc: schemas(doc)["WidgetInput"]["properties"].pop("sync_mode"))
    upstream["components"]["schemas"]["WidgetInput"]["x-fal-order-properties"].remove("sync_mode")
    spec_server.script(BASE_ID, Reply.json(upstream))

    result = refresh_spec(fetcher, specs_dir, BASE_ID)

    assert result.status is Status.UPDATED
    saved = json.loads((specs_dir / "acme" / "widget.json").read_text(encoding="utf-8"))
    assert saved["info"]["x-falgen-capabilities"] == ["streaming"]
    assert saved["info"]["x-falgen-summary"] == "Makes widgets."
    assert prop(saved, "WidgetOutput", "timings")["x-falgen-note"] == "type not shown on the page"
    assert "sync_mode" not in schemas(saved)["WidgetInput"]["properties"]
    assert result.warnings == (
        "could not keep the x-falgen annotation at "
        "#/components/schemas/WidgetInput/properties/sync_mode: that place no longer exists",
    )


def test_a_document_fal_publishes_again_is_no_longer_marked_unpublished(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    write_spec(specs_dir, edited(lambda doc: doc["info"].update({"x-falgen-unpublished": True})))
    spec_server.script(BASE_ID, Reply.json(base_spec()))

    assert refresh_spec(fetcher, specs_dir, BASE_ID).status is Status.UPDATED

    assert (specs_dir / "acme" / "widget.json").read_text("utf-8") == normalise(base_spec())


# --------------------------------------------------------------------------------------------
# Retries
# --------------------------------------------------------------------------------------------


def test_a_server_error_is_retried_with_backoff(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.script(
        BASE_ID,
        Reply.json({"detail": "boom"}, status=500),
        Reply.json({"detail": "boom"}, status=502),
        Reply.json(base_spec()),
    )
    assert refresh_spec(fetcher, specs_dir, BASE_ID).status is Status.ADDED
    assert spec_server.calls(BASE_ID) == 3
    assert sleeps.calls == [0.5, 1.0]


def test_rate_limiting_honours_retry_after(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.script(
        BASE_ID,
        Reply.json({"detail": "slow down"}, status=429, **{"Retry-After": "7"}),
        Reply.json(base_spec()),
    )
    assert refresh_spec(fetcher, specs_dir, BASE_ID).status is Status.ADDED
    assert sleeps.calls == [7.0]


def test_an_unreasonable_retry_after_fails_at_once(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.script(BASE_ID, Reply.json({}, status=429, **{"Retry-After": "3600"}))
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.FAILED
    assert "retry after 3600 s" in result.message
    assert sleeps.calls == []


def test_persistent_server_errors_give_up_after_bounded_attempts(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    spec_server.script(BASE_ID, Reply.json({"detail": "maintenance"}, status=503))
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.FAILED
    assert result.message == (
        "the catalogue does not list it; document URL: giving up after 5 attempts: "
        "HTTP 503: maintenance"
    )
    assert spec_server.calls(BASE_ID) == 5
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(initial_delay=1, multiplier=10, max_delay=30)
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [1, 10, 30, 30]


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=lambda: 1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=lambda: 1445412490.0) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_connection_failure_is_retried_then_reported(specs_dir: Path, sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = RetryPolicy(max_attempts=3)
    nowhere = f"http://127.0.0.1:{port}"
    client = SpecFetcher(Hosts(nowhere, nowhere), retry=policy, sleep=sleeps, read_timeout=2)
    result = refresh_spec(client, specs_dir, BASE_ID)
    assert result.status is Status.FAILED
    assert result.message.startswith("catalogue: giving up after 3 attempts: network error")
    assert "; document URL: giving up after 3 attempts: network error" in result.message
    assert sleeps.calls == [0.5, 1.0, 0.5, 1.0]  # the catalogue's retries, then the URL's


# --------------------------------------------------------------------------------------------
# Failures never replace a good spec
# --------------------------------------------------------------------------------------------

GOOD = "good spec, must survive"


@pytest.fixture
def good_spec(specs_dir: Path) -> Path:
    """An existing, valid spec whose bytes the test checks are left alone."""
    path = write_spec(specs_dir, edited(lambda doc: doc["info"].update(description=GOOD)))
    return path


def _broken(body: bytes, **kwargs: object) -> Reply:
    return Reply(200, body, {"Content-Type": "application/json"}, **kwargs)  # type: ignore[arg-type]


TRUNCATED = json.dumps(base_spec()).encode()


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        pytest.param(
            [Reply.json({"detail": "Invalid key"}, status=403)], "HTTP 403", id="403-not-retried"
        ),
        pytest.param(
            [_broken(TRUNCATED, cut_at=len(TRUNCATED) // 2)],
            "document URL: giving up after 5 attempts: network error",
            id="truncated-transfer",
        ),
        pytest.param(
            [_broken(TRUNCATED[: len(TRUNCATED) // 2])],
            "the server did not send valid JSON (truncated download?)",
            id="truncated-json",
        ),
        pytest.param(
            [Reply(200, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})],
            "the server did not send valid JSON: ",
            id="html",
        ),
        pytest.param(
            [Reply.json({"hello": "world"})],
            "the document is not a usable fal queue spec",
            id="not-openapi",
        ),
        pytest.param(
            [
                Reply.json(
                    {
                        "openapi": "3.0.4",
                        "info": {"title": "x"},
                        "paths": {},
                        "components": {"schemas": {}},
                    }
                )
            ],
            "missing the fal queue operation POST",
            id="openapi-but-not-fal-queue",
        ),
        pytest.param(
            [Reply.json(spec_for("acme/other"))],
            "does not match the file's place",
            id="document-for-another-endpoint",
        ),
        pytest.param(
            [Reply.json({"error": {"code": "expansion_failed", "message": "no schema"}})],
            "fal could not provide the document (expansion_failed: no schema)",
            id="fals-error-object",
        ),
        pytest.param(
            [Reply.json(edited(lambda doc: schemas(doc).update(WidgetInput={})))],
            "#/components/schemas/WidgetInput: is empty",
            id="unusable-input",
        ),
    ],
)
def test_a_failed_fetch_leaves_the_existing_spec_untouched(
    spec_server: SpecServer,
    fetcher: SpecFetcher,
    good_spec: Path,
    replies: list[Reply],
    expected: str,
) -> None:
    before = good_spec.read_bytes()
    spec_server.script(BASE_ID, *replies)
    result = refresh_spec(fetcher, good_spec.parents[1], BASE_ID)
    assert result.status is Status.FAILED
    assert expected in result.message
    assert good_spec.read_bytes() == before
    assert sorted(p.name for p in good_spec.parent.iterdir()) == ["widget.json"]


# --------------------------------------------------------------------------------------------
# Documents the generator works around are written, their flaws reported
# --------------------------------------------------------------------------------------------

# A tuple written as an object keyed by positions (fal-ai/whisper's chunks) under a property
# whose name holds a line break and an escape sequence: the warning stays one printable line.
HOSTILE = "span\n\x1b[2J"


def _positional_items(doc: dict[str, Any]) -> None:
    schemas(doc)["WidgetOutput"]["properties"][HOSTILE] = {
        "type": "array",
        "items": {"0": {"type": "number"}, "1": {"type": "number"}},
    }


@pytest.mark.parametrize(
    ("edit", "warning"),
    [
        pytest.param(
            _positional_items,
            "degraded: acme/widget.json: #/components/schemas/WidgetOutput/properties/"
            "span\\n\\x1b[2J/items: 'items' is an object keyed by positions; read as a tuple",
            id="positional-items",
        ),
        pytest.param(
            lambda doc: schemas(doc).update(WidgetOutput={}),
            "degraded: acme/widget.json: #/components/schemas/WidgetOutput: is empty; "
            "the output is untyped",
            id="empty-output",
        ),
    ],
)
def test_a_document_the_generator_works_around_is_written_with_its_flaws_as_warnings(
    spec_server: SpecServer,
    fetcher: SpecFetcher,
    good_spec: Path,
    edit: Any,
    warning: str,
) -> None:
    document = edited(edit)
    spec_server.script(BASE_ID, Reply.json(document))

    code, out, _ = _run([BASE_ID, "--specs", str(good_spec.parents[1])], fetcher)

    assert code == 0
    assert good_spec.read_text(encoding="utf-8") == normalise(document)
    lines = out.splitlines()
    assert lines[0].startswith(f"updated   {BASE_ID}")
    assert lines[1:] == [f"    warning: {warning}", "0 added, 1 updated, 0 unchanged, 0 failed"]
    assert "\x1b" not in out


def test_an_invalid_endpoint_id_fails_without_a_request(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    result = refresh_spec(fetcher, specs_dir, "../escape")
    assert result.status is Status.FAILED
    assert "invalid endpoint id" in result.message
    assert spec_server.requests == []


def test_a_document_that_is_too_large_is_refused(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "MAX_SPEC_BYTES", 1000)
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.FAILED
    assert "the answer is larger than 1000 bytes" in result.message


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_cli_reports_each_endpoint_and_fails_when_any_failed(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    spec_server.script("acme/gadget", Reply.json(spec_for("acme/gadget")))
    code, out, _ = _run(
        ["--specs", str(specs_dir), BASE_ID, "acme/gadget", "acme/missing"], fetcher
    )
    missing_url = fetcher.document_url("acme/missing")
    assert code == 1
    assert out.splitlines() == [
        "added     acme/widget",
        "added     acme/gadget",
        "failed    acme/missing: unknown endpoint (the catalogue does not list it; "
        f"HTTP 404 from {missing_url})",
        "2 added, 0 updated, 0 unchanged, 1 failed",
    ]


def test_cli_all_refreshes_every_existing_spec(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path
) -> None:
    write_spec(specs_dir, base_spec())
    write_spec(specs_dir, spec_for("acme/gadget/v2"), "acme/gadget/v2")
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    changed = edited(
        lambda doc: prop(doc, "WidgetInput", "prompt").update(description="New words."),
        spec_for("acme/gadget/v2"),
    )
    spec_server.script("acme/gadget/v2", Reply.json(changed))
    code, out, _ = _run(["--specs", str(specs_dir), "--all"], fetcher)
    assert code == 0
    assert out.splitlines() == [
        "updated   acme/gadget/v2 (1 documentation; run 'falgen diff' for details)",
        "unchanged acme/widget",
        "0 added, 1 updated, 1 unchanged, 0 failed",
    ]


def test_cli_without_ids_is_a_usage_error(specs_dir: Path) -> None:
    code, out, err = _run(["--specs", str(specs_dir)])
    assert (code, out) == (2, "")
    assert "give one or more ENDPOINT_IDs, --all or --category" in err


def test_cli_all_with_an_empty_folder_does_nothing(specs_dir: Path) -> None:
    code, out, _ = _run(["--specs", str(specs_dir), "--all"])
    assert (code, out) == (0, f"no specs in {specs_dir} to refresh\n")


def test_cli_uses_the_base_url_from_the_environment(
    spec_server: SpecServer, specs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALGEN_OPENAPI_BASE_URL", spec_server.base_url + "/")
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    code, out, _ = _run(["--specs", str(specs_dir), BASE_ID])
    assert code == 0, out
    assert spec_server.calls(BASE_ID) == 1


def test_base_url_option_beats_environment_beats_default() -> None:
    environment = {"FALGEN_OPENAPI_BASE_URL": "http://mirror.test:8080/"}
    mirror = "http://127.0.0.1:9"
    assert resolve_hosts(mirror, environment) == Hosts(mirror, mirror)
    assert resolve_hosts(None, environment) == Hosts(
        "http://mirror.test:8080", "http://mirror.test:8080"
    )
    assert resolve_hosts(None, {}) == Hosts("https://api.fal.ai", "https://fal.ai")
    with pytest.raises(ValueError, match="invalid base URL"):
        resolve_hosts("ftp://example.test", {})


def test_cli_rejects_a_bad_base_url(specs_dir: Path) -> None:
    code, _, err = _run(["--specs", str(specs_dir), "--base-url", "not a url", BASE_ID])
    assert code == 2
    assert "invalid base URL" in err


def test_a_redirect_loop_fails_without_retrying(
    spec_server: SpecServer, fetcher: SpecFetcher, specs_dir: Path, sleeps: Sleeps
) -> None:
    loop = Reply(302, b"", {"Location": fetcher.document_url(BASE_ID)})
    spec_server.script(BASE_ID, loop)
    result = refresh_spec(fetcher, specs_dir, BASE_ID)
    assert result.status is Status.FAILED
    assert result.message.startswith(
        "the catalogue does not list it; document URL: too many redirects"
    )
    assert sleeps.calls == []


def test_an_unwritable_specs_folder_is_reported(
    spec_server: SpecServer, fetcher: SpecFetcher, tmp_path: Path
) -> None:
    blocker = tmp_path / "specs"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    spec_server.script(BASE_ID, Reply.json(base_spec()))
    result = refresh_spec(fetcher, blocker, BASE_ID)
    assert result.status is Status.FAILED
    assert result.message.startswith("cannot update ")


def test_an_endpoint_fal_no_longer_publishes_keeps_its_spec(
    spec_server: SpecServer, fetcher: SpecFetcher, good_spec: Path
) -> None:
    """The catalogue does not list it and its document URL answers 404: kept, and said so."""
    before = good_spec.read_bytes()
    spec_server.script(BASE_ID, Reply.json({"detail": "Not Found"}, status=404))
    code, out, _ = _run(["--specs", str(good_spec.parents[1]), BASE_ID], fetcher)
    assert code == 0
    assert out.splitlines() == [
        "unpublished acme/widget (fal publishes it no longer: kept as it is)",
        "0 added, 0 updated, 0 unchanged, 0 failed, 1 unpublished",
    ]
    assert good_spec.read_bytes() == before


def test_a_404_for_an_endpoint_the_catalogue_lists_is_a_failure(
    spec_server: SpecServer, fetcher: SpecFetcher, good_spec: Path
) -> None:
    spec_server.catalog = [catalog_model(BASE_ID, {"error": {"message": "not expanded"}})]
    spec_server.script(BASE_ID, Reply.json({"detail": "Not Found"}, status=404))
    result = refresh_spec(fetcher, good_spec.parents[1], BASE_ID)
    assert result.status is Status.FAILED
    assert result.message.startswith("unknown endpoint (the catalogue has no document: ")
