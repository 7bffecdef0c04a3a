"""The model catalogue (fal's Platform API ``GET /v1/models``) served from the specs: find,
search, filters, pagination, expansion and errors, in fal's shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from generator.catalog import stable_metadata
from generator.loader import SpecDocument
from generator.schema import CATALOG_KEY
from generator.server import Faults, ServerConfig, ServerURLs, running_server
from generator.server.catalog import load_served_specs
from generator.server.model_search import MAX_LIMIT, UNKNOWN_DATE
from tests.server.conftest import RealCatalogue
from tests.server.support import AUTH, KEY, SPECS_DIR, build_spec

# The fields fal's published schema requires of every model's metadata.
REQUIRED_METADATA = {
    "display_name",
    "category",
    "description",
    "status",
    "tags",
    "updated_at",
    "is_favorited",
    "thumbnail_url",
    "model_url",
    "date",
    "highlighted",
    "pinned",
}
FLUX_CATALOG = {
    "display_name": "FLUX.1 [schnell]",
    "category": "text-to-image",
    "description": "Fast images from text, in 1 to 4 steps",
    "status": "active",
    "tags": ["fast", "open"],
    "updated_at": "2026-01-02T03:04:05Z",
    "license_type": "commercial",
}


def catalogued(endpoint_id: str, **catalog: Any) -> SpecDocument:
    out = {"seed": {"type": "integer"}}
    return build_spec(endpoint_id, {"prompt": {"type": "string"}}, out, info={CATALOG_KEY: catalog})


@pytest.fixture(scope="module")
def catalogue() -> Iterator[ServerURLs]:
    specs = [
        catalogued("fal-ai/flux-1/schnell", **FLUX_CATALOG),
        catalogued(
            "fal-ai/old-flux",
            display_name="Old Flux",
            category="text-to-image",
            description="Superseded",
            status="deprecated",
        ),
        catalogued("fal-ai/whisper", display_name="Whisper", category="speech-to-text"),
        catalogued("fal-ai/kling/video", category="text-to-video", description="Moving pictures"),
        # No catalogue entry at all: everything falls back.
        build_spec("owner/bare", {}, {"out": {"type": "string"}}, info={"x-falgen-summary": "Hi"}),
    ]
    config = ServerConfig(accepted_keys=frozenset({KEY}))
    with running_server(specs, config) as urls:
        yield urls


def get(urls: ServerURLs, **params: Any) -> httpx.Response:
    return httpx.get(urls.models, params=params, timeout=10)


def ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [model["endpoint_id"] for model in answer.json()["models"]]


def test_list_mode_answers_in_fals_shape(catalogue: ServerURLs) -> None:
    answer = get(catalogue)

    body = answer.json()
    assert set(body) == {"models", "next_cursor", "has_more"}
    assert (body["next_cursor"], body["has_more"]) == (None, False)
    assert ids(answer) == sorted(ids(answer)) and len(body["models"]) == 5
    for model in body["models"]:
        assert set(model) == {"endpoint_id", "metadata"}  # no openapi unless expanded
        assert set(model["metadata"]) >= REQUIRED_METADATA


def test_metadata_is_the_specs_catalogue_entry_with_fallbacks(catalogue: ServerURLs) -> None:
    models = {model["endpoint_id"]: model["metadata"] for model in get(catalogue).json()["models"]}

    flux = models["fal-ai/flux-1/schnell"]
    assert {key: flux[key] for key in FLUX_CATALOG} == FLUX_CATALOG  # extra fields kept too
    bare = models["owner/bare"]
    assert bare == {
        "display_name": "owner/bare",
        "category": "",
        "description": "Hi",  # x-falgen-summary
        "status": "active",
        "tags": [],
        "updated_at": UNKNOWN_DATE,
        "is_favorited": None,
        "thumbnail_url": "",
        "model_url": "https://fal.run/owner/bare",
        "date": UNKNOWN_DATE,
        "highlighted": False,
        "pinned": False,
    }


def test_find_mode_returns_the_named_endpoints_in_the_order_asked(catalogue: ServerURLs) -> None:
    found = get(catalogue, endpoint_id=["fal-ai/whisper", "nobody/none", "fal-ai/flux-1/schnell"])
    none = get(catalogue, endpoint_id=["nobody/none"])
    too_many = get(catalogue, endpoint_id=[f"owner/app-{n}" for n in range(51)])

    assert ids(found) == ["fal-ai/whisper", "fal-ai/flux-1/schnell"]
    assert none.status_code == 404
    assert none.json()["error"]["type"] == "not_found"
    assert too_many.status_code == 400
    assert too_many.json()["error"]["type"] == "validation_error"


def test_search_by_words_category_and_status(catalogue: ServerURLs) -> None:
    assert ids(get(catalogue, q="FLUX fast")) == ["fal-ai/flux-1/schnell"]  # every word, any case
    assert ids(get(catalogue, q="moving")) == ["fal-ai/kling/video"]  # in the description
    assert ids(get(catalogue, q="speech")) == ["fal-ai/whisper"]  # in the category
    assert ids(get(catalogue, category="text-to-image")) == [
        "fal-ai/flux-1/schnell",
        "fal-ai/old-flux",
    ]
    assert ids(get(catalogue, category="text-to-image", status="deprecated")) == ["fal-ai/old-flux"]
    assert ids(get(catalogue, q="flux", endpoint_id="fal-ai/old-flux")) == ["fal-ai/old-flux"]
    assert ids(get(catalogue, q="nothing like it")) == []
    bad_status = get(catalogue, status="retired")
    assert bad_status.status_code == 400
    assert set(bad_status.json()) == {"error"}
    assert set(bad_status.json()["error"]) == {"type", "message"}


def test_pages_follow_the_cursor(catalogue: ServerURLs) -> None:
    pages, cursor = [], None
    while True:
        body = get(catalogue, limit=2, **({"cursor": cursor} if cursor else {})).json()
        pages.append([model["endpoint_id"] for model in body["models"]])
        cursor = body["next_cursor"]
        assert body["has_more"] == (cursor is not None)
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [name for page in pages for name in page] == ids(get(catalogue))
    first = get(catalogue, limit=2).json()
    assert first["next_cursor"] == base64.b64encode(b"2").decode()  # the page number, as fal's


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": "many"}, {"cursor": "not a cursor"}, {"cursor": "MA=="}],
    ids=["limit-0", "limit-text", "cursor-garbage", "cursor-page-0"],
)
def test_invalid_pagination_is_a_validation_error(
    catalogue: ServerURLs, params: dict[str, Any]
) -> None:
    answer = get(catalogue, **params)

    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "validation_error"


def test_expand_puts_the_document_in_openapi(catalogue: ServerURLs) -> None:
    answer = get(catalogue, endpoint_id="fal-ai/flux-1/schnell", expand="openapi-3.0")
    enterprise = get(catalogue, endpoint_id="fal-ai/whisper", expand="enterprise_status")
    unknown = get(catalogue, expand="pricing")

    (model,) = answer.json()["models"]
    assert model["openapi"]["openapi"] == "3.0.4"
    assert model["openapi"]["paths"]  # the whole document
    assert CATALOG_KEY not in model["openapi"]["info"]  # that is the metadata, as on fal
    assert enterprise.json()["models"][0]["enterprise_status"]["error"]["code"]
    assert unknown.status_code == 400


def test_the_key_is_optional_but_checked_when_sent(catalogue: ServerURLs) -> None:
    with_key = httpx.get(catalogue.models, headers=AUTH, timeout=10)
    wrong_key = httpx.get(catalogue.models, headers={"Authorization": "Key wrong"}, timeout=10)

    assert with_key.status_code == 200
    assert wrong_key.status_code == 401
    assert wrong_key.json()["error"]["type"] == "authorization_error"


def test_unknown_platform_paths_and_faults_answer_in_the_platform_shape(
    specs: list[SpecDocument],
) -> None:
    faults = Faults(rate_limit_rate=1.0, retry_after=3, routes=frozenset({"models"}))
    with running_server(specs, ServerConfig(faults=faults)) as urls:
        limited = httpx.get(urls.models, timeout=10)
        missing = httpx.get(urls.api + "/v1/nothing", timeout=10)

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "3"
    assert limited.json() == {"error": {"type": "rate_limited", "message": "Rate limit exceeded"}}
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found"


def test_the_root_api_host_serves_the_catalogue_like_api_fal_ai(
    specs: list[SpecDocument],
) -> None:
    with running_server(specs, ServerConfig(root_host="api")) as urls:
        answer = httpx.get(urls.base + "/v1/models", params={"limit": 1}, timeout=10)

    assert answer.status_code == 200 and len(answer.json()["models"]) == 1


def test_a_document_is_expanded_as_published_without_overlay_or_repairs(
    server: ServerURLs,
) -> None:
    """hidream-i1-full is served with its overlay (its Output restored), and listed with fal's
    document as its file holds it (the Output empty), without the metadata, as fal answers."""
    endpoint_id = "fal-ai/hidream-i1-full"
    published = json.loads((SPECS_DIR / f"{endpoint_id}.json").read_bytes())
    assert published["components"]["schemas"]["HidreamI1FullOutput"] == {}
    metadata = published["info"].pop(CATALOG_KEY)

    answer = httpx.get(
        server.models, params={"endpoint_id": endpoint_id, "expand": "openapi-3.0"}, timeout=10
    )

    [model] = answer.json()["models"]
    assert model["openapi"] == published
    assert {key: model["metadata"][key] for key in metadata} == metadata


def test_an_endpoint_fal_publishes_no_longer_is_served_but_not_listed() -> None:
    specs = [
        catalogued("fal-ai/flux-1/schnell", **FLUX_CATALOG),
        build_spec(
            "fal-ai/gone",
            {"prompt": {"type": "string"}},
            {"seed": {"type": "integer"}},
            info={"x-falgen-unpublished": True},
        ),
    ]
    with running_server(specs, ServerConfig()) as urls:
        listed = get(urls)
        found = get(urls, endpoint_id=["fal-ai/gone"])
        run = httpx.post(f"{urls.run}/fal-ai/gone", json={"prompt": "x"}, headers=AUTH)

    assert ids(listed) == ["fal-ai/flux-1/schnell"]
    assert found.status_code == 404
    assert run.status_code == 200 and isinstance(run.json()["seed"], int)


def kept(model: dict[str, Any]) -> dict[str, Any]:
    """A catalogue model as falgen fetch keeps it: its document, and its stable metadata."""
    return {**model, "metadata": stable_metadata(model["metadata"])}


def test_the_real_catalogue_round_trips_as_fetch_keeps_it(real_catalogue: RealCatalogue) -> None:
    """Served from the specs that fal's answers became (as falgen fetch writes them), each
    category reads as fal answered it: the same documents (documents the loader refuses
    included) and the metadata fetch keeps, and fal's error object where fal had no document."""
    by_category, urls = real_catalogue.by_category, real_catalogue.urls
    for category, models in by_category.items():
        served: list[dict[str, Any]] = []
        params: dict[str, Any] = {"category": category, "expand": "openapi-3.0", "limit": 1000}
        while True:
            body = httpx.get(urls.models, params=params, timeout=30).json()
            assert len(body["models"]) <= MAX_LIMIT
            served += body["models"]
            if not body["has_more"]:
                break
            params["cursor"] = body["next_cursor"]
        # Where fal gave an error object, no document holds the metadata (the next test).
        expected = {
            model["endpoint_id"]: kept(model) for model in models if "info" in model["openapi"]
        }
        assert {model["endpoint_id"]: kept(model) for model in served} == expected, category


def test_the_real_catalogue_lists_fals_error_objects(real_catalogue: RealCatalogue) -> None:
    by_category, urls = real_catalogue.by_category, real_catalogue.urls
    failed = {
        model["endpoint_id"]: model["openapi"]
        for models in by_category.values()
        for model in models
        if "error" in model["openapi"]
    }
    assert failed, "the catalogue has endpoints fal could not expand"

    answer = httpx.get(
        urls.models, params={"endpoint_id": list(failed), "expand": "openapi-3.0"}, timeout=30
    )

    assert {model["endpoint_id"]: model["openapi"] for model in answer.json()["models"]} == failed


def test_serving_a_folder_with_broken_specs_keeps_the_good_ones(tmp_path: Path) -> None:
    good = tmp_path / "owner" / "good.json"
    good.parent.mkdir()
    good.write_bytes(
        (Path(__file__).parents[2] / "specs" / "fal-ai" / "flux-1" / "schnell.json")
        .read_bytes()
        .replace(b"fal-ai/flux-1/schnell", b"owner/good")
    )
    (tmp_path / "owner" / "broken.json").write_text("{not json")

    loaded = load_served_specs(tmp_path)

    assert [spec.endpoint_id for spec in loaded.documents] == ["owner/good"]
    (broken,) = loaded.unavailable
    assert broken.endpoint_id == "owner/broken" and broken.document is None
    assert broken.problem.startswith("owner/broken.json: #")


def test_a_spec_linked_from_outside_the_folder_is_not_served(tmp_path: Path) -> None:
    """The server reads its folder as the generator does (see generator/reading.py)."""
    outside = tmp_path / "elsewhere.json"
    outside.write_bytes(
        (SPECS_DIR / "fal-ai" / "flux-1" / "schnell.json")
        .read_bytes()
        .replace(b"fal-ai/flux-1/schnell", b"owner/linked")
    )
    folder = tmp_path / "specs"
    (folder / "owner").mkdir(parents=True)
    (folder / "owner" / "linked.json").symlink_to(outside)

    loaded = load_served_specs(folder)

    assert loaded.documents == []
    (linked,) = loaded.unavailable
    assert linked.endpoint_id == "owner/linked" and linked.document is None
    assert "a link to outside the specs folder" in linked.problem
