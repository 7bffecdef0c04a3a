"""The seed specs are fal's published documents, exactly as ``falgen fetch`` writes them from the
catalogue (``../shared/catalog``, served by a local fixture), with the hidream-i1-full overlay
restoring the Output fal publishes empty; and the local server's catalogue gives them back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from generator.cli import main
from generator.fetch import SpecFetcher, Status, existing_endpoint_ids, refresh_specs
from generator.loader import load_specs
from generator.remote import Hosts
from generator.server import ServerConfig
from generator.server.process import server_process
from tests.helpers import SPECS
from tests.regen.support import SpecServer, shared_catalog

UNPUBLISHED = "fal-ai/recraft/v2/text-to-image"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_seed_specs_are_byte_for_byte_what_fetch_writes(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    ids = existing_endpoint_ids(specs)
    with SpecServer().running() as server:
        server.catalog = shared_catalog()
        results = refresh_specs(SpecFetcher(Hosts(server.base_url, server.base_url)), specs, ids)
    statuses = {result.endpoint_id: result.status for result in results}
    assert statuses.pop(UNPUBLISHED) is Status.UNPUBLISHED
    assert set(statuses.values()) == {Status.UNCHANGED}, results
    assert len(statuses) == 12
    assert _files(specs) == _files(SPECS)


def test_fetching_the_seeds_from_the_local_server_gives_them_back_byte_for_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The server lists each spec with its document as published (no overlay, no repairs, the
    catalogue entry as its metadata): a fetch from it changes nothing. The endpoint fal no
    longer publishes is not listed, so it is kept as it is."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS, specs)
    with server_process(SPECS, ServerConfig(queue_delay=0, progress_steps=0)) as urls:
        code = main(["fetch", "--all", "--specs", str(specs), "--base-url", urls.api])

    printed = capsys.readouterr().out
    assert code == 0, printed
    assert f"unpublished {UNPUBLISHED} (fal publishes it no longer: kept as it is)" in printed
    assert printed.endswith("0 added, 0 updated, 12 unchanged, 0 failed, 1 unpublished\n")
    assert _files(specs) == _files(SPECS)


def test_every_published_seed_carries_its_catalogue_entry() -> None:
    for spec in load_specs(SPECS):
        info = spec.document["info"]
        if spec.endpoint_id == UNPUBLISHED:  # fal has no entry for it: nothing of fal's is made up
            assert "x-fal-catalog" not in info and info["x-falgen-unpublished"] is True
            assert "no longer publishes" in info["x-falgen-note"]
            continue
        entry = info["x-fal-catalog"]
        assert entry["status"] == "active"
        assert entry["display_name"] and entry["description"] and entry["category"]
        assert not {"updated_at", "is_favorited", "highlighted", "pinned"} & entry.keys()


def test_our_annotations_that_still_mean_something_are_kept() -> None:
    capabilities = {
        spec.endpoint_id: spec.document["info"].get("x-falgen-capabilities")
        for spec in load_specs(SPECS)
    }
    assert capabilities["fal-ai/hidream-i1-full"] == ["streaming"]
    assert capabilities["fal-ai/hidream-i1-fast"] == ["streaming"]
    assert capabilities["fal-ai/fast-lcm-diffusion"] == ["realtime"]


def test_the_hidream_overlay_restores_the_output_fal_publishes_empty() -> None:
    published = json.loads((SPECS / "fal-ai" / "hidream-i1-full.json").read_text("utf-8"))
    assert published["components"]["schemas"]["HidreamI1FullOutput"] == {}
    [spec] = [spec for spec in load_specs(SPECS) if spec.endpoint_id == "fal-ai/hidream-i1-full"]
    output = spec.schemas[spec.output_schema]
    assert list(output["properties"]) == [
        "images",
        "timings",
        "seed",
        "has_nsfw_concepts",
        "prompt",
    ]
    assert output["properties"]["images"]["items"] == {"$ref": "#/components/schemas/Image"}
    assert spec.schemas["Image"]["required"] == ["url", "width", "height"]
