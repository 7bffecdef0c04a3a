"""Spec file helpers: canonical text, safe paths, atomic writes, carrying our annotations over."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from generator.specfile import (
    InvalidEndpointId,
    carry_over_extensions,
    endpoint_id_for,
    normalise,
    spec_path,
    write_atomically,
)
from tests.regen.support import base_spec, edited, prop, schemas


def test_normalise_is_sorted_indented_utf8_with_final_newline() -> None:
    text = normalise({"b": 1, "a": {"z": "é", "y": [1, 2]}})
    assert (
        text
        == '{\n  "a": {\n    "y": [\n      1,\n      2\n    ],\n    "z": "é"\n  },\n  "b": 1\n}\n'
    )


def test_normalise_matches_the_committed_fixture_format() -> None:
    fixture = Path(__file__).parent / "fixtures" / "widget.json"
    assert normalise(json.loads(fixture.read_text(encoding="utf-8"))) == fixture.read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("endpoint_id", "relative"),
    [
        ("fal-ai/flux-1/schnell", "fal-ai/flux-1/schnell.json"),
        ("fal-ai/stable-cascade", "fal-ai/stable-cascade.json"),
        ("fal-ai/flux-pro/v1.1-ultra", "fal-ai/flux-pro/v1.1-ultra.json"),
    ],
)
def test_spec_path_places_ids_under_the_folder(
    tmp_path: Path, endpoint_id: str, relative: str
) -> None:
    path = spec_path(tmp_path, endpoint_id)
    assert path == tmp_path / relative
    assert endpoint_id_for(tmp_path, path) == endpoint_id


@pytest.mark.parametrize(
    "endpoint_id",
    [
        "flux",  # no owner
        "../etc/passwd",
        "fal-ai/../../secret",
        "fal-ai/./x",
        "/fal-ai/flux",
        "fal-ai//flux",
        "fal-ai/flux/",
        "fal-ai\\flux",
        "fal ai/flux",
        "",
    ],
)
def test_spec_path_refuses_unsafe_ids(tmp_path: Path, endpoint_id: str) -> None:
    with pytest.raises(InvalidEndpointId):
        spec_path(tmp_path, endpoint_id)


def test_write_atomically_creates_folders_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "spec.json"
    write_atomically(target, "first\n")
    write_atomically(target, "second\n")
    assert target.read_text(encoding="utf-8") == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["spec.json"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_write_atomically_keeps_the_existing_mode(tmp_path: Path) -> None:
    target = tmp_path / "spec.json"
    target.write_text("old\n", encoding="utf-8")
    os.chmod(target, 0o664)
    write_atomically(target, "new\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o664


def test_write_atomically_cleans_up_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "spec.json"
    target.write_text("good\n", encoding="utf-8")

    def broken_replace(source: str, destination: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, "new\n")
    assert target.read_text(encoding="utf-8") == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["spec.json"]


# --------------------------------------------------------------------------------------------
# carry_over_extensions
# --------------------------------------------------------------------------------------------


def _annotated() -> dict[str, object]:
    """The base spec with our annotations in every kind of place."""

    def annotate(doc: dict[str, object]) -> None:
        info = doc["info"]
        assert isinstance(info, dict)
        info["x-falgen-capabilities"] = ["streaming"]
        info["x-falgen-summary"] = "Makes widgets."
        schemas(doc)["WidgetInput"]["x-falgen-note"] = "prompt marked required by convention"
        prop(doc, "WidgetOutput", "timings")["x-falgen-note"] = "type not shown on the page"
        prop(doc, "LoraWeight", "scale")["x-falgen-note"] = "range from the page text"
        prop(doc, "WidgetInput", "image_size")["anyOf"][1]["x-falgen-note"] = "presets"

    return edited(annotate)


def test_carry_over_restores_info_extensions_and_notes() -> None:
    old = _annotated()
    result = carry_over_extensions(old, base_spec())
    assert result.document == old
    assert result.dropped == []
    assert "#/info/x-falgen-capabilities" in result.kept
    assert "#/components/schemas/WidgetInput" in result.kept
    assert "#/components/schemas/WidgetOutput/properties/timings" in result.kept


def test_carry_over_does_not_modify_its_arguments() -> None:
    old, new = _annotated(), base_spec()
    old_copy, new_copy = json.dumps(old), json.dumps(new)
    carry_over_extensions(old, new)
    assert (json.dumps(old), json.dumps(new)) == (old_copy, new_copy)


def test_carry_over_never_overwrites_values_the_new_document_has() -> None:
    def fresher(doc: dict[str, object]) -> None:
        doc["info"]["x-falgen-summary"] = "Newer summary."  # type: ignore[index]
        prop(doc, "WidgetOutput", "timings")["x-falgen-note"] = "newer note"

    result = carry_over_extensions(_annotated(), edited(fresher))
    assert result.document["info"]["x-falgen-summary"] == "Newer summary."
    assert prop(result.document, "WidgetOutput", "timings")["x-falgen-note"] == "newer note"


def test_carry_over_follows_renamed_input_and_output_components() -> None:
    def rename(doc: dict[str, object]) -> None:
        text = json.dumps(doc).replace("WidgetInput", "TextToImageInput")
        doc.clear()
        doc.update(json.loads(text))

    result = carry_over_extensions(_annotated(), edited(rename))
    renamed = schemas(result.document)["TextToImageInput"]
    assert renamed["x-falgen-note"] == "prompt marked required by convention"
    assert result.dropped == []


def test_carry_over_reports_notes_whose_place_is_gone() -> None:
    def drop_timings_and_shorten_union(doc: dict[str, object]) -> None:
        del schemas(doc)["WidgetOutput"]["properties"]["timings"]
        prop(doc, "WidgetInput", "image_size")["anyOf"].append({"type": "null"})

    result = carry_over_extensions(_annotated(), edited(drop_timings_and_shorten_union))
    assert sorted(result.dropped) == [
        "#/components/schemas/WidgetInput/properties/image_size/anyOf/1",
        "#/components/schemas/WidgetOutput/properties/timings",
    ]
    assert "x-falgen-note" not in prop(result.document, "WidgetInput", "image_size")["anyOf"][1]


def test_carry_over_ignores_lookalike_keys_inside_data() -> None:
    def data_with_note(doc: dict[str, object]) -> None:
        prop(doc, "WidgetInput", "loras")["default"] = [{"x-falgen-note": "data, not ours"}]

    old = edited(data_with_note)
    result = carry_over_extensions(old, base_spec())
    assert result.kept == [] and result.dropped == []
    assert prop(result.document, "WidgetInput", "loras")["default"] == []


def test_carry_over_treats_property_names_that_look_like_keywords_as_names() -> None:
    def field_named_default(doc: dict[str, object]) -> None:
        schemas(doc)["Image"]["properties"]["default"] = {"type": "string", "x-falgen-note": "n"}

    old = edited(field_named_default)
    new = edited(lambda doc: schemas(doc)["Image"]["properties"].update(default={"type": "string"}))
    result = carry_over_extensions(old, new)
    assert schemas(result.document)["Image"]["properties"]["default"]["x-falgen-note"] == "n"
